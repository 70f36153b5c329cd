package main

import (
	"fmt"
	"maps"
	"os"
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

func TestOpsTopic(t *testing.T) {
	testStack(t)
	id := hasAlarmTopic(t, opsTopic, topicKey, "AllowIncidentdAlarmsOfThisAccount", monitoring.AlarmNamePrefix+"*")
	out, _ := synthesized.outputs["OpsTopicArn"].(map[string]any)
	if got, want := asJSON(t, out["Value"]), asJSON(t, ref(id)); got != want {
		t.Errorf("output OpsTopicArn: got %s, want %s", got, want)
	}
}

// alarmKey names what an alarm watches: "<namespace> <metric>", or for a
// metric math alarm "<expression> of" its metrics' names.
func alarmKey(a map[string]any) string {
	if name, ok := a["MetricName"].(string); ok {
		ns, _ := a["Namespace"].(string)
		return ns + " " + name
	}
	var expr string
	seen := map[string]bool{}
	for _, m := range metricStats(a) {
		seen[m.namespace+" "+m.name] = true
	}
	for _, q := range a["Metrics"].([]any) {
		if e, ok := q.(map[string]any)["Expression"].(string); ok {
			expr = e
		}
	}
	return expr + " of " + strings.Join(slices.Sorted(maps.Keys(seen)), ", ")
}

// metricStat is one metric an alarm reads.
type metricStat struct {
	namespace, name string
	// dimensions by name
	dimensions map[string]any
	period     any
	stat       any
}

// metricStats are the metrics of an alarm: its own, or those of its metric
// math expression.
func metricStats(a map[string]any) []metricStat {
	one := func(ns, name, dims, period, stat any) metricStat {
		m := metricStat{dimensions: map[string]any{}, period: period, stat: stat}
		m.namespace, _ = ns.(string)
		m.name, _ = name.(string)
		list, _ := dims.([]any)
		for _, d := range list {
			d, _ := d.(map[string]any)
			m.dimensions[d["Name"].(string)] = d["Value"]
		}
		return m
	}
	if _, ok := a["MetricName"]; ok {
		return []metricStat{one(a["Namespace"], a["MetricName"], a["Dimensions"], a["Period"], a["Statistic"])}
	}
	var out []metricStat
	queries, _ := a["Metrics"].([]any)
	for _, q := range queries {
		stat, ok := q.(map[string]any)["MetricStat"].(map[string]any)
		if !ok {
			continue
		}
		metric, _ := stat["Metric"].(map[string]any)
		out = append(out, one(metric["Namespace"], metric["MetricName"], metric["Dimensions"], stat["Period"], stat["Stat"]))
	}
	return out
}

// TestSelfMonitoringAlarmCounts counts the alarms by metric, and the metrics
// they read (CloudWatch bills each metric of an alarm): Errors of the two
// functions whose failures end in no queue (escalate, warroom), the paging
// path's Throttles summed, the one failure queue (a record waiting, and a new
// one arriving), the state machine's failed and timed out
// executions summed, the stream's iterator age, the table's throttle events
// (its indexes' summed in), the API's 5xx.
func TestSelfMonitoringAlarmCounts(t *testing.T) {
	want := map[string]int{
		"AWS/ApiGateway 5xx": 1,
		"SUM(METRICS()) of AWS/DynamoDB ReadThrottleEvents, AWS/DynamoDB WriteThrottleEvents": 1,
		"AWS/Lambda Errors":                          2,
		"SUM(METRICS()) of AWS/Lambda Throttles":     1,
		"AWS/Lambda IteratorAge":                     1,
		"AWS/SQS ApproximateNumberOfMessagesVisible": 1, // the failure queue of every source: one waits
		"AWS/SQS NumberOfMessagesSent":               1, // a new one arrived
		"failed + timed_out of AWS/States ExecutionsFailed, AWS/States ExecutionsTimedOut": 1,
	}
	got := map[string]int{}
	metrics := 0
	for _, a := range selfAlarms(t) {
		got[alarmKey(a)]++
		metrics += len(metricStats(a))
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
	// 2 Errors, 3 Throttles, 2 queue metrics, 2 execution metrics, 1 iterator age,
	// 5 throttle events (the table's reads and writes, 3 indexes' writes), 1 API 5xx.
	indexes, _ := properties(logicalID(t, "AWS::DynamoDB::Table", table))["GlobalSecondaryIndexes"].([]any)
	if want := 2 + len(PagingPath) + 2 + 2 + 1 + 2 + len(indexes) + 1; metrics != want {
		t.Errorf("metrics read by self-monitoring alarms: got %d, want %d", metrics, want)
	}
}

// TestSelfMonitoringCoverage derives what must be alarmed on from the template,
// each failure once:
//   - every function: its Errors, or else every place its failed events end
//     (the on-failure queue of its asynchronous invocations and of its event
//     source mappings, each alarmed on its messages; a stream consumer's
//     IteratorAge too), or else the 5xx answers of the HTTP API it serves;
//   - the functions of PagingPath: their Throttles;
//   - every queue (visible messages), every state machine (failed and timed
//     out executions), every table (read and write throttle events) and
//     each of its indexes (write throttle events), every HTTP API (5xx).
//
// A resource added without its alarm fails here.
func TestSelfMonitoringCoverage(t *testing.T) {
	alarms := selfAlarms(t)
	covered := map[string]bool{} // "<metric> <dimensions JSON>"
	for _, a := range alarms {
		for _, m := range metricStats(a) {
			switch m.namespace {
			case "AWS/Lambda", "AWS/SQS", "AWS/States", "AWS/DynamoDB", "AWS/ApiGateway":
			default:
				t.Errorf("alarm %v: namespace %v", a["AlarmName"], m.namespace)
			}
			covered[m.name+" "+asJSON(t, m.dimensions)] = true
		}
	}
	// The dimensions an alarm on the resource has, by resource type.
	dims := map[string]func(id string) map[string]any{
		"AWS::Lambda::Function": func(id string) map[string]any { return map[string]any{"FunctionName": ref(id)} },
		"AWS::SQS::Queue": func(id string) map[string]any {
			return map[string]any{"QueueName": map[string]any{"Fn::GetAtt": []any{id, "QueueName"}}}
		},
		"AWS::StepFunctions::StateMachine": func(id string) map[string]any { return map[string]any{"StateMachineArn": ref(id)} },
		"AWS::DynamoDB::Table":             func(id string) map[string]any { return map[string]any{"TableName": ref(id)} },
		"AWS::ApiGatewayV2::Api":           func(id string) map[string]any { return map[string]any{"ApiId": ref(id)} },
	}
	on := func(metric, typ, id string) bool { return covered[metric+" "+asJSON(t, dims[typ](id))] }
	want := map[string][]string{
		"AWS::SQS::Queue":                  {"ApproximateNumberOfMessagesVisible"},
		"AWS::StepFunctions::StateMachine": {"ExecutionsFailed", "ExecutionsTimedOut"},
		"AWS::DynamoDB::Table":             {"ReadThrottleEvents", "WriteThrottleEvents"},
		"AWS::ApiGatewayV2::Api":           {"5xx"},
	}
	n := 0
	for id, r := range synthesized.resources {
		typ := r["Type"].(string)
		if typ == "AWS::Lambda::Function" {
			n++
			if why := functionUncovered(t, id, on); why != "" {
				t.Errorf("function %s: %s", id, why)
			}
			continue
		}
		metrics, ok := want[typ]
		if !ok {
			continue
		}
		n++
		targets := []map[string]any{dims[typ](id)}
		if typ == "AWS::DynamoDB::Table" {
			gsis, _ := properties(id)["GlobalSecondaryIndexes"].([]any)
			if len(gsis) == 0 {
				t.Errorf("table %s: no indexes found", id)
			}
			for _, g := range gsis {
				name := g.(map[string]any)["IndexName"]
				targets = append(targets, map[string]any{"TableName": ref(id), "GlobalSecondaryIndexName": name})
			}
		}
		for _, m := range metrics {
			for i, d := range targets {
				// An index's read throttles fail list reads: the API's 5xx
				// and the watchdog's failure queue report them.
				if i > 0 && m == "ReadThrottleEvents" {
					continue
				}
				if !covered[m+" "+asJSON(t, d)] {
					t.Errorf("%s %s: no self-monitoring alarm on %s %s", typ, id, m, asJSON(t, d))
				}
			}
		}
	}
	if n != 13+1+1+1+1 {
		t.Errorf("resources to monitor: got %d, want 17 (13 functions, 1 queue, 1 state machine, 1 table, 1 HTTP API)", n)
	}
	// The paging path's throttling delays pages silently: alarmed.
	ids := map[string]string{"alarms": alarmsFn, "stream": streamFn, "escalate": escalateFn}
	for _, name := range PagingPath {
		prefix, ok := ids[name]
		if !ok {
			t.Fatalf("PagingPath function %s: add its logical id prefix to this test", name)
		}
		if !on("Throttles", "AWS::Lambda::Function", logicalID(t, "AWS::Lambda::Function", prefix)) {
			t.Errorf("paging path function %s: no Throttles alarm", name)
		}
	}
}

// functionUncovered says why the failures of function id reach no alarm
// (on reports whether an alarm reads a metric of a resource), or "" when they do.
func functionUncovered(t *testing.T, id string, on func(metric, typ, id string) bool) string {
	t.Helper()
	if on("Errors", "AWS::Lambda::Function", id) {
		return ""
	}
	// Where its failed events end: queues of EventInvokeConfig and event
	// source mappings.
	var queues []string
	mappings := 0
	for rid, r := range synthesized.resources {
		typ := r["Type"]
		if typ != "AWS::Lambda::EventInvokeConfig" && typ != "AWS::Lambda::EventSourceMapping" {
			continue
		}
		p := properties(rid)
		if asJSON(t, p["FunctionName"]) != asJSON(t, ref(id)) {
			continue
		}
		if typ == "AWS::Lambda::EventSourceMapping" {
			mappings++
		}
		dest, _ := p["DestinationConfig"].(map[string]any)
		onFailure, _ := dest["OnFailure"].(map[string]any)
		att, _ := onFailure["Destination"].(map[string]any)["Fn::GetAtt"].([]any)
		if len(att) != 2 {
			return fmt.Sprintf("%s %s has no on-failure queue, and the function no Errors alarm", typ, rid)
		}
		queues = append(queues, att[0].(string))
	}
	if len(queues) > 0 {
		for _, q := range queues {
			if !on("ApproximateNumberOfMessagesVisible", "AWS::SQS::Queue", q) {
				return "its failure queue " + q + " has no alarm, and the function no Errors alarm"
			}
		}
		if mappings > 0 && !on("IteratorAge", "AWS::Lambda::Function", id) {
			return "a stream consumer without an IteratorAge alarm (its failing records are retried, late)"
		}
		return ""
	}
	// The function behind an HTTP API: its failures are 5xx answers.
	for rid, r := range synthesized.resources {
		if r["Type"] != "AWS::ApiGatewayV2::Integration" {
			continue
		}
		p := properties(rid)
		if asJSON(t, p["IntegrationUri"]) != asJSON(t, arnOf(id)) {
			continue
		}
		if api, _ := p["ApiId"].(map[string]any)["Ref"].(string); api != "" && on("5xx", "AWS::ApiGatewayV2::Api", api) {
			return ""
		}
	}
	return "no Errors alarm, no alarmed failure queue, no alarmed HTTP API in front of it"
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
				"EvaluationPeriods":  1,
				"DatapointsToAlarm":  1,
				"TreatMissingData":   "notBreaching",
			})
			// A metric, or a metric math expression of metrics, each over
			// one 5-minute period.
			for _, m := range metricStats(a) {
				if asJSON(t, m.period) != "300" || m.stat != statistic {
					t.Errorf("metric %s %s: period %v, statistic %v; want 300, %s", m.namespace, m.name, m.period, m.stat, statistic)
				}
			}
			if len(metricStats(a)) == 0 {
				t.Errorf("no metric")
			}
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

// TestFailuresAlarm: the failure queue's one alarm tells the operator how to
// tell each message's source, and where the runbook is; the runbook
// (infra/README.md, "The failure queue") has a row for every source that
// sends to the queue in the template.
func TestFailuresAlarm(t *testing.T) {
	testStack(t)
	q := logicalID(t, "AWS::SQS::Queue", failuresQueue)
	var alarm map[string]any
	for _, a := range selfAlarms(t) {
		if a["AlarmName"] == monitoring.AlarmNamePrefix+monitoring.FailuresAlarm {
			alarm = a
		}
	}
	if alarm == nil {
		t.Fatalf("no alarm named %s", monitoring.AlarmNamePrefix+monitoring.FailuresAlarm)
	}
	dims := asJSON(t, metricStats(alarm)[0].dimensions)
	if want := asJSON(t, map[string]any{"QueueName": map[string]any{"Fn::GetAtt": []any{q, "QueueName"}}}); dims != want {
		t.Errorf("dimensions: got %s, want %s", dims, want)
	}
	description := asJSON(t, alarm["AlarmDescription"])
	for _, want := range []string{"requestContext.functionArn", "DDBStreamBatchInfo", "TopicArn", "RULE_ARN", "TARGET_ARN",
		`infra/README.md, \"The failure queue\"`, "receive-message", "14 days"} {
		if !strings.Contains(description, want) {
			t.Errorf("description does not mention %s: %s", want, description)
		}
	}

	// The sources in the template: each function with an on-failure
	// destination (by its role's description), the topic whose subscription
	// has a dead-letter queue, the rules whose targets have one.
	sources := map[string]bool{}
	names := map[string]string{} // function logical id → name
	for id, r := range synthesized.resources {
		if r["Type"] != "AWS::Lambda::Function" {
			continue
		}
		role := getAtt(properties(id)["Role"])
		d, _ := properties(role)["Description"].(string)
		names[id] = strings.TrimPrefix(d, "incidentd function ")
	}
	for id, r := range synthesized.resources {
		p := properties(id)
		switch r["Type"] {
		case "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping":
			if _, ok := p["DestinationConfig"]; ok {
				fn, _ := p["FunctionName"].(map[string]any)["Ref"].(string)
				sources["`"+names[fn]+"`"] = true
			}
		case "AWS::SNS::Subscription":
			if _, ok := p["RedrivePolicy"]; ok {
				sources["AlarmTopic"] = true
			}
		case "AWS::Events::Rule":
			if strings.Contains(asJSON(t, p["Targets"]), "DeadLetterConfig") {
				sources[asJSON(t, p["EventPattern"].(map[string]any)["source"])] = true
			}
		}
	}
	// 7 async functions, stream, AlarmTopic, the alarm rule, the two deploy rules.
	if len(sources) != 12 {
		t.Errorf("sources of the failure queue: got %d (%v), want 12", len(sources), slices.Sorted(maps.Keys(sources)))
	}
	runbook := readmeSection(t, "## The failure queue")
	var rows []string
	for _, line := range strings.Split(runbook, "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| ---") {
			rows = append(rows, strings.SplitN(line, "|", 3)[1])
		}
	}
	for source := range sources {
		// A rule's source, e.g. ["aws.codepipeline"], is named in its row
		// by its event source.
		want := strings.Trim(source, `[]"`)
		found := false
		for _, r := range rows {
			if strings.Contains(r, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("runbook (infra/README.md, \"The failure queue\"): no row for %s", want)
		}
	}
}

// getAtt is the logical id of {"Fn::GetAtt": [id, ...]}.
func getAtt(v any) string {
	m, _ := v.(map[string]any)
	att, _ := m["Fn::GetAtt"].([]any)
	if len(att) == 0 {
		return ""
	}
	id, _ := att[0].(string)
	return id
}

// readmeSection is the section of infra/README.md that begins with heading,
// up to the next heading of its level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("infra/README.md: no section %q", heading)
	}
	s = s[i+1+len(heading):]
	if j := strings.Index(s, "\n"+strings.SplitN(heading, " ", 2)[0]+" "); j >= 0 {
		s = s[:j]
	}
	return s
}
