package dora_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/errkind"
)

// at reads "MM-DD HH:MM" in November 2026 (or "10-DD …" in October), UTC.
func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", "2026-"+s)
	if err != nil {
		panic(err)
	}
	return t
}

func change(sha, created, merged string) dora.Change {
	c := dora.Change{CommitSHA: sha}
	if created != "" {
		c.PRCreatedAt = at(created)
	}
	if merged != "" {
		c.PRMergedAt = at(merged)
	}
	return c
}

func deploy(id string, status dora.Status, finished string, changes ...dora.Change) dora.Deployment {
	f := at(finished)
	return dora.Deployment{ID: id, Service: "payments", Environment: "production", Status: status,
		StartedAt: f.Add(-10 * time.Minute), FinishedAt: f, Changes: changes}
}

func incident(id, sev, cause, started, acked, resolved string) dora.Incident {
	inc := dora.Incident{ID: id, Service: "payments", Severity: sev, CauseDeploymentID: cause, StartedAt: at(started)}
	if acked != "" {
		inc.AcknowledgedAt = at(acked)
	}
	if resolved != "" {
		inc.ResolvedAt = at(resolved)
	}
	return inc
}

// november is the worked example: payments in production over the 28 days
// [11-01, 11-29), four full weeks, with the default suspect window of 4 h.
func november() dora.Input {
	hotfix := deploy("d4", dora.Succeeded, "11-05 14:00", change("fff", "11-04 00:00", "11-05 00:00"))
	hotfix.Rework = dora.Hotfix
	rollback := deploy("d7", dora.Succeeded, "11-12 11:00")
	rollback.Rework = dora.Rollback
	staging := deploy("d11", dora.Succeeded, "11-06 12:00", change("hhh", "11-06 00:00", "11-06 06:00"))
	staging.Environment = "staging"
	search := deploy("d12", dora.Succeeded, "11-07 12:00", change("iii", "11-07 00:00", "11-07 06:00"))
	search.Service = "search"
	running := deploy("d13", "started", "11-08 12:00")
	other := incident("i7", "SEV1", "", "11-15 00:00", "11-15 00:01", "11-15 01:00")
	other.Service = "search"
	return dora.Input{
		Scope:  dora.Scope{Service: "payments"},
		Window: dora.Window{Start: at("11-01 00:00"), End: at("11-29 00:00")},
		Deployments: []dora.Deployment{
			// Before the window: ships aaa first, so its redeploy in d1 is not a change of the window.
			deploy("d0", dora.Succeeded, "10-30 12:00", change("aaa", "10-29 12:00", "10-30 08:00")),
			deploy("d1", dora.Succeeded, "11-02 12:00",
				change("aaa", "10-29 12:00", "10-30 08:00"),
				change("bbb", "11-01 12:00", "11-02 00:00")),
			// Several changes; eee's PR was opened after the deployment (a negative span).
			deploy("d2", dora.Succeeded, "11-03 12:00",
				change("ccc", "11-03 06:00", "11-03 10:00"),
				change("ddd", "11-02 12:00", "11-03 11:00"),
				change("eee", "11-03 13:00", "11-03 11:30")),
			// A failed deployment with no incident; fff ships with the hotfix after it.
			deploy("d3", dora.Failed, "11-05 12:00", change("fff", "11-04 00:00", "11-05 00:00")),
			hotfix,
			deploy("d5", dora.Succeeded, "11-10 09:00"),  // i1 links to it
			deploy("d6", dora.RolledBack, "11-12 10:00"), // i2 links to it, failed already
			rollback,
			deploy("d8", dora.Succeeded, "11-20 08:00"), // i3 suspects it (2 h before)
			deploy("d9", dora.Succeeded, "11-24 00:00"), // i4 starts 5 h later: outside 4 h
			// At the window's end: outside [start, end).
			deploy("d10", dora.Succeeded, "11-29 00:00", change("ggg", "11-28 00:00", "11-28 12:00")),
			staging, search, running,
		},
		Incidents: []dora.Incident{
			incident("i1", "SEV2", "d5", "11-10 10:00", "11-10 10:05", "11-10 11:30"),
			incident("i2", "SEV1", "d6", "11-12 10:30", "11-12 10:40", "11-12 12:00"),
			incident("i3", "SEV3", "", "11-20 10:00", "11-20 10:01", "11-20 14:00"),
			incident("i4", "SEV2", "", "11-24 05:00", "", "11-24 06:00"),
			// Started before the window, resolved in it.
			incident("i5", "SEV2", "", "10-31 20:00", "10-31 20:10", "11-01 02:00"),
			// Started in the window, resolved after it.
			incident("i6", "SEV4", "", "11-28 22:00", "11-28 22:02", "11-29 01:00"),
			other,
			// Resolved before it started (a clock error): a negative span.
			incident("i9", "SEV3", "", "11-15 10:00", "", "11-15 09:00"),
		},
	}
}

