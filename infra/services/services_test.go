package services

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/incident"
)

// The shipped default file deploys into an empty account: it names nothing
// outside the stack. The example file is the documented example: it parses,
// its services get checks, and it names what must exist.
func TestLoadShippedFiles(t *testing.T) {
	def, err := Load("../services.json")
	if err != nil {
		t.Fatalf("Load default: %v", err)
	}
	if got := def.OutsideResources(); len(got) != 0 {
		t.Errorf("default file: got outside resources %v, want none", got)
	}
	ex, err := Load("../services.example.json")
	if err != nil {
		t.Fatalf("Load example: %v", err)
	}
	if len(ex.Services) == 0 {
		t.Fatal("example: got no services, want the example services")
	}
	for _, s := range ex.Services {
		if len(s.EnabledChecks()) == 0 {
			t.Errorf("example service %s: got no checks", s.Name)
		}
	}
}

// What `cdk synth` prints for the example file: every log group, ECS
// service, load balancer, target group and function it names.
func TestOutsideResourcesOfTheExample(t *testing.T) {
	ex, err := Load("../services.example.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []Outside{
		{Kind: "ECS service", Name: "production/checkout", Service: "checkout"},
		{Kind: "load balancer", Name: "app/production-public/50dc6c495c0c9188", Service: "checkout"},
		{Kind: "target group", Name: "targetgroup/checkout/73e2d6bc24d8a067", Service: "checkout"},
		{Kind: "log group", Name: "/ecs/production/checkout", Service: "checkout"},
		{Kind: "log group", Name: "/aws/lambda/checkout-api", Service: "checkout"},
		{Kind: "Lambda function", Name: "payments-api", Service: "payments"},
		{Kind: "log group", Name: "/aws/lambda/payments-api", Service: "payments"},
	}
	got := ex.OutsideResources()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	var b strings.Builder
	if err := ReportOutside(&b, "infra/services.example.json", got); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"infra/services.example.json makes this stack reference 7 resources outside it; make sure they exist",
		"  - log group /aws/lambda/checkout-api (service checkout)\n",
		"  - Lambda function payments-api (service payments)\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("report: got\n%s\nwant a line %q", b.String(), line)
		}
	}
	b.Reset()
	if err := ReportOutside(&b, "infra/services.json", nil); err != nil || b.Len() != 0 {
		t.Errorf("report of none: got %q, %v; want nothing", b.String(), err)
	}
}

