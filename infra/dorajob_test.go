package main

import (
	"strings"
	"testing"
)

// TestDORAJob: an EventBridge rule runs the DORA job every hour (a run
// EventBridge could not deliver within the hour is superseded by the next);
// a failed run is retried twice (it overwrites the day's snapshots: safe)
// and then lands in its failure queue, which self-monitoring alarms on
// (TestSelfMonitoringCoverage). Its role (TestFunctionRoles) has the
// table's items and its failure queue, nothing else: no
// cloudwatch:PutMetricData, the metrics are log lines.
func TestDORAJob(t *testing.T) {
	testStack(t)
	fn := logicalID(t, "AWS::Lambda::Function", doraFn)
	has(t, "AWS::Events::Rule", map[string]any{
		"ScheduleExpression": "rate(1 hour)",
		"State":              "ENABLED",
		"Targets": []any{map[string]any{
			"Arn": arnOf(fn), "Id": "Target0",
			"RetryPolicy": map[string]any{"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2},
		}},
	})
	has(t, "AWS::Lambda::Permission", map[string]any{
		"Action": "lambda:InvokeFunction", "FunctionName": arnOf(fn), "Principal": "events.amazonaws.com",
	})
	has(t, "AWS::Lambda::EventInvokeConfig", map[string]any{
		"FunctionName": ref(fn), "Qualifier": "$LATEST",
		"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600,
		"DestinationConfig": map[string]any{"OnFailure": map[string]any{
			"Destination": arnOf(logicalID(t, "AWS::SQS::Queue", doraFn+"Failures")),
		}},
	})
	for _, r := range synthesized.resources {
		if r["Type"] == "AWS::IAM::Policy" && strings.Contains(asJSON(t, r), "cloudwatch:PutMetricData") {
			t.Errorf("a policy allows cloudwatch:PutMetricData: %s", asJSON(t, r))
		}
	}
}
