package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/gobuild"
	"github.com/incidentd/incidentd/infra/services"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func TestMain(m *testing.M) {
	// dynamotest.Run stops the DynamoDB Local the state machine tests
	// (sfn_test.go) start, if they ran.
	code := dynamotest.Run(m)
	jsii.Close()
	os.Exit(code)
}

const (
	testAccount = "123456789012"
	testRegion  = "eu-west-1"
)

// synthesized is the test stack, synthesized once for all tests: a synth takes
// seconds and the tests only read it.
var synthesized struct {
	once        sync.Once
	template    assertions.Template
	annotations assertions.Annotations
	resources   map[string]map[string]any
	outputs     map[string]any
	// json is the template as CloudFormation JSON (for asl.Resolve).
	json []byte
	err  error
}

// testStack synthesizes the stack as `cdk synth` would (cdk.json's context,
// cdk-nag applied), from testdata/services.json, in a fixed account and region,
// with tracing and public reports on so that every optional part is present.
//
// Nothing is compiled: the context "aws:cdk:bundling-stacks" names no stack, so
// CDK skips the Go builds (the CLI does the same for `cdk list`) and the assets
// get placeholder hashes. The tests need neither functions/ nor network.
func testStack(t testing.TB) assertions.Template {
	t.Helper()
	s := &synthesized
	s.once.Do(func() { s.err = synthesize() })
	if s.err != nil {
		t.Fatalf("synthesize test stack: %v", s.err)
	}
	return s.template
}

func synthesize() error {
	s := &synthesized
	root, err := gobuild.ModuleRoot(".")
	if err != nil {
		return err
	}
	ctx, err := cdkContext(filepath.Join(root, "cdk.json"))
	if err != nil {
		return err
	}
	ctx["aws:cdk:bundling-stacks"] = []string{}
	cfg, err := services.Load(filepath.Join("testdata", "services.json"))
	if err != nil {
		return err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	stack := NewStack(app, "Test", &StackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{
			Account: jsii.String(testAccount),
			Region:  jsii.String(testRegion),
		}},
		ModuleRoot:    root,
		ServicesFile:  "infra/testdata/services.json",
		Services:      cfg,
		LogLevel:      "info",
		ReopenWindow:  "45m",
		Tracing:       true,
		PublicReports: true,
		// -c doraDashboard=true (TestDORADashboard); the default stack
		// has none (TestDefaultStackCounts).
		DORADashboard: true,
		FallbackUser:  "duty-manager",
		Stakeholders:  "U01STAKE,U02HOLDER",
		// 0 (none) is tested apart (TestNoReservedConcurrency).
		PagingConcurrency: DefaultPagingConcurrency,
	})
	Check(app)
	s.template = assertions.Template_FromStack(stack, nil)
	s.annotations = assertions.Annotations_FromStack(stack)

	// The template as plain JSON, for lookups by logical id and for counting.
	b, err := json.Marshal(s.template.ToJSON())
	if err != nil {
		return fmt.Errorf("template to JSON: %w", err)
	}
	var tpl struct {
		Resources map[string]map[string]any `json:"Resources"`
		Outputs   map[string]any            `json:"Outputs"`
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		return fmt.Errorf("decode template: %w", err)
	}
	s.resources, s.outputs, s.json = tpl.Resources, tpl.Outputs, b
	return nil
}

// cdkContext reads the context of cdk.json, so that the tests synthesize with the
// same feature flags as the CLI.
func cdkContext(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.Context == nil {
		cfg.Context = map[string]any{}
	}
	return cfg.Context, nil
}

// has asserts that a resource of type typ has (at least) props. An assertion
// failure is a JavaScript error, which jsii raises as a panic; turn it into a
// test error so that one failure does not end the run.
func has(t *testing.T, typ string, props map[string]any) {
	t.Helper()
	tpl := testStack(t)
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", typ, r)
		}
	}()
	tpl.HasResourceProperties(jsii.String(typ), props)
}

// hasResource is has for the whole resource (DeletionPolicy, DependsOn, ...).
func hasResource(t *testing.T, typ string, resource map[string]any) {
	t.Helper()
	tpl := testStack(t)
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", typ, r)
		}
	}()
	tpl.HasResource(jsii.String(typ), resource)
}