// A service's settings are PUT /services/{name}'s body, checked by the
// domain's rules when the file is read (so `cdk synth` fails, not the
// deploy), severities in their canonical form.
func TestServiceSettings(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    incident.ServiceConfig
		wantErr string
	}{
		{name: "none", give: `{"name": "web"}`, want: incident.ServiceConfig{Name: "web"}},
		{name: "all", give: `{"name": "web", "settings": {"policy": "web", "default_severity": "sev2", "auto_resolve": true,
			"paging_severities": ["SEV1", "sev2"], "alarms": ["legacy-web-*"], "report_threshold": 4,
			"report_window_minutes": 15, "report_severity": "SEV3"}}`,
			want: incident.ServiceConfig{Name: "web", Policy: "web", DefaultSeverity: incident.SEV2, AutoResolve: true,
				PagingSeverities: []incident.Severity{incident.SEV1, incident.SEV2}, Alarms: []string{"legacy-web-*"},
				ReportThreshold: 4, ReportWindowMinutes: 15, ReportSeverity: incident.SEV3}},
		{name: "bad severity", give: `{"name": "web", "settings": {"default_severity": "SEV9"}}`, wantErr: "service web: settings:"},
		{name: "bad threshold", give: `{"name": "web", "settings": {"report_threshold": -1}}`, wantErr: "report_threshold -1"},
		{name: "unknown field", give: `{"name": "web", "settings": {"polcy": "web"}}`, wantErr: `unknown field "polcy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(`{"services": [` + tt.give + `]}`))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Configs(); !reflect.DeepEqual(got, []incident.ServiceConfig{tt.want}) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	cfg, err := Parse([]byte(`{
		"services": [
			{"name": "checkout",
			 "ecs": {"cluster": "prod", "service": "checkout"},
			 "alb": {"load_balancer": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/pub/50dc",
			         "target_group": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout/73e2"},
			 "log_groups": [{"name": "/ecs/checkout"}],
			 "checks": {"cpu": {"threshold": 90, "severity": "sev2"}, "memory": {"disabled": true}}},
			{"name": "payments", "lambda": {"function_name": "payments"}}
		]}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := cfg.DefaultService, incident.DefaultServiceName; got != want {
		t.Errorf("DefaultService: got %q, want %q", got, want)
	}
	checkout, payments := cfg.Services[0], cfg.Services[1]
	if got, want := checkout.ALB.LoadBalancer, "app/pub/50dc"; got != want {
		t.Errorf("load balancer dimension: got %q, want %q", got, want)
	}
	if got, want := checkout.ALB.TargetGroup, "targetgroup/checkout/73e2"; got != want {
		t.Errorf("target group dimension: got %q, want %q", got, want)
	}
	if got, want := checkout.LogGroups[0].Format, LogFormatText; got != want {
		t.Errorf("log format: got %q, want %q", got, want)
	}

	tests := []struct {
		name    string
		service Service
		want    []Check
	}{
		{"ecs, alb and logs, memory disabled", checkout, []Check{CheckCPU, CheckLatencyP99, CheckErrorRate, CheckLogErrors}},
		{"lambda", payments, []Check{CheckLatencyP99, CheckErrorRate, CheckThrottles}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.service.EnabledChecks(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("EnabledChecks: got %v, want %v", got, tt.want)
			}
		})
	}

	if got, want := checkout.Settings(CheckCPU), (Settings{Threshold: 90, Severity: "SEV2", TreatMissingData: MissingMissing}); got != want {
		t.Errorf("Settings(cpu): got %+v, want %+v", got, want)
	}
	if got, want := payments.Settings(CheckErrorRate), Defaults[CheckErrorRate]; got != want {
		t.Errorf("Settings(error-rate): got %+v, want %+v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"unknown field", `{"services": [{"name": "a", "ecs": {"cluster": "c", "service": "s"}, "cheks": {}}]}`, `unknown field "cheks"`},
		{"bad name", `{"services": [{"name": "Checkout"}]}`, `service "Checkout" is not a valid name`},
		{"bad default service", `{"default_service": "no one", "services": []}`, "default_service"},
		{"duplicate name", `{"services": [{"name": "a"}, {"name": "a"}]}`, "listed twice"},
		{"alb and lambda", `{"services": [{"name": "a", "alb": {"load_balancer": "app/x/1"}, "lambda": {"function_name": "f"}}]}`, "split them"},
		{"bad load balancer", `{"services": [{"name": "a", "alb": {"load_balancer": "my-alb"}}]}`, "alb.load_balancer"},
		{"ecs incomplete", `{"services": [{"name": "a", "ecs": {"cluster": "c"}}]}`, "ecs: cluster and service"},
		{"unknown check", `{"services": [{"name": "a", "ecs": {"cluster": "c", "service": "s"}, "checks": {"disk": {}}}]}`, `unknown check "disk"`},
		{"check does not apply", `{"services": [{"name": "a", "lambda": {"function_name": "f"}, "checks": {"cpu": {}}}]}`, "checks.cpu: does not apply"},
		{"bad severity", `{"services": [{"name": "a", "lambda": {"function_name": "f"}, "checks": {"throttles": {"severity": "P1"}}}]}`, "severity: "},
		{"percent over 100", `{"services": [{"name": "a", "lambda": {"function_name": "f"}, "checks": {"error-rate": {"threshold": 150}}}]}`, "at most 100"},
		{"bad missing data", `{"services": [{"name": "a", "lambda": {"function_name": "f"}, "checks": {"throttles": {"treat_missing_data": "zero"}}}]}`, "treat_missing_data"},
		{"bad log format", `{"services": [{"name": "a", "log_groups": [{"name": "/x", "format": "xml"}]}]}`, `format "xml"`},
		{"every line and a pattern", `{"services": [{"name": "a", "log_groups": [{"name": "/x", "every_line": true, "subscription_pattern": "ERROR"}]}]}`, `every_line and subscription_pattern: set one of them`},
		{"shared log group", `{"services": [{"name": "a", "log_groups": [{"name": "/x"}]}, {"name": "b", "log_groups": [{"name": "/x"}]}]}`, "already belongs to service a"},
		{"shared deploy source", `{"services": [{"name": "a", "deploy_sources": [{"source": "acme/a"}]}, {"name": "b", "deploy_sources": [{"source": "acme/a"}]}]}`, "deploy source acme/a already belongs to service a"},
		{"empty deploy source", `{"services": [{"name": "a", "deploy_sources": [{"source": ""}]}]}`, "deploy_sources[0]: source must be"},
		{"bad deploy environment", `{"services": [{"name": "a", "deploy_sources": [{"source": "acme/a", "environment": "Prod"}]}]}`, `environment "Prod" is not a valid name`},
	}
	var many []string
	for i := range 100 {
		many = append(many, fmt.Sprintf(`{"name": "/aws/lambda/function-number-%d"}`, i))
	}
	tests = append(tests, struct{ name, give, want string }{"too many log groups",
		`{"services": [{"name": "a", "log_groups": [` + strings.Join(many, ",") + `]}]}`, "LOG_GROUP_SERVICES"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.give))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLogGroupServices(t *testing.T) {
	cfg, err := Parse([]byte(`{"services": [
		{"name": "a", "log_groups": [{"name": "/a/1"}, {"name": "/a/2"}]},
		{"name": "b", "log_groups": [{"name": "/b"}]}, {"name": "c"}]}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := map[string]string{"/a/1": "a", "/a/2": "a", "/b": "b"}
	if got := cfg.LogGroupServices(); !reflect.DeepEqual(got, want) {
		t.Errorf("LogGroupServices: got %v, want %v", got, want)
	}
}

func TestDeployServices(t *testing.T) {
	cfg, err := Parse([]byte(`{"services": [
		{"name": "a", "deploy_sources": [{"source": "a-pipeline"}, {"source": "acme/mono@a-staging", "environment": "staging"}]},
		{"name": "b", "deploy_sources": [{"source": "acme/b"}]}, {"name": "c"}]}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := map[string]DeployTarget{"a-pipeline": {Service: "a"}, "acme/mono@a-staging": {Service: "a", Environment: "staging"}, "acme/b": {Service: "b"}}
	if got := cfg.DeployServices(); !reflect.DeepEqual(got, want) {
		t.Errorf("DeployServices: got %v, want %v", got, want)
	}
}

func TestMarkers(t *testing.T) {
	if got, want := Markers("checkout", "SEV2"), "incidentd:service=checkout incidentd:severity=SEV2"; got != want {
		t.Errorf("Markers: got %q, want %q", got, want)
	}
}
