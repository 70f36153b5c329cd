package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/gobuild"
	"github.com/incidentd/incidentd/infra/services"
	"github.com/incidentd/incidentd/shared/customresource"
)

const seedFn = "SeedFunction"

// TestServicesFileResource: the ServicesFile custom resource is served by
// the seed function itself (no provider framework, no Node.js function),
// carries the file's name and its services' settings, and CloudFormation
// waits 10 minutes for it at most; the function's undeliverable answers
// land in its failure queue.
func TestServicesFileResource(t *testing.T) {
	testStack(t)
	fn := logicalID(t, "AWS::Lambda::Function", seedFn)
	cfg, err := services.Load(filepath.Join("testdata", "services.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := customresource.Properties("infra/testdata/services.json", cfg.Configs())
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for id, r := range synthesized.resources {
		if r["Type"] != "Custom::ServicesFile" {
			continue
		}
		found = append(found, id)
		p, _ := r["Properties"].(map[string]any)
		if got, want := asJSON(t, p["ServiceToken"]), asJSON(t, arnOf(fn)); got != want {
			t.Errorf("ServiceToken: got %s, want %s", got, want)
		}
		if p["ServiceTimeout"] != "600" && p["ServiceTimeout"] != 600.0 {
			t.Errorf("ServiceTimeout: got %v, want 600 seconds", p["ServiceTimeout"])
		}
		for _, k := range []string{customresource.PropertyFile, customresource.PropertyServices} {
			if p[k] != want[k] {
				t.Errorf("%s: got %v, want %v", k, p[k], want[k])
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("Custom::ServicesFile resources: got %v, want one", found)
	}
	// Retried, then into the failure queue like every asynchronous
	// function's (CloudFormation also fails the resource after its
	// ServiceTimeout).
	has(t, "AWS::Lambda::EventInvokeConfig", map[string]any{
		"FunctionName": ref(fn), "Qualifier": "$LATEST", "MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 1800,
		"DestinationConfig": map[string]any{"OnFailure": map[string]any{
			"Destination": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue))}},
	})
	// Nothing else in the template is a custom resource: no CDK provider
	// framework and no AwsCustomResource, whose functions are Node.js.
	for id, r := range synthesized.resources {
		typ, _ := r["Type"].(string)
		if (strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource") && typ != "Custom::ServicesFile" {
			t.Errorf("%s: a custom resource of type %s", id, typ)
		}
		if typ == "AWS::Lambda::Function" {
			if rt, _ := properties(id)["Runtime"].(string); rt != "provided.al2023" {
				t.Errorf("function %s: runtime %q, want provided.al2023", id, rt)
			}
		}
	}
}

// defaultSynth is the stack as `cdk synth` makes it with the default
// configuration (infra/services.json), synthesized once.
var defaultSynth struct {
	once      sync.Once
	resources map[string]map[string]any
	err       error
}

func defaultStack(t *testing.T) map[string]map[string]any {
	t.Helper()
	s := &defaultSynth
	s.once.Do(func() {
		root, err := gobuild.ModuleRoot(".")
		if err != nil {
			s.err = err
			return
		}
		ctx, err := cdkContext(filepath.Join(root, "cdk.json"))
		if err != nil {
			s.err = err
			return
		}
		ctx["aws:cdk:bundling-stacks"] = []string{}
		cfg, err := services.Load(filepath.Join(root, filepath.FromSlash(DefaultServicesFile)))
		if err != nil {
			s.err = err
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
		stack := NewStack(app, "Default", &StackProps{
			StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}},
			ModuleRoot: root, Services: cfg, ServicesFile: DefaultServicesFile,
			LogLevel: "info", ReopenWindow: "30m", PagingConcurrency: DefaultPagingConcurrency,
		})
		b, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
		if err != nil {
			s.err = err
			return
		}
		var tpl struct {
			Resources map[string]map[string]any `json:"Resources"`
		}
		s.err = json.Unmarshal(b, &tpl)
		s.resources = tpl.Resources
	})
	if s.err != nil {
		t.Fatalf("synthesize the default stack: %v", s.err)
	}
	return s.resources
}

// outsideDimensions are the alarm dimensions that name a resource: a log
// group, an ECS cluster or service, a load balancer or target group, a
// function, a queue, a state machine, an API, a table.
var outsideDimensions = []string{"LogGroupName", "ClusterName", "ServiceName", "LoadBalancer", "TargetGroup",
	"FunctionName", "Resource", "QueueName", "StateMachineArn", "ApiId", "TableName"}

// outsideReferences walks a template and lists every reference to a log
// group, ECS service, load balancer, target group or function that is not a
// Ref or Fn::GetAtt of a resource of the template: alarm dimensions (of the
// alarm's metric and of its metric math), the log groups of metric and
// subscription filters, the functions of permissions, invoke configs and
// event source mappings, and the log groups whose permission lets CloudWatch
// Logs invoke a function.
func outsideReferences(resources map[string]map[string]any) []string {
	var out []string
	inStack := func(v any) bool {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if id, ok := m["Ref"].(string); ok {
			_, found := resources[id]
			return found
		}
		if att, ok := m["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			_, found := resources[fmt.Sprint(att[0])]
			return found
		}
		return false
	}
	for id, r := range resources {
		p, _ := r["Properties"].(map[string]any)
		switch r["Type"] {
		case "AWS::CloudWatch::Alarm":
			dims := []any{}
			if d, ok := p["Dimensions"].([]any); ok {
				dims = append(dims, d...)
			}
			metrics, _ := p["Metrics"].([]any)
			for _, m := range metrics {
				stat, _ := m.(map[string]any)["MetricStat"].(map[string]any)
				metric, _ := stat["Metric"].(map[string]any)
				if d, ok := metric["Dimensions"].([]any); ok {
					dims = append(dims, d...)
				}
			}
			for _, d := range dims {
				dim, _ := d.(map[string]any)
				name, _ := dim["Name"].(string)
				if slices.Contains(outsideDimensions, name) && !inStack(dim["Value"]) {
					out = append(out, fmt.Sprintf("alarm %s: dimension %s = %v", id, name, dim["Value"]))
				}
			}
		case "AWS::Logs::MetricFilter", "AWS::Logs::SubscriptionFilter":
			if !inStack(p["LogGroupName"]) {
				out = append(out, fmt.Sprintf("%s %s: log group %v", r["Type"], id, p["LogGroupName"]))
			}
		case "AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping":
			if !inStack(p["FunctionName"]) {
				out = append(out, fmt.Sprintf("%s %s: function %v", r["Type"], id, p["FunctionName"]))
			}
			if p["Principal"] == "logs.amazonaws.com" {
				out = append(out, fmt.Sprintf("%s %s: CloudWatch Logs of %v may invoke", r["Type"], id, p["SourceArn"]))
			}
		}
	}
	slices.Sort(out)
	return out
}

// The Done-when of a first deploy: with the default configuration the
// template references no log group, ECS service, load balancer or function
// outside the stack, so it deploys into an empty account. The same walk
// finds the test file's outside resources (so it can see them).
func TestDefaultStackReferencesNothingOutside(t *testing.T) {
	if got := outsideReferences(defaultStack(t)); len(got) != 0 {
		t.Errorf("default stack: got references outside the stack\n  %s\nwant none", strings.Join(got, "\n  "))
	}
	testStack(t)
	got := strings.Join(outsideReferences(synthesized.resources), "\n")
	for _, want := range []string{
		"log group /ecs/production/checkout", "log group /aws/lambda/payments-api",
		"dimension FunctionName = payments-api", "dimension ClusterName = production", "dimension ServiceName = checkout",
		"dimension LoadBalancer = app/storefront/0123456789abcdef", "dimension TargetGroup = targetgroup/checkout/73e2d6bc24d8a067",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("test stack: got outside references\n%s\nwant one with %q", got, want)
		}
	}
}

// The default stack still has everything of the platform: the functions, the
// table, the custom resource (with no services), and no service alarms, log
// filters or DORA dashboard (off unless -c doraDashboard=true).
func TestDefaultStackCounts(t *testing.T) {
	got := map[string]int{}
	for _, r := range defaultStack(t) {
		got[r["Type"].(string)]++
	}
	want := map[string]int{
		"AWS::Lambda::Function":         13,
		"AWS::Logs::MetricFilter":       0,
		"AWS::Logs::SubscriptionFilter": 0,
		"AWS::CloudWatch::Alarm":        9, // self-monitoring alone (monitoring_test.go)
		"AWS::CloudWatch::Dashboard":    0, // the DORA dashboard is off by default (context doraDashboard)
		"Custom::ServicesFile":          1,
		"AWS::DynamoDB::Table":          1,
	}
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: got %d, want %d", typ, got[typ], n)
		}
	}
}