// hasID asserts that the resource with logical id id, of type typ, has (at
// least) props.
func hasID(t *testing.T, typ, id string, props map[string]any) {
	t.Helper()
	tpl := testStack(t)
	found := tpl.FindResources(jsii.String(typ), map[string]any{"Properties": like(props)})
	if _, ok := (*found)[id]; !ok {
		t.Errorf("%s %s: properties %s do not match %s", typ, id, asJSON(t, properties(id)), asJSON(t, props))
	}
}

// logicalID finds the one resource of type typ that construct path parts name,
// e.g. "DetectionAlarmsFunction" for Detection/AlarmsFunction/Function.
func logicalID(t testing.TB, typ, prefix string) string {
	t.Helper()
	testStack(t)
	re := regexp.MustCompile("^" + prefix + "[0-9A-F]{8}$")
	var ids []string
	for id, r := range synthesized.resources {
		if r["Type"] == typ && re.MatchString(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("resources %s named %s*: got %v, want exactly one", typ, prefix, ids)
	}
	return ids[0]
}

func ref(id string) map[string]any   { return map[string]any{"Ref": id} }
func arnOf(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }
func like(p map[string]any) any      { return assertions.Match_ObjectLike(&p) }
func arrayWith(items ...any) any     { return assertions.Match_ArrayWith(&items) }
func matches(pattern string) any     { return assertions.Match_StringLikeRegexp(jsii.String(pattern)) }
func absent() any                    { return assertions.Match_Absent() }

// properties are the Properties of the resource with logical id id.
func properties(id string) map[string]any {
	p, _ := synthesized.resources[id]["Properties"].(map[string]any)
	return p
}

// Logical id prefixes. A function's construct (e.g. Detection/AlarmsFunction)
// prefixes its parts: <prefix>Role, <prefix>Logs; the Lambda
// function itself (.../Function) is <prefix> alone, as CDK drops a path
// component its parent already ends with.
const (
	alarmsFn = "DetectionAlarmsFunction"
	logsFn   = "DetectionLogsFunction"
	apiFn    = "ApiApiFunction"
	webFn    = "ApiWebFunction"
	ingestFn = "ApiIngestFunction"
	table    = "StorageTable"
	topic    = "DetectionAlarmTopic"

	escalateFn   = "EscalationEscalateFunction"
	warroomFn    = "EscalationWarRoomFunction"
	streamFn     = "EscalationStreamFunction"
	watchdogFn   = "EscalationWatchdogFunction"
	stateMachine = "EscalationStateMachine"
	pagingTopic  = "EscalationPagingTopic"
	eventsTopic  = "EscalationIncidentEventsTopic"
	topicKey     = "TopicKey"
	slackSecret  = "EscalationSlackSecret"

	deploysFn = "DeploysDeploysFunction"
	// The stack's one failure queue (infra/dlq).
	failuresQueue = "Failures"

	doraFn = "DoraJobFunction"
	// The post-mortems (postmortems_test.go).
	postmortemFn     = "PostmortemsFunction"
	postmortemBucket = "PostmortemsBucket"
)

// TestResourceCounts fails when the stack gains or loses a resource (or a type),
// so a new resource comes with a test of its properties in the same change. The
// counts follow testdata/services.json: 3 services, 10 checks, 4 log groups... see
// the comments.
func TestResourceCounts(t *testing.T) {
	testStack(t)
	want := map[string]int{
		"AWS::DynamoDB::Table":             1,
		"AWS::KMS::Key":                    1,  // one for the four topics (TestTopicKey)
		"AWS::SNS::Topic":                  4,  // AlarmTopic, PagingTopic, IncidentEventsTopic, OpsTopic
		"AWS::SNS::TopicPolicy":            4,  // TLS only (+ CloudWatch alarms on AlarmTopic, OpsTopic)
		"AWS::SNS::Subscription":           2,  // AlarmTopic → alarms, IncidentEventsTopic → postmortem
		"AWS::Lambda::Function":            13, // alarms, logs, api, web, ingest, escalate, warroom, stream, watchdog, deploys, dora, postmortem, seed
		"AWS::IAM::Role":                   14, // one per function, the state machine's
		"AWS::IAM::Policy":                 14,
		"AWS::Logs::LogGroup":              15, // one per function, API access logs, state machine
		"AWS::Lambda::EventInvokeConfig":   7,  // alarms, logs, watchdog, deploys, dora, postmortem (to the failure queue), seed (retries alone)
		"AWS::Lambda::EventSourceMapping":  2,  // the table's stream → stream: escalations, fan-out
		"AWS::SQS::Queue":                  1,  // the failure queue of every source (TestFailureQueue)
		"AWS::SQS::QueuePolicy":            1,  // TLS only, AlarmTopic and the three rules may send
		"AWS::Events::Rule":                5,  // alarm state changes, the watchdog's and the DORA job's schedules, CodePipeline and CodeDeploy state changes
		"AWS::CloudWatch::Alarm":           19, // checkout 5, payments 3, storefront 2; self-monitoring 9 (monitoring_test.go)
		"AWS::Logs::MetricFilter":          3,  // one per service log group
		"AWS::Logs::SubscriptionFilter":    3,
		"AWS::Lambda::Permission":          25, // SNS (alarms, postmortem), EventBridge (alarms, the watchdog's and the DORA job's schedules, the 2 deploy rules), alarm action, 3 log groups, API Gateway ($default, and each route of httpapi.Routes: 13)
		"AWS::ApiGatewayV2::Api":           1,
		"AWS::ApiGatewayV2::Route":         14, // $default, and each of httpapi.Routes (TestRoutesOfTheTable)
		"AWS::ApiGatewayV2::Integration":   3,  // the api's, the web function's, the ingest function's
		"AWS::ApiGatewayV2::Stage":         1,
		"AWS::SecretsManager::Secret":      1, // the Slack app's bot token and signing secret, the GitHub webhook's secret
		"AWS::StepFunctions::StateMachine": 1, // escalation
		"AWS::CloudWatch::Dashboard":       1, // the DORA metrics (-c doraDashboard=true; none by default: TestDefaultStackCounts)
		"AWS::S3::Bucket":                  1, // post-mortems (postmortems_test.go)
		"AWS::S3::BucketPolicy":            1, // TLS only
		"Custom::ServicesFile":             1, // the services file's services into the table at deploy (seed_test.go)
	}
	got := map[string]int{}
	for _, r := range synthesized.resources {
		got[r["Type"].(string)]++
	}
	types := map[string]bool{}
	for k := range got {
		types[k] = true
	}
	for k := range want {
		types[k] = true
	}
	var sorted []string
	for k := range types {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, typ := range sorted {
		if got[typ] != want[typ] {
			t.Errorf("%s: got %d, want %d", typ, got[typ], want[typ])
		}
	}
}

func TestOutputs(t *testing.T) {
	testStack(t)
	tests := []struct {
		name string
		want any
	}{
		{"ApiUrl", map[string]any{"Fn::Join": []any{"", []any{"https://", ref(logicalID(t, "AWS::ApiGatewayV2::Api", "ApiHttpApi")),
			".execute-api." + testRegion + ".", ref("AWS::URLSuffix"), "/"}}}},
		{"AlarmTopicArn", ref(logicalID(t, "AWS::SNS::Topic", topic))},
		{"AlarmsFunctionArn", arnOf(logicalID(t, "AWS::Lambda::Function", alarmsFn))},
		{"TableName", ref(logicalID(t, "AWS::DynamoDB::Table", table))},
		{"EscalationStateMachineArn", ref(logicalID(t, "AWS::StepFunctions::StateMachine", stateMachine))},
		{"PagingTopicArn", ref(logicalID(t, "AWS::SNS::Topic", pagingTopic))},
		{"IncidentEventsTopicArn", ref(logicalID(t, "AWS::SNS::Topic", eventsTopic))},
		{"SlackSecretArn", ref(logicalID(t, "AWS::SecretsManager::Secret", slackSecret))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok := synthesized.outputs[tt.name].(map[string]any)
			if !ok {
				t.Fatalf("output %s: missing", tt.name)
			}
			if got, want := asJSON(t, out["Value"]), asJSON(t, tt.want); got != want {
				t.Errorf("output %s: got %s, want %s", tt.name, got, want)
			}
		})
	}
}

// asJSON renders v canonically (sorted keys), to compare template fragments.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return string(b)
}
