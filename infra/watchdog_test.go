package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/infra/asl"
	"github.com/incidentd/incidentd/shared/sfn"
)

// executionsStatement allows action on the executions of the escalation
// state machine alone (execution names are made at run time).
func executionsStatement(t *testing.T, action string) map[string]any {
	t.Helper()
	return map[string]any{"Action": action, "Effect": "Allow", "Resource": map[string]any{"Fn::Join": []any{"", []any{
		"arn:aws:states:" + testRegion + ":" + testAccount + ":execution:",
		map[string]any{"Fn::Select": []any{6.0, map[string]any{"Fn::Split": []any{":", ref(logicalID(t, "AWS::StepFunctions::StateMachine", stateMachine))}}}},
		":*"}}}}
}

// TestWatchdog: an EventBridge rule runs the watchdog every minute (a run
// EventBridge could not deliver within a minute is superseded by the next);
// a failed run is not retried (the next does the same work) and lands in its
// failure queue. Its role's Step Functions rights (TestFunctionRoles) are
// StartExecution on the state machine, DescribeExecution,
// RedriveExecution and GetExecutionHistory on its executions, nothing else;
// no other role may redrive or read histories.
func TestWatchdog(t *testing.T) {
	testStack(t)
	fn := logicalID(t, "AWS::Lambda::Function", watchdogFn)
	has(t, "AWS::Events::Rule", map[string]any{
		"ScheduleExpression": "rate(1 minute)",
		"State":              "ENABLED",
		"Targets": []any{map[string]any{
			"Arn": arnOf(fn), "Id": "Target0",
			"RetryPolicy": map[string]any{"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 2},
		}},
	})
	has(t, "AWS::Lambda::Permission", map[string]any{
		"Action": "lambda:InvokeFunction", "FunctionName": arnOf(fn), "Principal": "events.amazonaws.com",
	})
	has(t, "AWS::Lambda::EventInvokeConfig", map[string]any{
		"FunctionName": ref(fn), "Qualifier": "$LATEST",
		"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60,
		"DestinationConfig": map[string]any{"OnFailure": map[string]any{
			"Destination": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue)),
		}},
	})
	// No other role may redrive or read histories.
	for _, r := range synthesized.resources {
		if r["Type"] != "AWS::IAM::Policy" {
			continue
		}
		doc := asJSON(t, r)
		for _, action := range []string{"states:RedriveExecution", "states:GetExecutionHistory"} {
			if strings.Contains(doc, action) && !strings.Contains(doc, watchdogFn) {
				t.Errorf("a policy other than the watchdog's allows %s: %s", action, doc)
			}
		}
	}
}

// TestWatchdogPageSteps: the page steps whose history the watchdog reads
// (sfn.PageSteps) are exactly the synthesized state machine's Tasks that
// invoke escalate.
func TestWatchdogPageSteps(t *testing.T) {
	testStack(t)
	var def struct {
		States map[string]state `json:"States"`
	}
	if err := json.Unmarshal(definition(t), &def); err != nil {
		t.Fatal(err)
	}
	var got []string
	for name, s := range def.States {
		if s.Type == "Task" && s.Resource == asl.FunctionARN(logicalID(t, "AWS::Lambda::Function", escalateFn)) {
			got = append(got, name)
		}
	}
	if want := slices.Sorted(slices.Values(sfn.PageSteps)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("Tasks invoking escalate: got %v, want sfn.PageSteps %v", got, want)
	}
}
