package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/infra/dorajob"
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
			"Destination": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue)),
		}},
	})
	for _, r := range synthesized.resources {
		if r["Type"] == "AWS::IAM::Policy" && strings.Contains(asJSON(t, r), "cloudwatch:PutMetricData") {
			t.Errorf("a policy allows cloudwatch:PutMetricData: %s", asJSON(t, r))
		}
	}
}

// TestDORADashboard: one CloudWatch dashboard draws the four keys the job
// publishes, each graph a SEARCH of its metric over every service and
// environment (so a new service appears without a deployment of the
// stack), a point a day, in hours for the two durations. The test stack has
// it as -c doraDashboard=true gives it (TestStackPropsFromContext); by
// default there is none (TestDefaultStackCounts).
func TestDORADashboard(t *testing.T) {
	testStack(t)
	var bodies []string
	for _, r := range synthesized.resources {
		if r["Type"] != "AWS::CloudWatch::Dashboard" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		bodies = append(bodies, dashboardBody(props["DashboardBody"]))
	}
	if len(bodies) != 1 {
		t.Fatalf("got %d dashboards, want 1", len(bodies))
	}
	var body struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
				Period  int     `json:"period"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(bodies[0]), &body); err != nil {
		t.Fatalf("dashboard body %s: %v", bodies[0], err)
	}
	got := map[string]string{} // title → expression
	for _, w := range body.Widgets {
		for _, m := range w.Properties.Metrics {
			for _, part := range m {
				if o, ok := part.(map[string]any); ok && o["expression"] != nil {
					got[w.Properties.Title] = fmt.Sprint(o["expression"])
					if p, _ := o["period"].(float64); p != 86400 {
						t.Errorf("%s: period %v, want 86400 (a point a day)", w.Properties.Title, o["period"])
					}
				}
			}
		}
	}
	for _, p := range dorajob.Panels {
		want := p.Search()
		if p.Unit == "hours" {
			want = "(" + want + ") / 3600"
		}
		if got[p.Title] != want {
			t.Errorf("graph %q: got expression %q, want %q", p.Title, got[p.Title], want)
		}
		if !strings.Contains(want, `MetricName="`+p.Metric+`"`) || !strings.Contains(want, `{DORA,environment,service,window}`) {
			t.Errorf("graph %q: %q does not search %s in DORA by service and environment", p.Title, want, p.Metric)
		}
	}
	if len(got) != 4 {
		t.Errorf("got %d graphs (%v), want the four keys", len(got), got)
	}
}

// dashboardBody is a DashboardBody's text, its tokens (Fn::Join parts that
// are not strings, such as the region) written as "x".
func dashboardBody(v any) string {
	switch b := v.(type) {
	case string:
		return b
	case map[string]any:
		if join, ok := b["Fn::Join"].([]any); ok && len(join) == 2 {
			parts, _ := join[1].([]any)
			var s strings.Builder
			for _, p := range parts {
				if str, ok := p.(string); ok {
					s.WriteString(str)
				} else {
					s.WriteString("x")
				}
			}
			return s.String()
		}
	}
	return ""
}
