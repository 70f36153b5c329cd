package main

import (
	"encoding/json"
	"testing"

	"github.com/incidentd/incidentd/infra/api"
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