// TestNovember works the example out by hand. In the window and the scope
// are d1–d9 (d0 before, d10 at the end, d11 staging, d12 another service,
// d13 not finished): 9 deployments, 7 of them successful (d3 failed, d6
// rolled back).
func TestNovember(t *testing.T) {
	r, err := dora.Compute(november())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"service": "payments", "environment": "production", "window_days": 28.0, "benchmark": "2021",
		"window":                 map[string]any{"start": "2026-11-01T00:00:00Z", "end": "2026-11-29T00:00:00Z"},
		"suspect_window_seconds": 14400.0,
		// 7 successful ÷ 28 days = 0.25 a day: between once a week and once
		// a day (daily_to_weekly), elite in 2021 (the gap down to weekly is
		// elite's). Deploy days, weeks counted back from 11-29:
		// [11-22, 11-29) d9 → 1; [11-15, 11-22) d8 → 1; [11-08, 11-15) d5, d7
		// → 2; [11-01, 11-08) d1, d2, d4 → 3; median of 1, 1, 2, 3 = 1.5.
		"deployment_frequency": map[string]any{"per_day": 0.25, "deployments": 7.0, "days": 28.0,
			"tier": "elite", "bucket": "daily_to_weekly", "deploy_days": 7.0,
			"deploy_days_per_week_median": 1.5, "weeks": 4.0},
		// Changes first shipped in the window: bbb (d1), ccc, ddd, eee (d2),
		// fff (d4: d3 failed, so d4 ships it); aaa was shipped by d0, ggg by
		// d10 at the end. Lead times: bbb 11-01 12:00 → 11-02 12:00 = 86400,
		// ccc 6 h = 21600, ddd 24 h = 86400, eee −1 h (dropped), fff 38 h =
		// 136800. Sorted 21600, 86400, 86400, 136800: median 86400 (1 day:
		// high, elite is under a day), p90 the ⌈3.6⌉ = 4th = 136800.
		// Review: bbb 12 h = 43200, ccc 4 h = 14400, ddd 23 h = 82800, eee
		// −1.5 h (dropped), fff 24 h = 86400: median (43200 + 82800) / 2 =
		// 63000. Delivery: bbb 12 h = 43200, ccc 2 h = 7200, ddd 1 h = 3600,
		// eee 30 min = 1800, fff 14 h = 50400: median 7200.
		"lead_time": map[string]any{"median_seconds": 86400.0, "p90_seconds": 136800.0, "n": 4.0,
			"review_median_seconds": 63000.0, "delivery_median_seconds": 7200.0, "tier": "high",
			"changes": 5.0, "negative": 1.0, "unknown_start": 0.0,
			"review_n": 4.0, "review_negative": 1.0, "delivery_n": 5.0, "delivery_negative": 0.0},
		// Failed: d3 and d6 by status, d5 (i1, explicit) and d8 (i3,
		// suspected) by incident; d6's incident i2 does not count it twice.
		// 4 ÷ 9 = 0.444…: above 30 %, low.
		"change_failure_rate": map[string]any{"ratio": 4.0 / 9, "failed": 4.0, "total": 9.0, "tier": "low",
			"failed_by_status": 2.0, "failed_by_incident": 2.0, "suspected": 1.0},
		// Resolved in the window, payments: i1 1.5 h = 5400, i2 1.5 h =
		// 5400, i3 4 h = 14400, i4 1 h = 3600, i5 6 h = 21600, i9 −1 h
		// (dropped); i6 resolves after the window. Sorted 3600, 5400, 5400,
		// 14400, 21600: median 5400, high (under a day).
		"time_to_restore": map[string]any{"median_seconds": 5400.0, "n": 5.0, "negative": 1.0, "tier": "high"},
		// Linked and resolved in the window: i1 11:30 − d5 09:00 = 9000, i2
		// 12:00 − d6 10:00 = 7200, i3 14:00 − d8 08:00 = 21600: median 9000.
		"failed_deployment_recovery_time": map[string]any{"median_seconds": 9000.0, "n": 3.0, "negative": 0.0, "tier": "high"},
		// Acknowledged in the window: i1 300, i2 600, i3 60, i6 120 (i5's
		// was before the window): median (120 + 300) / 2 = 210.
		"time_to_acknowledge": map[string]any{"median_seconds": 210.0, "n": 4.0, "negative": 0.0},
		// Started in the window, payments: i1, i2, i3, i4, i6, i9.
		"incidents": map[string]any{"total": 6.0,
			"by_severity": map[string]any{"SEV1": 1.0, "SEV2": 2.0, "SEV3": 2.0, "SEV4": 1.0}},
		// d4 is a hotfix, d7 a rollback: 2 ÷ 9.
		"rework_rate": map[string]any{"ratio": 2.0 / 9, "rework": 2.0, "total": 9.0, "hotfix": 1.0, "rollback": 1.0},
	}
	if got := asJSON(t, r); !reflect.DeepEqual(got, want) {
		diff(t, "", got, want)
	}
}

