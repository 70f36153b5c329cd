package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/infra/asl"
	"github.com/incidentd/incidentd/infra/gobuild"
)

// TestEscalationTopics checks that pages and lifecycle events are encrypted
// with the stack's topic key, published over TLS only, and that the key's
// policy names the escalate and stream functions, which publish to them.
func TestEscalationTopics(t *testing.T) {
	testStack(t)
	for _, prefix := range []string{pagingTopic, eventsTopic} {
		t.Run(prefix, func(t *testing.T) {
			key := logicalID(t, "AWS::KMS::Key", topicKey)
			id := logicalID(t, "AWS::SNS::Topic", prefix)
			hasID(t, "AWS::SNS::Topic", id, map[string]any{"KmsMasterKeyId": arnOf(key)})
			hasID(t, "AWS::KMS::Key", key, map[string]any{"EnableKeyRotation": true})
			has(t, "AWS::SNS::TopicPolicy", map[string]any{
				"Topics": []any{ref(id)},
				"PolicyDocument": like(map[string]any{"Statement": []any{map[string]any{
					"Sid":       "AllowPublishThroughSSLOnly",
					"Effect":    "Deny",
					"Principal": "*",
					"Action":    "sns:Publish",
					"Resource":  ref(id),
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}}}),
			})
		})
	}
	accountRoot := map[string]any{"Action": "kms:*", "Effect": "Allow",
		"Principal": map[string]any{"AWS": "arn:aws:iam::" + testAccount + ":root"}, "Resource": "*"}
	// escalate publishes pages, stream lifecycle events.
	hasID(t, "AWS::KMS::Key", logicalID(t, "AWS::KMS::Key", topicKey), map[string]any{
		"KeyPolicy": like(map[string]any{"Statement": arrayWith(accountRoot, map[string]any{
			"Sid":       "AllowEscalateFunctionToPublish",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": arnOf(logicalID(t, "AWS::IAM::Role", escalateFn+"Role"))},
			"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey*"},
			"Resource":  "*",
		}, map[string]any{
			"Sid":       "AllowStreamFunctionToPublish",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": arnOf(logicalID(t, "AWS::IAM::Role", streamFn+"Role"))},
			"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey*"},
			"Resource":  "*",
		})}),
	})
}

// TestSlackSecret checks the secret starts with an empty bot token (no Slack)
// and a random signing secret (no request verifies until the real one is set).
func TestSlackSecret(t *testing.T) {
	testStack(t)
	hasID(t, "AWS::SecretsManager::Secret", logicalID(t, "AWS::SecretsManager::Secret", slackSecret), map[string]any{
		"GenerateSecretString": map[string]any{
			"SecretStringTemplate": `{"bot_token":""}`,
			"GenerateStringKey":    "signing_secret",
			"ExcludePunctuation":   true,
			"PasswordLength":       32,
		},
		"KmsKeyId":     absent(),
		"SecretString": absent(),
	})
}

func TestStateMachine(t *testing.T) {
	testStack(t)
	id := logicalID(t, "AWS::StepFunctions::StateMachine", stateMachine)
	role := logicalID(t, "AWS::IAM::Role", stateMachine+"Role")
	hasID(t, "AWS::StepFunctions::StateMachine", id, map[string]any{
		"StateMachineType": "STANDARD",
		"RoleArn":          arnOf(role),
		"LoggingConfiguration": map[string]any{
			"Destinations": []any{map[string]any{"CloudWatchLogsLogGroup": map[string]any{
				"LogGroupArn": arnOf(logicalID(t, "AWS::Logs::LogGroup", stateMachine+"Logs")),
			}}},
			"IncludeExecutionData": false,
			"Level":                "ERROR",
		},
		"TracingConfiguration": map[string]any{"Enabled": true}, // the test stack traces
	})
	hasID(t, "AWS::Logs::LogGroup", logicalID(t, "AWS::Logs::LogGroup", stateMachine+"Logs"), map[string]any{"RetentionInDays": 30})
	hasID(t, "AWS::IAM::Role", role, map[string]any{
		"AssumeRolePolicyDocument": like(map[string]any{"Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow",
			"Principal": map[string]any{"Service": "states.amazonaws.com"},
		}}}),
		"ManagedPolicyArns": absent(),
	})
	escalate := arnOf(logicalID(t, "AWS::Lambda::Function", escalateFn))
	warroom := arnOf(logicalID(t, "AWS::Lambda::Function", warroomFn))
	versions := func(fn any) any { return map[string]any{"Fn::Join": []any{"", []any{fn, ":*"}}} }
	hasID(t, "AWS::IAM::Policy", logicalID(t, "AWS::IAM::Policy", stateMachine+"RoleDefaultPolicy"), map[string]any{
		"Roles": []any{ref(role)},
		"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
			// The two task functions, nothing else.
			map[string]any{"Action": "lambda:InvokeFunction", "Effect": "Allow",
				"Resource": []any{escalate, warroom, versions(escalate), versions(warroom)}},
			// Log delivery and X-Ray take no resource.
			map[string]any{"Action": []any{"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
				"logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
				"logs:UpdateLogDelivery", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords",
				"xray:PutTraceSegments"}, "Effect": "Allow", "Resource": "*"},
		}},
	})
}

