package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/infra/monitoring"
)

const opsTopic = "MonitoringOpsTopic"

// selfAlarms are the self-monitoring alarms of the test stack by logical id:
// those named with monitoring.AlarmNamePrefix.
func selfAlarms(t *testing.T) map[string]map[string]any {
	t.Helper()
	testStack(t)
	alarms := map[string]map[string]any{}
	for id, r := range synthesized.resources {
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := properties(id)
		if name, _ := p["AlarmName"].(string); strings.HasPrefix(name, monitoring.AlarmNamePrefix) {
			alarms[id] = p
		}
	}
	return alarms
}

// dimension is the value of the alarm's only dimension, which must be name.
func dimension(t *testing.T, alarm map[string]any, name string) string {
	t.Helper()
	dims, _ := alarm["Dimensions"].([]any)
	if len(dims) != 1 {
		t.Errorf("alarm %v: dimensions %v, want one %s", alarm["AlarmName"], dims, name)
		return ""
	}
	d, _ := dims[0].(map[string]any)
	if d["Name"] != name {
		t.Errorf("alarm %v: dimension %v, want %s", alarm["AlarmName"], d["Name"], name)
	}
	return asJSON(t, d["Value"])
}

func TestOpsTopic(t *testing.T) {
	testStack(t)
	id := hasAlarmTopic(t, opsTopic, opsTopic+"Key", "AllowIncidentdAlarmsOfThisAccount", monitoring.AlarmNamePrefix+"*")
	out, _ := synthesized.outputs["OpsTopicArn"].(map[string]any)
	if got, want := asJSON(t, out["Value"]), asJSON(t, ref(id)); got != want {
		t.Errorf("output OpsTopicArn: got %s, want %s", got, want)
	}
}

// TestSelfMonitoringAlarmCounts counts the alarms by metric: 6 functions, 5
// queues, one state machine, one stream function.
func TestSelfMonitoringAlarmCounts(t *testing.T) {
	want := map[string]int{
		"AWS/Lambda Errors":                          6,
		"AWS/Lambda Throttles":                       6,
		"AWS/Lambda IteratorAge":                     1,
		"AWS/SQS ApproximateNumberOfMessagesVisible": 5,
		"AWS/States ExecutionsFailed":                1,
		"AWS/States ExecutionsTimedOut":              1,
		"AWS/States ExecutionsAborted":               1,
	}
	got := map[string]int{}
	for _, a := range selfAlarms(t) {
		got[a["Namespace"].(string)+" "+a["MetricName"].(string)]++
	}
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("self-monitoring alarms on %s: got %d, want %d", k, got[k], want[k])
		}
	}
}

