package main

import (
	"strings"
	"testing"
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
// StartExecution on the state machine, DescribeExecution and
// RedriveExecution on its executions, nothing else.
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
	// No other role may redrive.
	for _, r := range synthesized.resources {
		if r["Type"] != "AWS::IAM::Policy" {
			continue
		}
		doc := asJSON(t, r)
		if strings.Contains(doc, "states:RedriveExecution") && !strings.Contains(doc, watchdogFn) {
			t.Errorf("a policy other than the watchdog's allows states:RedriveExecution: %s", doc)
		}
	}
}