// Test2023 is the same data against the 2023 table: 0.25 a day is between
// once a week and once a day (high); 1 day of lead time is high (under a
// week); 4/9 is above 15 % (low); 1.5 h and 2.5 h of recovery are high.
func Test2023(t *testing.T) {
	in := november()
	in.Benchmark = "2023"
	r, err := dora.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	got := []dora.Tier{r.DeploymentFrequency.Tier, r.LeadTime.Tier, r.ChangeFailureRate.Tier,
		r.TimeToRestore.Tier, r.FailedDeploymentRecoveryTime.Tier}
	want := []dora.Tier{dora.High, dora.High, dora.Low, dora.High, dora.High}
	if r.Benchmark != "2023" || !reflect.DeepEqual(got, want) {
		t.Errorf("2023 tiers: got %s %v, want 2023 %v", r.Benchmark, got, want)
	}
}

// TestReportRoundTrip: a report read back from its JSON (a stored snapshot)
// is the report, nulls included.
func TestReportRoundTrip(t *testing.T) {
	for _, w := range []dora.Window{{Start: at("11-01 00:00"), End: at("11-29 00:00")},
		{Start: at("12-01 00:00"), End: at("12-02 00:00")}} {
		in := november()
		in.Window = w
		r, err := dora.Compute(in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back dora.Report
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, r) {
			t.Errorf("round trip of %s: got %+v, want %+v", b, back, *r)
		}
	}
}

// TestDesignExampleFields: the report has every field of DESIGN §7's
// example response, each of the same JSON type where the value is not null.
func TestDesignExampleFields(t *testing.T) {
	const example = `{"service": "payments", "environment": "production", "window_days": 30, "benchmark": "2021",
 "window": {"start": "...", "end": "..."},
 "deployment_frequency": {"per_day": 0.2, "deployments": 6, "days": 30, "tier": "high"},
 "lead_time": {"median_seconds": 43200, "p90_seconds": 259200, "n": 7,
               "review_median_seconds": 28800, "delivery_median_seconds": 14400, "tier": "high"},
 "change_failure_rate": {"ratio": 0.25, "failed": 2, "total": 8, "tier": "medium"},
 "time_to_restore": {"median_seconds": 5400, "n": 2, "tier": "high"},
 "time_to_acknowledge": {"median_seconds": 300, "n": 1}}`
	var want map[string]any
	if err := json.Unmarshal([]byte(example), &want); err != nil {
		t.Fatal(err)
	}
	r, err := dora.Compute(november())
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, "", asJSON(t, r), want)
}

