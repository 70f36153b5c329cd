package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRunsPerMonth(t *testing.T) {
	tests := []struct {
		give    string
		want    float64
		wantErr bool
	}{
		{give: "rate(1 minute)", want: 43800},
		{give: "rate(5 minutes)", want: 8760},
		{give: "rate(1 hour)", want: 730},
		{give: "rate(1 day)", want: 730.0 / 24},
		{give: "cron(0 * * * ? *)", wantErr: true},
	}
	for _, tt := range tests {
		got, err := RunsPerMonth(tt.give)
		if (err != nil) != tt.wantErr || !near(got, tt.want) {
			t.Errorf("RunsPerMonth(%q): got %v, %v, want %v (error: %v)", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

// A template of each thing the model prices.
const testTemplate = `{"Resources": {
 "KeyA": {"Type": "AWS::KMS::Key", "Properties": {}},
 "KeyB": {"Type": "AWS::KMS::Key", "Properties": {}},
 "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
 "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
 "SelfOne": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "incidentd-escalate-errors", "MetricName": "Errors"}},
 "SelfMath": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "incidentd-paging-path-throttled",
   "Metrics": [{"Id": "a", "MetricStat": {}}, {"Id": "b", "MetricStat": {}}, {"Id": "c", "MetricStat": {}}, {"Id": "expr", "Expression": "SUM(METRICS())"}]}},
 "Service": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "checkout-cpu", "MetricName": "CPUUtilization"}},
 "FilterA": {"Type": "AWS::Logs::MetricFilter", "Properties": {"MetricTransformations": [{"MetricNamespace": "N", "MetricName": "checkout", "DefaultValue": 0}]}},
 "FilterB": {"Type": "AWS::Logs::MetricFilter", "Properties": {"MetricTransformations": [{"MetricNamespace": "N", "MetricName": "checkout"}]}},
 "FilterC": {"Type": "AWS::Logs::MetricFilter", "Properties": {"MetricTransformations": [{"MetricNamespace": "N", "MetricName": "payments"}]}},
 "ProbeRole": {"Type": "AWS::IAM::Role", "Properties": {"Description": "incidentd function probe"}},
 "Probe": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512, "Role": {"Fn::GetAtt": ["ProbeRole", "Arn"]}}},
 "ApiRole": {"Type": "AWS::IAM::Role", "Properties": {"Description": "incidentd function api"}},
 "Api": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["ApiRole", "Arn"]}}},
 "Every": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(1 minute)", "Targets": [{"Arn": {"Fn::GetAtt": ["Probe", "Arn"]}}]}},
 "Pattern": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["aws.cloudwatch"]}}}
}}`

func TestParseTemplate(t *testing.T) {
	tpl, err := ParseTemplate([]byte(testTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if tpl.KMSKeys != 2 || tpl.Secrets != 1 {
		t.Errorf("keys, secrets: got %d, %d, want 2, 1", tpl.KMSKeys, tpl.Secrets)
	}
	if tpl.AlarmMetrics() != 5 || tpl.SelfAlarmMetrics != 4 || tpl.SelfAlarms() != 2 || len(tpl.Alarms) != 3 {
		t.Errorf("alarms: got %d metrics, %d of them self-monitoring in %d of %d alarms; want 5, 4 in 2 of 3",
			tpl.AlarmMetrics(), tpl.SelfAlarmMetrics, tpl.SelfAlarms(), len(tpl.Alarms))
	}
	if len(tpl.CustomMetrics) != 2 || !tpl.CustomMetrics[0].AlwaysPublished && !tpl.CustomMetrics[1].AlwaysPublished {
		t.Errorf("custom metrics: got %+v, want checkout (always published: a default value) and payments", tpl.CustomMetrics)
	}
	if tpl.MemoryMB["probe"] != 512 || tpl.MemoryMB["api"] != 128 {
		t.Errorf("memory: got %v, want probe 512, api 128 (the default)", tpl.MemoryMB)
	}
	if len(tpl.Schedules) != 1 || tpl.Schedules[0].RunsPerMonth != 43800 || tpl.Schedules[0].MemoryMB != 512 {
		t.Errorf("schedules: got %+v, want the probe every minute", tpl.Schedules)
	}
}

// The fixed part: each line is its count times its price.
func TestFixed(t *testing.T) {
	tpl, err := ParseTemplate([]byte(testTemplate))
	if err != nil {
		t.Fatal(err)
	}
	p := USEast1
	lines := Fixed(tpl, p, 200)
	want := map[string]float64{
		"KMS customer managed keys":       2 * 1.00,
		"alarm metrics, platform":         4 * 0.10,
		ServicesLine:                      1 * 0.10,
		"Secrets Manager secrets":         0.40,
		DashboardsLine:                    3.00,
		"custom metrics (metric filters)": 0.30, // checkout only: payments has no default value
		"schedules":                       43800 * (0.20/1e6 + 1.00/1e6 + 0.5*0.2*0.0000133334),
	}
	for _, l := range lines {
		if w, ok := want[l.What]; !ok || !near(l.Monthly, w) {
			t.Errorf("%s: got %v, want %v", l.What, l.Monthly, w)
		}
		delete(want, l.What)
	}
	for what := range want {
		t.Errorf("no line %s", what)
	}
}

// A unit's operations, priced: a million of each costs its list price per million.
func TestPerUnit(t *testing.T) {
	ops := Ops{
		Lambda:             []Invocation{{Function: "api", Invocations: 1e6, MS: 1000}},
		DynamoDBWriteUnits: 1e6, DynamoDBReadUnits: 1e6,
		SNSPublishes: 1e6, SNSEmail: 100_000, KMSRequests: 10_000, SFNTransitions: 1_000,
		APIRequests: 1e6, LogBytes: 1e9, EventBridgeEvents: 1e6, SecretsRequests: 10_000,
	}
	got := map[string]float64{}
	for _, l := range PerUnit(ops, USEast1, map[string]float64{"api": 512}) {
		got[l.What] = l.Monthly
	}
	want := map[string]float64{
		"Lambda requests":              0.20,
		"Lambda GB-seconds (arm64)":    1e6 * 0.5 * 0.0000133334, // 1e6 s at 0.5 GB
		"DynamoDB write request units": 0.625,
		"DynamoDB read request units":  0.125,
		"SNS publishes":                0.50,
		"SNS e-mail deliveries":        2.00,
		"KMS requests":                 0.03,
		"Step Functions transitions":   0.025,
		"API Gateway HTTP requests":    1.00,
		"CloudWatch Logs ingestion":    0.50,
		"EventBridge custom events":    1.00,
		"Secrets Manager requests":     0.05,
	}
	for what, w := range want {
		if !near(got[what], w) {
			t.Errorf("%s: got %v, want %v", what, got[what], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("lines: got %v, want %v", got, want)
	}
}

// The month: fixed plus each unit's cost times its load; the monitored
// services' alarms apart.
func TestModel(t *testing.T) {
	tpl, err := ParseTemplate([]byte(testTemplate))
	if err != nil {
		t.Fatal(err)
	}
	c := Counts{Measured: "2026-12-03", Load: Load{"incident": 1000, "deployment": 10},
		Units: map[string]Unit{
			"incident":   {Ops: Ops{SFNTransitions: 7, DynamoDBWriteUnits: 40}},
			"deployment": {Ops: Ops{APIRequests: 1}},
			"log_batch":  {Ops: Ops{DynamoDBWriteUnits: 2}},
		}}
	r := Model(tpl, c, USEast1)
	fixed := 2*1.00 + 5*0.10 + 0.40 + 3.00 + 0.30 + 43800*(0.20/1e6+1.00/1e6+0.5*0.1*0.0000133334)
	variable := 1000*(7*0.025/1000+40*0.625/1e6) + 10*1.00/1e6
	if !near(r.FixedTotal(), fixed) || !near(r.VariableTotal(), variable) || !near(r.Total(), fixed+variable) {
		t.Errorf("got fixed %v, variable %v, total %v; want %v, %v, %v", r.FixedTotal(), r.VariableTotal(), r.Total(), fixed, variable, fixed+variable)
	}
	if !near(r.Dashboards(), 3.00) {
		t.Errorf("dashboards: got %v, want 3.00", r.Dashboards())
	}
	if !near(r.Services(), 0.10) {
		t.Errorf("monitored services: got %v, want 0.10", r.Services())
	}
	if len(r.Units) != 3 || r.Units[1].Name != "incident" || r.Units[1].Load != 1000 || r.Units[1].Monthly() <= 0 {
		t.Errorf("units: got %+v, want deployment, incident, log_batch (no load: priced per unit)", r.Units)
	}
}

func TestCountsCheck(t *testing.T) {
	memory := map[string]float64{"api": 256}
	tests := []struct {
		name    string
		give    Counts
		wantErr string
	}{
		{name: "fine", give: Counts{Measured: "d", Load: Load{"a": 1}, Units: map[string]Unit{"a": {Ops: Ops{Lambda: []Invocation{{Function: "api"}}}}}}},
		{name: "no date", give: Counts{}, wantErr: "measured (the date) is required"},
		{name: "load without its unit", give: Counts{Measured: "d", Load: Load{"b": 1}}, wantErr: "load names b, which units does not describe"},
		{name: "a function the template lacks", give: Counts{Measured: "d", Units: map[string]Unit{"a": {Ops: Ops{Lambda: []Invocation{{Function: "nope"}}}}}},
			wantErr: `unit a invokes function "nope", which the template does not have`},
	}
	for _, tt := range tests {
		err := tt.give.check(memory)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

// The committed baseline describes the load with functions that exist.
func TestBaselineCounts(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "functions", "*", "main.go"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no functions found (%v)", err)
	}
	memory := map[string]float64{}
	for _, d := range dirs {
		memory[filepath.Base(filepath.Dir(d))] = 256
	}
	c, err := LoadCounts("counts.json", memory)
	if err != nil {
		t.Fatal(err)
	}
	for unit, n := range map[string]float64{"incident": 1000, "alarm_notification": 100000, "deployment": 10000} {
		if c.Load[unit] != n {
			t.Errorf("load %s: got %v, want %v (the issue's load)", unit, c.Load[unit], n)
		}
	}
	if _, err := os.Stat("counts.json"); err != nil {
		t.Fatal(err)
	}
}

// TestPrintDashboardLine: the DORA dashboard is off by default, so the
// table says what turning it on adds; with it on, what leaving it out saves.
func TestPrintDashboardLine(t *testing.T) {
	tests := []struct {
		name     string
		template string
		want     []string
	}{
		{"off (the default)", strings.Replace(testTemplate, `"Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},`, "", 1), []string{
			"0 × $3.00 (the DORA dashboard is off by default: -c doraDashboard=true adds it)",
			"the DORA dashboard (-c doraDashboard=true) adds $3.00 a month beyond an account's first three dashboards: the platform with it $6.18 a month: OVER the target",
		}},
		{"on (-c doraDashboard=true)", testTemplate, []string{
			"1 × $3.00 (the DORA dashboard, -c doraDashboard=true; free among an account's first three)",
			"the platform without the DORA dashboard ($3.00; the default, without -c doraDashboard=true; free among an account's first three anyway): $3.18 a month: within the target",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := ParseTemplate([]byte(tt.template))
			if err != nil {
				t.Fatal(err)
			}
			c := Counts{Measured: "2026-12-03"}
			var b strings.Builder
			Print(&b, Model(tpl, c, USEast1), c, USEast1, "t.json", "c.json")
			for _, want := range tt.want {
				if !strings.Contains(b.String(), want) {
					t.Errorf("got\n%s\nwant a line with %q", b.String(), want)
				}
			}
		})
	}
}
