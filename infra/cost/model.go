package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// Counts is the counts file (see the package doc for its schema).
type Counts struct {
	// Measured is the date the counts were measured (YYYY-MM-DD).
	Measured string `json:"measured"`
	// Source says how, in a sentence.
	Source string `json:"source"`
	// Load is how many of each unit a month brings.
	Load Load `json:"load"`
	// Units are the operations one of each unit costs.
	Units map[string]Unit `json:"units"`
	// ScheduledRunMS is how long a run of a scheduled function lasts, in
	// milliseconds (0: 100).
	ScheduledRunMS float64 `json:"scheduled_run_ms,omitempty"`
}

// Load is the monthly load the model prices: how many of each unit.
type Load map[string]float64

// Unit is what one unit of load (an incident, an alarm notification, a
// deployment…) costs in operations.
type Unit struct {
	// Note says where the figures come from: measured (how), or a model.
	Note string `json:"note"`
	Ops  Ops    `json:"ops"`
}

// Ops are operation counts, each per unit.
type Ops struct {
	// Lambda are the invocations: function name (folder under functions/),
	// how many, and the billed duration of each in milliseconds.
	Lambda []Invocation `json:"lambda,omitempty"`
	// DynamoDBWriteUnits and DynamoDBReadUnits are on-demand request units,
	// index writes and transactions' doubling included (ReturnConsumedCapacity).
	DynamoDBWriteUnits float64 `json:"dynamodb_write_units,omitempty"`
	DynamoDBReadUnits  float64 `json:"dynamodb_read_units,omitempty"`
	// SNSPublishes are publish requests (64 KB each), by anyone (CloudWatch
	// alarm actions included); SNSEmail are e-mail deliveries; deliveries to
	// Lambda and SQS cost nothing.
	SNSPublishes float64 `json:"sns_publishes,omitempty"`
	SNSEmail     float64 `json:"sns_email_deliveries,omitempty"`
	// KMSRequests are requests to the topics' key (data keys of encrypted
	// publishes and deliveries).
	KMSRequests float64 `json:"kms_requests,omitempty"`
	// SFNTransitions are Step Functions standard state transitions.
	SFNTransitions float64 `json:"sfn_transitions,omitempty"`
	// APIRequests are API Gateway HTTP API requests.
	APIRequests float64 `json:"api_requests,omitempty"`
	// LogBytes are bytes ingested into CloudWatch Logs (the functions' logs,
	// the API's access log, the state machine's).
	LogBytes float64 `json:"log_bytes,omitempty"`
	// EventBridgeEvents are custom events put on a bus (AWS services' own
	// events, e.g. CloudWatch alarm state changes, cost nothing).
	EventBridgeEvents float64 `json:"eventbridge_custom_events,omitempty"`
	// SecretsRequests are Secrets Manager API calls.
	SecretsRequests float64 `json:"secrets_requests,omitempty"`
}

// Invocation is one function's invocations per unit.
type Invocation struct {
	Function    string  `json:"function"`
	Invocations float64 `json:"invocations"`
	MS          float64 `json:"ms"`
}

// LoadCounts reads and checks a counts file: every unit of the load has its
// operations, and every unit's functions exist in memory (name → MB).
func LoadCounts(path string, memory map[string]float64) (Counts, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Counts{}, fmt.Errorf("read counts: %w", err)
	}
	var c Counts
	if err := json.Unmarshal(raw, &c); err != nil {
		return Counts{}, fmt.Errorf("counts %s: %w", path, err)
	}
	return c, c.check(memory)
}

func (c Counts) check(memory map[string]float64) error {
	if c.Measured == "" {
		return fmt.Errorf("counts: measured (the date) is required")
	}
	for unit, n := range c.Load {
		if n < 0 {
			return fmt.Errorf("counts: load %s is negative", unit)
		}
		if _, ok := c.Units[unit]; !ok {
			return fmt.Errorf("counts: load names %s, which units does not describe", unit)
		}
	}
	for name, u := range c.Units {
		for _, inv := range u.Ops.Lambda {
			if _, ok := memory[inv.Function]; !ok && memory != nil {
				return fmt.Errorf("counts: unit %s invokes function %q, which the template does not have", name, inv.Function)
			}
		}
	}
	return nil
}

// ServicesLine is the fixed line of the monitored services' alarms: the
// checks services.json asks for, which grow with the services monitored.
const ServicesLine = "alarm metrics, monitored services"

// DashboardsLine is the fixed line of the DORA dashboard: off by default,
// context doraDashboard=true adds it (the DORA report page, GET
// /metrics/dora, shows the trends without it).
const DashboardsLine = "CloudWatch dashboards"

// Line is one priced line of the table.
type Line struct {
	What    string
	Detail  string
	Monthly float64
}

