package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Template is what the model reads from the synthesized CloudFormation
// template.
type Template struct {
	KMSKeys int
	Secrets int
	// Dashboards are CloudWatch dashboards (the DORA job's).
	Dashboards int
	// Alarms by name: how many metrics each reads (CloudWatch bills each).
	Alarms map[string]int
	// SelfAlarmMetrics are the metrics of the platform's own alarms
	// (named incidentd-*).
	SelfAlarmMetrics int
	CustomMetrics    []CustomMetric
	Schedules        []Schedule
	// MemoryMB is each function's memory, by its name (folder under functions/).
	MemoryMB map[string]float64
}

// AlarmMetrics are the metrics of every alarm.
func (t Template) AlarmMetrics() int {
	n := 0
	for _, m := range t.Alarms {
		n += m
	}
	return n
}

// SelfAlarms counts the platform's own alarms.
func (t Template) SelfAlarms() int {
	n := 0
	for name := range t.Alarms {
		if strings.HasPrefix(name, selfPrefix) {
			n++
		}
	}
	return n
}

// CustomMetric is a metric a metric filter publishes.
type CustomMetric struct {
	Namespace, Name string
	// AlwaysPublished: a default value makes the filter publish for every
	// batch of log events, so the metric is billed every hour.
	AlwaysPublished bool
}

// Schedule is a scheduled invocation of a function.
type Schedule struct {
	Expression   string
	RunsPerMonth float64
	MemoryMB     float64
}

// selfPrefix begins the names of the platform's own alarms
// (monitoring.AlarmNamePrefix; not imported, to keep jsii out of this command).
const selfPrefix = "incidentd-"

// ReadTemplate reads a synthesized template.
func ReadTemplate(path string) (Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Template{}, fmt.Errorf("read template: %w (run `make synth` first)", err)
	}
	return ParseTemplate(raw)
}

// ParseTemplate reads the resources the model prices from a template.
func ParseTemplate(raw []byte) (Template, error) {
	var doc struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Template{}, fmt.Errorf("template: %w", err)
	}
	t := Template{Alarms: map[string]int{}, MemoryMB: map[string]float64{}}
	memoryByID := map[string]float64{}
	roleNames := map[string]string{} // role id → function name
	for id, r := range doc.Resources {
		if r.Type != "AWS::IAM::Role" {
			continue
		}
		d, _ := r.Properties["Description"].(string)
		if name, ok := strings.CutPrefix(d, "incidentd function "); ok {
			roleNames[id] = name
		}
	}
	for id, r := range doc.Resources {
		p := r.Properties
		switch r.Type {
		case "AWS::KMS::Key":
			t.KMSKeys++
		case "AWS::SecretsManager::Secret":
			t.Secrets++
		case "AWS::CloudWatch::Dashboard":
			t.Dashboards++
		case "AWS::CloudWatch::Alarm":
			name, _ := p["AlarmName"].(string)
			if name == "" {
				name = id
			}
			n := alarmMetrics(p)
			t.Alarms[name] = n
			if strings.HasPrefix(name, selfPrefix) {
				t.SelfAlarmMetrics += n
			}
		case "AWS::Logs::MetricFilter":
			ts, _ := p["MetricTransformations"].([]any)
			for _, tr := range ts {
				m, _ := tr.(map[string]any)
				ns, _ := m["MetricNamespace"].(string)
				name, _ := m["MetricName"].(string)
				_, def := m["DefaultValue"]
				t.CustomMetrics = addMetric(t.CustomMetrics, CustomMetric{Namespace: ns, Name: name, AlwaysPublished: def})
			}
		case "AWS::Lambda::Function":
			mb := 128.0
			if v, ok := p["MemorySize"].(float64); ok {
				mb = v
			}
			memoryByID[id] = mb
			if name := roleNames[getAttID(p["Role"])]; name != "" {
				t.MemoryMB[name] = mb
			}
		}
	}
	for _, r := range doc.Resources {
		p := r.Properties
		var expr string
		var targets []any
		switch r.Type {
		case "AWS::Events::Rule":
			expr, _ = p["ScheduleExpression"].(string)
			targets, _ = p["Targets"].([]any)
		case "AWS::Scheduler::Schedule":
			expr, _ = p["ScheduleExpression"].(string)
			if tg, ok := p["Target"]; ok {
				targets = []any{tg}
			}
		}
		if expr == "" {
			continue
		}
		runs, err := RunsPerMonth(expr)
		if err != nil {
			return Template{}, err
		}
		for _, tg := range targets {
			m, _ := tg.(map[string]any)
			if mb, ok := memoryByID[getAttID(m["Arn"])]; ok {
				t.Schedules = append(t.Schedules, Schedule{Expression: expr, RunsPerMonth: runs, MemoryMB: mb})
			}
		}
	}
	return t, nil
}

func addMetric(ms []CustomMetric, m CustomMetric) []CustomMetric {
	for i, x := range ms {
		if x.Namespace == m.Namespace && x.Name == m.Name {
			ms[i].AlwaysPublished = x.AlwaysPublished || m.AlwaysPublished
			return ms
		}
	}
	return append(ms, m)
}

// alarmMetrics counts the metrics an alarm reads: one, or those of its
// metric math expression.
func alarmMetrics(p map[string]any) int {
	if _, ok := p["MetricName"]; ok {
		return 1
	}
	qs, _ := p["Metrics"].([]any)
	n := 0
	for _, q := range qs {
		if _, ok := q.(map[string]any)["MetricStat"]; ok {
			n++
		}
	}
	return n
}

// getAttID is the logical id of {"Fn::GetAtt": [id, ...]}, or "".
func getAttID(v any) string {
	m, _ := v.(map[string]any)
	att, _ := m["Fn::GetAtt"].([]any)
	if len(att) == 0 {
		return ""
	}
	id, _ := att[0].(string)
	return id
}

// HoursPerMonth is the month of AWS's price lists (730 hours).
const HoursPerMonth = 730

var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// RunsPerMonth is how often a rate() schedule runs in a month of
// HoursPerMonth. cron() expressions are not modelled: an error says so.
func RunsPerMonth(expr string) (float64, error) {
	m := rateExpr.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q: only rate(N minutes|hours|days) is modelled", expr)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	minutes := map[string]float64{"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}[m[2]]
	return HoursPerMonth * 60 / (n * minutes), nil
}
