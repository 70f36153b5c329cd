package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/api"
	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/gobuild"
	"github.com/incidentd/incidentd/shared/httpapi"
)

func TestHttpAPI(t *testing.T) {
	testStack(t)
	apiID := logicalID(t, "AWS::ApiGatewayV2::Api", "ApiHttpApi")
	integration := logicalID(t, "AWS::ApiGatewayV2::Integration", "ApiHttpApiDefaultRouteApiFunction")
	hasID(t, "AWS::ApiGatewayV2::Api", apiID, map[string]any{"ProtocolType": "HTTP"})
	hasID(t, "AWS::ApiGatewayV2::Integration", integration, map[string]any{
		"ApiId":                ref(apiID),
		"IntegrationType":      "AWS_PROXY",
		"IntegrationUri":       arnOf(logicalID(t, "AWS::Lambda::Function", apiFn)),
		"PayloadFormatVersion": "2.0",
	})
	has(t, "AWS::ApiGatewayV2::Route", map[string]any{
		"ApiId":             ref(apiID),
		"RouteKey":          "$default",
		"AuthorizationType": "NONE", // the api function checks tokens; see package api
		"Target":            map[string]any{"Fn::Join": []any{"", []any{"integrations/", ref(integration)}}},
	})
	has(t, "AWS::ApiGatewayV2::Stage", map[string]any{
		"ApiId":      ref(apiID),
		"StageName":  "$default",
		"AutoDeploy": true,
		"DefaultRouteSettings": map[string]any{
			"ThrottlingRateLimit":  api.DefaultRateLimit,
			"ThrottlingBurstLimit": api.DefaultBurstLimit,
		},
		"AccessLogSettings": map[string]any{
			"DestinationArn": arnOf(logicalID(t, "AWS::Logs::LogGroup", "ApiAccessLogs")),
			"Format":         api.AccessLogFormat,
		},
	})
	hasID(t, "AWS::Logs::LogGroup", logicalID(t, "AWS::Logs::LogGroup", "ApiAccessLogs"), map[string]any{"RetentionInDays": 90})
}

// Every route of httpapi.Routes is an API Gateway route of its own, whose
// integration invokes the function the table names (payload 2.0); the api
// keeps $default.
func TestRoutesOfTheTable(t *testing.T) {
	testStack(t)
	apiID := logicalID(t, "AWS::ApiGatewayV2::Api", "ApiHttpApi")
	fnPrefix := map[string]string{httpapi.FunctionWeb: webFn, httpapi.FunctionIngest: ingestFn}
	integrations := map[string]string{} // by target "integrations/<id>"
	for id, r := range synthesized.resources {
		if r["Type"] != "AWS::ApiGatewayV2::Integration" {
			continue
		}
		p, _ := r["Properties"].(map[string]any)
		uri, _ := json.Marshal(p["IntegrationUri"])
		integrations[id] = string(uri)
		if p["PayloadFormatVersion"] != "2.0" {
			t.Errorf("integration %s: got payload format %v, want 2.0", id, p["PayloadFormatVersion"])
		}
	}
	routes := map[string]string{} // route key → integration id
	for _, r := range synthesized.resources {
		if r["Type"] != "AWS::ApiGatewayV2::Route" {
			continue
		}
		p, _ := r["Properties"].(map[string]any)
		target, _ := json.Marshal(p["Target"])
		for id := range integrations {
			if strings.Contains(string(target), `"`+id+`"`) {
				routes[p["RouteKey"].(string)] = id
			}
		}
		if got, _ := json.Marshal(p["ApiId"]); string(got) != `{"Ref":"`+apiID+`"}` {
			t.Errorf("route %v: got ApiId %s, want the HTTP API's", p["RouteKey"], got)
		}
	}
	for _, r := range httpapi.Routes() {
		method, path := api.RouteKey(r.Pattern)
		key := method + " " + path
		in, ok := routes[key]
		if !ok {
			t.Errorf("route %s (%s): not in the template", key, r.Function)
			continue
		}
		want, _ := json.Marshal(arnOf(logicalID(t, "AWS::Lambda::Function", fnPrefix[r.Function])))
		if integrations[in] != string(want) {
			t.Errorf("route %s: got integration %s invoking %s, want %s (function %s)", key, in, integrations[in], want, r.Function)
		}
	}
	if len(routes) != len(httpapi.Routes())+1 {
		t.Errorf("got routes %v, want $default and one per route of httpapi.Routes (%d)", routes, len(httpapi.Routes()))
	}
}

func TestAccessLogFormatIsJSON(t *testing.T) {
	var fields map[string]string
	if err := json.Unmarshal([]byte(api.AccessLogFormat), &fields); err != nil {
		t.Fatalf("access log format is not a JSON object: %v", err)
	}
	for _, key := range []string{"request_id", "status", "route_key", "integration_error"} {
		if fields[key] == "" {
			t.Errorf("access log field %s: missing", key)
		}
	}
	if _, ok := fields["authorization"]; ok {
		t.Error("access log has an authorization field: it would log bearer tokens")
	}
	// An acknowledge link's path is its token: the route key names the
	// route without it.
	for k, v := range fields {
		if strings.Contains(v, "$context.path") {
			t.Errorf("access log field %s logs the path (%s): it would log acknowledge links", k, v)
		}
	}
}

// TestApiRoleSubscriptionActionsPassNag runs cdk-nag on the api construct
// alone, without tracing: the test stack traces, and the X-Ray suppression of
// every function role (Resource::*) would hide a missing suppression of the
// subscription actions on Resource "*".
func TestApiRoleSubscriptionActionsPassNag(t *testing.T) {
	root, err := gobuild.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	stack := awscdk.NewStack(app, jsii.String("ApiOnly"), nil)
	api.New(stack, "Api", api.Props{
		Functions: function.Shared{ModuleRoot: root, Environment: map[string]*string{}, LogLevel: "info"},
		// A bare topic: cdk-nag flags it (AwsSolutions-SNS3), which shows it ran.
		PagingTopic: awssns.NewTopic(stack, jsii.String("PagingTopic"), &awssns.TopicProps{}),
	})
	Check(app)
	found := 0
	for _, find := range []func(*string, any) *[]*cxapi.SynthesisMessage{
		assertions.Annotations_FromStack(stack).FindError,
		assertions.Annotations_FromStack(stack).FindWarning,
	} {
		for _, m := range *find(jsii.String("*"), awsSolutions) {
			if strings.Contains(*m.Id, "/Api/ApiFunction/Role") {
				t.Errorf("cdk-nag at %s: %v", *m.Id, m.Entry.Data)
			}
			found++
		}
	}
	if found == 0 {
		t.Errorf("cdk-nag found nothing in the stack, not even AwsSolutions-SNS3 on its bare topic: did it run?")
	}
}