func sameFields(t *testing.T, path string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s%s: missing", path, k)
			continue
		}
		if wm, ok := w.(map[string]any); ok {
			gm, ok := g.(map[string]any)
			if !ok {
				t.Errorf("%s%s: got %T, want an object", path, k, g)
				continue
			}
			sameFields(t, path+k+".", gm, wm)
			continue
		}
		if g != nil && reflect.TypeOf(g) != reflect.TypeOf(w) {
			t.Errorf("%s%s: got %T, want %T", path, k, g, w)
		}
	}
}

// TestNoData: a window with nothing in it has every value null, every tier
// null and every count 0.
func TestNoData(t *testing.T) {
	in := november()
	in.Window = dora.Window{Start: at("12-01 00:00"), End: at("12-08 00:00")}
	r, err := dora.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	got := asJSON(t, r)
	for _, p := range []string{
		"deployment_frequency.per_day", "deployment_frequency.tier", "deployment_frequency.bucket",
		"deployment_frequency.deploy_days_per_week_median",
		"lead_time.median_seconds", "lead_time.p90_seconds", "lead_time.tier",
		"lead_time.review_median_seconds", "lead_time.delivery_median_seconds",
		"change_failure_rate.ratio", "change_failure_rate.tier",
		"time_to_restore.median_seconds", "time_to_restore.tier",
		"failed_deployment_recovery_time.median_seconds", "failed_deployment_recovery_time.tier",
		"time_to_acknowledge.median_seconds", "rework_rate.ratio",
	} {
		if v, ok := lookup(got, p); !ok || v != nil {
			t.Errorf("%s: got %v (present %v), want null", p, v, ok)
		}
	}
	for _, p := range []string{"deployment_frequency.deployments", "lead_time.n", "change_failure_rate.total",
		"time_to_restore.n", "time_to_acknowledge.n", "incidents.total", "rework_rate.total"} {
		if v, _ := lookup(got, p); v != 0.0 {
			t.Errorf("%s: got %v, want 0", p, v)
		}
	}
	if v, _ := lookup(got, "deployment_frequency.days"); v != 7.0 {
		t.Errorf("deployment_frequency.days: got %v, want 7", v)
	}
	if v, _ := lookup(got, "deployment_frequency.weeks"); v != 1.0 {
		t.Errorf("deployment_frequency.weeks: got %v, want 1", v)
	}
}

// TestFailedOnly: deployments that all failed give a change failure rate of
// 1 but no frequency (no successful deployment: null, not 0).
func TestFailedOnly(t *testing.T) {
	in := dora.Input{
		Scope:  dora.Scope{Service: "payments"},
		Window: dora.Window{Start: at("11-01 00:00"), End: at("11-08 00:00")},
		Deployments: []dora.Deployment{
			deploy("a", dora.Failed, "11-02 00:00"), deploy("b", dora.RolledBack, "11-03 00:00"),
		},
	}
	r, err := dora.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	c := r.ChangeFailureRate
	if c.Ratio == nil || *c.Ratio != 1 || c.Failed != 2 || c.Total != 2 || c.Tier != dora.Low {
		t.Errorf("change failure rate: got %+v (ratio %v), want 2 of 2, low", c, deref(c.Ratio))
	}
	if f := r.DeploymentFrequency; f.PerDay != nil || f.Tier != "" || f.Deployments != 0 {
		t.Errorf("deployment frequency: got %+v, want no per_day and no tier", f)
	}
}