// TestSelfMonitoringCoverage derives what must be alarmed on from the template:
// every function (Errors, Throttles), every queue (visible messages), every
// state machine (failed, timed out, aborted). A function or queue added without
// an alarm fails here.
func TestSelfMonitoringCoverage(t *testing.T) {
	alarms := selfAlarms(t)
	covered := map[string]bool{} // "<metric> <dimension value JSON>"
	for _, a := range alarms {
		var dim string
		switch a["Namespace"] {
		case "AWS/Lambda":
			dim = dimension(t, a, "FunctionName")
		case "AWS/SQS":
			dim = dimension(t, a, "QueueName")
		case "AWS/States":
			dim = dimension(t, a, "StateMachineArn")
		default:
			t.Errorf("alarm %v: namespace %v", a["AlarmName"], a["Namespace"])
		}
		covered[a["MetricName"].(string)+" "+dim] = true
	}
	want := map[string][]string{
		"AWS::Lambda::Function":            {"Errors", "Throttles"},
		"AWS::SQS::Queue":                  {"ApproximateNumberOfMessagesVisible"},
		"AWS::StepFunctions::StateMachine": {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"},
	}
	n := 0
	for id, r := range synthesized.resources {
		metrics, ok := want[r["Type"].(string)]
		if !ok {
			continue
		}
		n++
		value := ref(id)
		if r["Type"] == "AWS::SQS::Queue" {
			value = map[string]any{"Fn::GetAtt": []any{id, "QueueName"}}
		}
		for _, m := range metrics {
			if !covered[m+" "+asJSON(t, value)] {
				t.Errorf("%s %s: no self-monitoring alarm on %s", r["Type"], id, m)
			}
		}
	}
	if n != 6+5+1 {
		t.Errorf("resources to monitor: got %d, want 12 (6 functions, 5 queues, 1 state machine)", n)
	}
	if !covered["IteratorAge "+asJSON(t, ref(logicalID(t, "AWS::Lambda::Function", streamFn)))] {
		t.Errorf("stream function: no IteratorAge alarm")
	}
}

// TestSelfMonitoringAlarms checks what every self-monitoring alarm has in
// common: its name, a description, thresholds over one 5-minute period, missing
// data not breaching, and ALARM and OK actions to OpsTopic alone. No alarm of
// the stack notifies both topics, and every alarm on a resource of the stack
// is a self-monitoring one.
func TestSelfMonitoringAlarms(t *testing.T) {
	ops := asJSON(t, []any{ref(logicalID(t, "AWS::SNS::Topic", opsTopic))})
	alarmTopic := ref(logicalID(t, "AWS::SNS::Topic", topic))
	alarms := selfAlarms(t)
	names := map[string]bool{}
	for id, a := range alarms {
		name := a["AlarmName"].(string)
		t.Run(name, func(t *testing.T) {
			if names[name] {
				t.Errorf("alarm name %s: used twice", name)
			}
			names[name] = true
			threshold := 1.0
			statistic := "Sum"
			switch a["MetricName"] {
			case "IteratorAge":
				threshold, statistic = 5*60*1000, "Maximum"
			case "ApproximateNumberOfMessagesVisible":
				statistic = "Maximum"
			}
			hasID(t, "AWS::CloudWatch::Alarm", id, map[string]any{
				"ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"Threshold":          threshold,
				"Statistic":          statistic,
				"Period":             300,
				"EvaluationPeriods":  1,
				"DatapointsToAlarm":  1,
				"TreatMissingData":   "notBreaching",
			})
			// CloudWatch takes up to 1024 characters; a name token
			// (log group, queue, state machine) counts as 256.
			if n := descriptionLength(a["AlarmDescription"]); n < 100 || n > 1024 {
				t.Errorf("AlarmDescription: %d characters, want 100 to 1024: %s", n, asJSON(t, a["AlarmDescription"]))
			}
			if got := asJSON(t, a["AlarmActions"]); got != ops {
				t.Errorf("AlarmActions: got %s, want %s", got, ops)
			}
			if got := asJSON(t, a["OKActions"]); got != ops {
				t.Errorf("OKActions: got %s, want %s", got, ops)
			}
			// No markers: the alarms function must never take it for a service's alarm.
			if d := asJSON(t, a["AlarmDescription"]); strings.Contains(d, "incidentd:service=") {
				t.Errorf("AlarmDescription carries markers: %s", d)
			}
		})
	}
	for id, r := range synthesized.resources {
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := properties(id)
		actions := asJSON(t, []any{p["AlarmActions"], p["OKActions"], p["InsufficientDataActions"]})
		if _, self := alarms[id]; self {
			if strings.Contains(actions, asJSON(t, alarmTopic)) {
				t.Errorf("self-monitoring alarm %v notifies AlarmTopic: %s", p["AlarmName"], actions)
			}
			continue
		}
		// Every other alarm is a services.json alarm, on no resource of the stack.
		if strings.Contains(actions, ops[1:len(ops)-1]) {
			t.Errorf("alarm %v notifies OpsTopic without the %s prefix", p["AlarmName"], monitoring.AlarmNamePrefix)
		}
		if d := asJSON(t, p["Dimensions"]); strings.Contains(d, `"Ref"`) || strings.Contains(d, `"Fn::GetAtt"`) {
			t.Errorf("alarm %v on a resource of the stack (%s) is not a self-monitoring alarm", p["AlarmName"], d)
		}
	}
}

// TestSelfMonitoringNotForwarded: the EventBridge rule that feeds every alarm
// of the account to the alarms function leaves out the platform's own alarms,
// so that the platform's failures never open incidents in the platform.
func TestSelfMonitoringNotForwarded(t *testing.T) {
	testStack(t)
	has(t, "AWS::Events::Rule", map[string]any{
		"EventPattern": map[string]any{
			"source": []any{"aws.cloudwatch"},
			"detail": map[string]any{
				"alarmName": []any{map[string]any{"anything-but": map[string]any{"prefix": monitoring.AlarmNamePrefix}}},
			},
		},
	})
}

// descriptionLength is the length of a description, a string or an Fn::Join of
// strings and tokens, counting 256 for each token.
func descriptionLength(d any) int {
	switch d := d.(type) {
	case string:
		return len(d)
	case map[string]any:
		join, _ := d["Fn::Join"].([]any)
		if len(join) != 2 {
			return 0
		}
		parts, _ := join[1].([]any)
		n := 0
		for _, p := range parts {
			if s, ok := p.(string); ok {
				n += len(s)
			} else {
				n += 256
			}
		}
		return n
	}
	return 0
}