// definition is the state machine's ASL as the local runner and asl-validator
// see it: references replaced by asl's placeholders.
func definition(t testing.TB) []byte {
	t.Helper()
	testStack(t)
	def, err := asl.Resolve(synthesized.json, logicalID(t, "AWS::StepFunctions::StateMachine", stateMachine))
	if err != nil {
		t.Fatalf("resolve the state machine definition: %v", err)
	}
	return def
}

type retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds"`
	MaxAttempts     int      `json:"MaxAttempts"`
	BackoffRate     float64  `json:"BackoffRate"`
}

type state struct {
	Type        string         `json:"Type"`
	Resource    string         `json:"Resource"`
	Parameters  map[string]any `json:"Parameters"`
	ResultPath  *string        `json:"ResultPath"`
	OutputPath  *string        `json:"OutputPath"`
	Next        string         `json:"Next"`
	End         bool           `json:"End"`
	SecondsPath string         `json:"SecondsPath"`
	Seconds     *float64       `json:"Seconds"`
	Retry       []retrier      `json:"Retry"`
	Catch       []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		ResultPath  string   `json:"ResultPath"`
		Next        string   `json:"Next"`
	} `json:"Catch"`
	Choices []map[string]any `json:"Choices"`
	Default string           `json:"Default"`
}