// Fixed prices what the template holds whatever the load.
func Fixed(t Template, p Prices, runMS float64) []Line {
	if runMS == 0 {
		runMS = 100
	}
	lines := []Line{
		{"KMS customer managed keys", fmt.Sprintf("%d × %s", t.KMSKeys, money(p.KMSKeyMonth)), float64(t.KMSKeys) * p.KMSKeyMonth},
		{"alarm metrics, platform", fmt.Sprintf("%d × %s (%d alarms named incidentd-*)",
			t.SelfAlarmMetrics, money(p.AlarmMetricMonth), t.SelfAlarms()),
			float64(t.SelfAlarmMetrics) * p.AlarmMetricMonth},
		{ServicesLine, fmt.Sprintf("%d × %s (%d alarms of services.json's checks)",
			t.AlarmMetrics()-t.SelfAlarmMetrics, money(p.AlarmMetricMonth), len(t.Alarms)-t.SelfAlarms()),
			float64(t.AlarmMetrics()-t.SelfAlarmMetrics) * p.AlarmMetricMonth},
		{"Secrets Manager secrets", fmt.Sprintf("%d × %s", t.Secrets, money(p.SecretMonth)), float64(t.Secrets) * p.SecretMonth},
		{DashboardsLine, fmt.Sprintf("%d × %s (%s)", t.Dashboards, money(p.DashboardMonth), dashboardNote(t.Dashboards)),
			float64(t.Dashboards) * p.DashboardMonth},
	}
	always := 0
	for _, m := range t.CustomMetrics {
		if m.AlwaysPublished {
			always++
		}
	}
	lines = append(lines, Line{"custom metrics (metric filters)",
		fmt.Sprintf("%d; %d published every hour (a default value) × %s, the rest only in hours with error lines", len(t.CustomMetrics), always, money(p.CustomMetricMonth)),
		float64(always) * p.CustomMetricMonth})
	var runs, cost float64
	for _, s := range t.Schedules {
		runs += s.RunsPerMonth
		cost += s.RunsPerMonth * (p.LambdaRequest + p.SchedulerInvocation + s.MemoryMB/1024*runMS/1000*p.LambdaGBSecond)
	}
	lines = append(lines, Line{"schedules", fmt.Sprintf("%d, %.0f runs a month", len(t.Schedules), runs), cost})
	return lines
}

// dashboardNote says where the dashboards line's count comes from.
func dashboardNote(n int) string {
	if n == 0 {
		return "the DORA dashboard is off by default: -c doraDashboard=true adds it"
	}
	return "the DORA dashboard, -c doraDashboard=true; free among an account's first three"
}

// PerUnit prices one unit's operations, by service, at memory (function → MB).
func PerUnit(o Ops, p Prices, memory map[string]float64) []Line {
	var requests, gbs float64
	for _, inv := range o.Lambda {
		requests += inv.Invocations
		gbs += inv.Invocations * memory[inv.Function] / 1024 * inv.MS / 1000
	}
	lines := []Line{
		{"Lambda requests", fmt.Sprintf("%g", requests), requests * p.LambdaRequest},
		{"Lambda GB-seconds (arm64)", fmt.Sprintf("%.4g", gbs), gbs * p.LambdaGBSecond},
		{"DynamoDB write request units", fmt.Sprintf("%g", o.DynamoDBWriteUnits), o.DynamoDBWriteUnits * p.DynamoDBWRU},
		{"DynamoDB read request units", fmt.Sprintf("%g", o.DynamoDBReadUnits), o.DynamoDBReadUnits * p.DynamoDBRRU},
		{"SNS publishes", fmt.Sprintf("%g", o.SNSPublishes), o.SNSPublishes * p.SNSPublish},
		{"SNS e-mail deliveries", fmt.Sprintf("%g", o.SNSEmail), o.SNSEmail * p.SNSEmail},
		{"KMS requests", fmt.Sprintf("%g", o.KMSRequests), o.KMSRequests * p.KMSRequest},
		{"Step Functions transitions", fmt.Sprintf("%g", o.SFNTransitions), o.SFNTransitions * p.SFNTransition},
		{"API Gateway HTTP requests", fmt.Sprintf("%g", o.APIRequests), o.APIRequests * p.HTTPAPIRequest},
		{"CloudWatch Logs ingestion", fmt.Sprintf("%g bytes", o.LogBytes), o.LogBytes / 1e9 * p.LogsIngestGB},
		{"EventBridge custom events", fmt.Sprintf("%g", o.EventBridgeEvents), o.EventBridgeEvents * p.EventBridgeEvent},
		{"Secrets Manager requests", fmt.Sprintf("%g", o.SecretsRequests), o.SecretsRequests * p.SecretsRequest},
	}
	return lines
}

// Sum adds the lines up.
func Sum(lines []Line) float64 {
	var s float64
	for _, l := range lines {
		s += l.Monthly
	}
	return s
}

// Result is the model's answer.
type Result struct {
	Fixed []Line
	// Units by name, each with its per-unit lines, its cost and the load.
	Units []UnitCost
}

// UnitCost is one unit of load: its cost each and per month.
type UnitCost struct {
	Name  string
	Note  string
	Lines []Line
	Each  float64
	Load  float64
}

// Monthly is the unit's cost at its load.
func (u UnitCost) Monthly() float64 { return u.Each * u.Load }

// FixedTotal, VariableTotal and Total are the month's sums.
func (r Result) FixedTotal() float64 { return Sum(r.Fixed) }

func (r Result) VariableTotal() float64 {
	var s float64
	for _, u := range r.Units {
		s += u.Monthly()
	}
	return s
}

func (r Result) Total() float64 { return r.FixedTotal() + r.VariableTotal() }

// Services is the fixed cost of the monitored services' alarms.
func (r Result) Services() float64 { return r.fixed(ServicesLine) }

// Dashboards is the fixed cost of the dashboards.
func (r Result) Dashboards() float64 { return r.fixed(DashboardsLine) }

func (r Result) fixed(what string) float64 {
	for _, l := range r.Fixed {
		if l.What == what {
			return l.Monthly
		}
	}
	return 0
}

// Model prices counts on the template t at prices p.
func Model(t Template, c Counts, p Prices) Result {
	r := Result{Fixed: Fixed(t, p, c.ScheduledRunMS)}
	names := make([]string, 0, len(c.Units))
	for name := range c.Units {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		u := c.Units[name]
		lines := PerUnit(u.Ops, p, t.MemoryMB)
		r.Units = append(r.Units, UnitCost{Name: name, Note: u.Note, Lines: lines, Each: Sum(lines), Load: c.Load[name]})
	}
	return r
}

func money(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v < 0.01:
		return fmt.Sprintf("$%.7f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}
