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