var lambdaServiceErrors = []string{"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
	"Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}

// TestStateMachineDefinition checks the escalation loop of infra/README.md's "Escalation": the
// first page first (FirstPage), then the war room, whose failure never blocks
// paging, once; the page steps' output drives the loop (done, wait_seconds)
// and is the next PageLevel's input.
func TestStateMachineDefinition(t *testing.T) {
	var def struct {
		StartAt       string           `json:"StartAt"`
		QueryLanguage string           `json:"QueryLanguage"`
		States        map[string]state `json:"States"`
	}
	raw := definition(t)
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatalf("decode definition %s: %v", raw, err)
	}
	if def.StartAt != "FirstPage" || def.QueryLanguage != "JSONPath" {
		t.Errorf("StartAt %q, QueryLanguage %q: want FirstPage, JSONPath", def.StartAt, def.QueryLanguage)
	}
	var names []string
	for name := range def.States {
		names = append(names, name)
	}
	if got, want := strings.Join(slices.Sorted(slices.Values(names)), ","), "Done?,Escalated,FirstPage,OpenWarRoom,PageLevel,RetryFirstPage,RetryLater,Wait"; got != want {
		t.Fatalf("states: got %s, want %s", got, want)
	}
	str := func(p *string) string {
		if p == nil {
			return "<none>"
		}
		return *p
	}

	open := def.States["OpenWarRoom"]
	if open.Type != "Task" || open.Resource != asl.FunctionARN(logicalID(t, "AWS::Lambda::Function", warroomFn)) {
		t.Errorf("OpenWarRoom: got %s %s, want a Task invoking warroom", open.Type, open.Resource)
	}
	if got, want := asJSON(t, open.Parameters), `{"incident_id.$":"$.incident_id","state.$":"$.state"}`; got != want {
		t.Errorf("OpenWarRoom Parameters: got %s, want %s", got, want)
	}
	if open.Next != "Done?" || str(open.ResultPath) != "$.war_room" || open.OutputPath != nil {
		t.Errorf("OpenWarRoom: got Next %q ResultPath %s OutputPath %s, want Done?, $.war_room, none",
			open.Next, str(open.ResultPath), str(open.OutputPath))
	}
	if got, want := asJSON(t, open.Catch), `[{"ErrorEquals":["States.ALL"],"ResultPath":"$.war_room_error","Next":"Done?"}]`; got != want {
		t.Errorf("OpenWarRoom Catch: got %s, want %s", got, want)
	}
	if got, want := asJSON(t, open.Retry), asJSON(t, []retrier{{lambdaServiceErrors, 1, 2, 2}}); got != want {
		t.Errorf("OpenWarRoom Retry: got %s, want %s", got, want)
	}

	// The two page steps are the same task, each with its own RetryLater.
	for _, step := range []struct{ name, next, retry string }{
		{"FirstPage", "OpenWarRoom", "RetryFirstPage"},
		{"PageLevel", "Done?", "RetryLater"},
	} {
		page := def.States[step.name]
		if page.Type != "Task" || page.Resource != asl.FunctionARN(logicalID(t, "AWS::Lambda::Function", escalateFn)) {
			t.Errorf("%s: got %s %s, want a Task invoking escalate", step.name, page.Type, page.Resource)
		}
		if got, want := asJSON(t, page.Parameters),
			`{"execution.$":"$$.Execution.Name","incident_id.$":"$.incident_id","state.$":"$.state"}`; got != want {
			t.Errorf("%s Parameters: got %s, want %s", step.name, got, want)
		}
		// The state becomes escalate's output as it is (no ResultPath/OutputPath,
		// no {Payload: ...} wrapper: the task invokes the function ARN directly).
		if page.Next != step.next || page.ResultPath != nil || page.OutputPath != nil {
			t.Errorf("%s: got Next %q ResultPath %s OutputPath %s, want %s, none, none",
				step.name, page.Next, str(page.ResultPath), str(page.OutputPath), step.next)
		}
		if got, want := asJSON(t, page.Retry), asJSON(t, []retrier{{append(lambdaServiceErrors, "States.TaskFailed"), 2, 3, 2}}); got != want {
			t.Errorf("%s Retry: got %s, want %s", step.name, got, want)
		}
		// Past its retries, every error (a timeout too) is caught and the same
		// step runs again after its RetryLater: no failure ends the escalation.
		// The error goes beside the state, which the step reads unchanged.
		if got, want := asJSON(t, page.Catch), `[{"ErrorEquals":["States.ALL"],"ResultPath":"$.page_error","Next":"`+step.retry+`"}]`; got != want {
			t.Errorf("%s Catch: got %s, want %s", step.name, got, want)
		}
		later := def.States[step.retry]
		if later.Type != "Wait" || later.Seconds == nil || *later.Seconds != 30 || later.Next != step.name {
			t.Errorf("%s: got %s Seconds %v Next %q, want Wait 30 %s", step.retry, later.Type, later.Seconds, later.Next, step.name)
		}
	}
	// Nothing but Escalated ends an execution: no Fail state, no End.
	for name, s := range def.States {
		if s.Type == "Fail" || s.End {
			t.Errorf("%s: got %s End=%v, want no state that ends an escalation but Escalated", name, s.Type, s.End)
		}
	}

	done := def.States["Done?"]
	if got, want := asJSON(t, done.Choices), `[{"BooleanEquals":true,"Next":"Escalated","Variable":"$.done"}]`; done.Type != "Choice" || got != want {
		t.Errorf("Done?: got %s %s, want a Choice %s", done.Type, got, want)
	}
	if done.Default != "Wait" {
		t.Errorf("Done? Default: got %q, want Wait", done.Default)
	}
	wait := def.States["Wait"]
	if wait.Type != "Wait" || wait.SecondsPath != "$.wait_seconds" || wait.Next != "PageLevel" {
		t.Errorf("Wait: got %s SecondsPath %q Next %q, want Wait $.wait_seconds PageLevel", wait.Type, wait.SecondsPath, wait.Next)
	}
	if s := def.States["Escalated"]; s.Type != "Succeed" {
		t.Errorf("Escalated: got %s, want Succeed", s.Type)
	}
	// Every Task is a plain Lambda invoke, which the local runner executes.
	for name, s := range def.States {
		if s.Type == "Task" && !strings.HasPrefix(s.Resource, "arn:aws:lambda:") {
			t.Errorf("%s: Resource %s is not a Lambda function", name, s.Resource)
		}
	}
}

// TestStateMachineValidates runs the pinned asl-validator (package.json) on
// the extracted definition.
func TestStateMachineValidates(t *testing.T) {
	def := definition(t)
	root, err := gobuild.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	validator := filepath.Join(root, "node_modules", ".bin", "asl-validator")
	if _, err := os.Stat(validator); err != nil {
		t.Fatalf("asl-validator is not installed (%v): run `make test` (or `npm ci`) once to install the pinned Node tools", err)
	}
	out, err := exec.Command(validator, "--json-definition", string(def)).CombinedOutput()
	if err != nil {
		t.Fatalf("asl-validator: %v\n%s\ndefinition: %s", err, out, def)
	}
	if !strings.Contains(string(out), "is valid") {
		t.Errorf("asl-validator output: got %q, want it to report the definition valid", out)
	}
}