// TestCrossServiceLink: an incident of search explicitly caused by a
// payments deployment fails that deployment in payments' scope and gives
// payments a recovery time; search's own time to restore counts it, not
// payments'.
func TestCrossServiceLink(t *testing.T) {
	inc := incident("x", "SEV2", "p1", "11-02 13:00", "", "11-02 15:00")
	inc.Service = "search"
	in := dora.Input{
		Scope:       dora.Scope{Service: "payments"},
		Window:      dora.Window{Start: at("11-01 00:00"), End: at("11-08 00:00")},
		Deployments: []dora.Deployment{deploy("p1", dora.Succeeded, "11-02 12:00"), deploy("p2", dora.Succeeded, "11-03 12:00")},
		Incidents:   []dora.Incident{inc},
	}
	r, err := dora.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.ChangeFailureRate; c.Failed != 1 || c.Total != 2 || c.Suspected != 0 {
		t.Errorf("change failure rate: got %+v, want 1 of 2, none suspected", c)
	}
	// 15:00 − 12:00 = 3 h.
	if f := r.FailedDeploymentRecoveryTime; f.N != 1 || deref(f.MedianSeconds) != 10800.0 {
		t.Errorf("failed deployment recovery time: got n %d median %v, want 1, 10800", f.N, deref(f.MedianSeconds))
	}
	if r.TimeToRestore.N != 0 || r.Incidents.Total != 0 {
		t.Errorf("payments' incidents: got restore n %d, total %d, want 0, 0", r.TimeToRestore.N, r.Incidents.Total)
	}
}

// TestAllServices: the scope of every service takes search's deployment and
// incident too, but not staging's; a change's SHA is per service.
func TestAllServices(t *testing.T) {
	in := november()
	in.Scope = dora.Scope{}
	r, err := dora.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	// d12 of search adds a deployment (and its change iii, 6 h); i7 adds a
	// SEV1 and a restore of 1 h.
	if r.Service != "" || r.DeploymentFrequency.Deployments != 8 || r.ChangeFailureRate.Total != 10 ||
		r.LeadTime.Changes != 6 || r.Incidents.BySeverity["SEV1"] != 2 || r.TimeToRestore.N != 6 {
		t.Errorf("all services: got service %q, %d successful, %d total, %d changes, %d SEV1, %d restores; want \"\", 8, 10, 6, 2, 6",
			r.Service, r.DeploymentFrequency.Deployments, r.ChangeFailureRate.Total, r.LeadTime.Changes,
			r.Incidents.BySeverity["SEV1"], r.TimeToRestore.N)
	}
}

// TestSuspectWindow: widening the suspect window to 6 h links i4 to d9
// (5 h before it): one more deployment fails by incident, 5 of 9.
func TestSuspectWindow(t *testing.T) {
	in := november()
	in.SuspectWindow = 6 * time.Hour
	r, err := dora.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.ChangeFailureRate; c.Failed != 5 || c.Suspected != 2 {
		t.Errorf("change failure rate: got %+v, want 5 failed, 2 suspected", c)
	}
}

func TestInvalidInput(t *testing.T) {
	ok := november()
	tests := []struct {
		name string
		give func(*dora.Input)
	}{
		{"no window", func(in *dora.Input) { in.Window = dora.Window{} }},
		{"end before start", func(in *dora.Input) { in.Window.End = in.Window.Start.Add(-time.Second) }},
		{"empty window", func(in *dora.Input) { in.Window.End = in.Window.Start }},
		{"negative suspect window", func(in *dora.Input) { in.SuspectWindow = -time.Minute }},
		{"unknown benchmark", func(in *dora.Input) { in.Benchmark = "2019" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.give(&in)
			r, err := dora.Compute(in)
			if !errors.Is(err, errkind.Invalid) || r != nil {
				t.Errorf("Compute: got %v, %v, want an errkind.Invalid", r, err)
			}
		})
	}
}

func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func lookup(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// diff reports each leaf where got and want differ.
func diff(t *testing.T, path string, got, want any) {
	t.Helper()
	gm, gok := got.(map[string]any)
	wm, wok := want.(map[string]any)
	if !gok || !wok {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", path, got, want)
		}
		return
	}
	for k := range wm {
		diff(t, path+"."+k, gm[k], wm[k])
	}
	for k := range gm {
		if _, ok := wm[k]; !ok {
			t.Errorf("%s.%s: got %v, not expected", path, k, gm[k])
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
