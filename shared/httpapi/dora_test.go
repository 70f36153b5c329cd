package httpapi_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/incident"
)

// doraNow is the clock of the DORA tests: with window_days=7 the window is
// [2026-11-24T12:00:01Z, 2026-12-01T12:00:01Z) (the end is the current
// second's end).
var doraNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func doraTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// seedDORA records a small history of payments in production (and a few
// records that must not count):
//
//	d1 succeeded 11-25 10:00, ships PR aaaaaaa1 (created 11-24 10:00, merged 11-25 08:00)
//	d2 failed    11-26 10:00
//	d3 succeeded 11-27 10:00, ships PR bbbbbbb2 (created 11-26 22:00, merged 11-27 06:00)
//	d4 succeeded 11-20 10:00 (before the window), ships PR ccccccc3
//	d5 succeeded 11-29 10:00, ships ccccccc3 again (a redeploy: nothing new)
//	search-1 succeeded 11-28 (another service), payments-staging-1 (another environment)
//	i1 payments SEV1, started 11-27 11:00, acknowledged 11:05, resolved 12:30, cause d3
//	i2 payments SEV2, started 11-29 11:00, open, no cause: suspected d5 (1 h before, within 4 h)
func seedDORA(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	change := func(sha, created, merged string) []deploy.Change {
		return []deploy.Change{{CommitSHA: sha, PRCreatedAt: doraTime(created), PRMergedAt: doraTime(merged)}}
	}
	deps := []deploy.Record{
		{ID: "d1", Service: "payments", Status: deploy.Succeeded, FinishedAt: doraTime("2026-11-25T10:00:00Z"),
			Changes: change("aaaaaaa1", "2026-11-24T10:00:00Z", "2026-11-25T08:00:00Z")},
		{ID: "d2", Service: "payments", Status: deploy.Failed, FinishedAt: doraTime("2026-11-26T10:00:00Z")},
		{ID: "d3", Service: "payments", Status: deploy.Succeeded, FinishedAt: doraTime("2026-11-27T10:00:00Z"),
			Changes: change("bbbbbbb2", "2026-11-26T22:00:00Z", "2026-11-27T06:00:00Z")},
		{ID: "d4", Service: "payments", Status: deploy.Succeeded, FinishedAt: doraTime("2026-11-20T10:00:00Z"),
			Changes: change("ccccccc3", "2026-11-19T10:00:00Z", "2026-11-20T08:00:00Z")},
		{ID: "d5", Service: "payments", Status: deploy.Succeeded, FinishedAt: doraTime("2026-11-29T10:00:00Z"),
			Changes: change("ccccccc3", "2026-11-19T10:00:00Z", "2026-11-20T08:00:00Z")},
		{ID: "search-1", Service: "search", Status: deploy.Succeeded, FinishedAt: doraTime("2026-11-28T10:00:00Z")},
		{ID: "payments-staging-1", Service: "payments", Environment: "staging", Status: deploy.Failed, FinishedAt: doraTime("2026-11-28T10:00:00Z")},
	}
	for _, d := range deps {
		if _, _, err := e.store.PutDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	ack, resolved := doraTime("2026-11-27T11:05:00Z"), doraTime("2026-11-27T12:30:00Z")
	incs := []incident.Incident{
		{ID: incident.NewID(doraTime("2026-11-27T11:00:00Z")), Service: "payments", Title: "payments 5xx", Severity: incident.SEV1,
			Status: incident.StatusResolved, Source: incident.SourceManual, StartedAt: doraTime("2026-11-27T11:00:00Z"),
			CreatedAt: doraTime("2026-11-27T11:00:00Z"), UpdatedAt: resolved, AcknowledgedAt: &ack, ResolvedAt: &resolved,
			CauseDeploymentID: "d3", Version: 1},
		{ID: incident.NewID(doraTime("2026-11-29T11:00:00Z")), Service: "payments", Title: "payments slow", Severity: incident.SEV2,
			Status: incident.StatusTriggered, Source: incident.SourceManual, StartedAt: doraTime("2026-11-29T11:00:00Z"),
			CreatedAt: doraTime("2026-11-29T11:00:00Z"), UpdatedAt: doraTime("2026-11-29T11:00:00Z"), Version: 1},
	}
	for _, inc := range incs {
		if err := e.store.Apply(ctx, incident.Change{Kind: incident.Create, Incident: inc}); err != nil {
			t.Fatal(err)
		}
	}
}

func getReport(t *testing.T, e *env, path string) dora.Report {
	t.Helper()
	res := e.do(t, req{method: "GET", path: path, token: "reader"})
	if res.status != http.StatusOK {
		t.Fatalf("GET %s: got %d %s, want 200", path, res.status, res.body)
	}
	var r dora.Report
	if err := json.Unmarshal(res.body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func near(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }

// The values, worked out from seedDORA's records for payments over 7 days:
//   - deployment frequency: d1, d3, d5 succeeded in the window (d4 is
//     before it, d2 failed): 3 ÷ 7 days = 0.428…/day: more than once a week,
//     elite in 2021, high (once a day to once a week) in 2023;
//   - lead time: aaaaaaa1 24 h (86400 s) and bbbbbbb2 12 h (43200 s);
//     ccccccc3 was first shipped by d4, before the window (read back by the
//     lookback), so d5 ships nothing: n 2, median (43200 + 86400) ÷ 2 =
//     64800 s (18 h < 1 day: elite in both), p90 the largest, 86400; review
//     22 h and 8 h → 54000 s, delivery 2 h and 4 h → 10800 s;
//   - change failure rate: d1, d2, d3, d5 finished in the window (4); d2 by
//     status, d3 by i1's explicit link, d5 by i2's suspected link: 3 ÷ 4 =
//     0.75: low in both;
//   - time to restore: i1, 11:00 → 12:30 = 5400 s, n 1: high in both;
//     failed deployment recovery: i1, d3's 10:00 → 12:30 = 9000 s;
//   - time to acknowledge: i1, 300 s; incidents: 2, SEV1 1 and SEV2 1.
func TestGetDORAWorkedExample(t *testing.T) {
	e := newEnv(t, envOptions{now: func() time.Time { return doraNow }})
	seedDORA(t, e)
	r := getReport(t, e, "/metrics/dora?service=payments&window_days=7")
	if r.Service != "payments" || r.Environment != "production" || r.WindowDays != 7 || r.Benchmark != "2021" ||
		!r.Window.Start.Equal(doraTime("2026-11-24T12:00:01Z")) || !r.Window.End.Equal(doraTime("2026-12-01T12:00:01Z")) {
		t.Errorf("got scope %q %q, %v days, benchmark %q, window %v; want payments production, 7, 2021, [11-24T12:00:01, 12-01T12:00:01)",
			r.Service, r.Environment, r.WindowDays, r.Benchmark, r.Window)
	}
	df := r.DeploymentFrequency
	if df.Deployments != 3 || df.Days != 7 || !near(df.PerDay, 3.0/7) || df.Tier != dora.Elite {
		t.Errorf("deployment frequency: got %+v, want 3 in 7 days, elite", df)
	}
	lt := r.LeadTime
	if lt.N != 2 || !near(lt.MedianSeconds, 64800) || !near(lt.P90Seconds, 86400) ||
		!near(lt.ReviewMedianSeconds, 54000) || !near(lt.DeliveryMedianSeconds, 10800) || lt.Tier != dora.Elite {
		t.Errorf("lead time: got %+v, want n 2, median 64800, p90 86400, review 54000, delivery 10800, elite", lt)
	}
	cfr := r.ChangeFailureRate
	if cfr.Total != 4 || cfr.Failed != 3 || !near(cfr.Ratio, 0.75) || cfr.FailedByStatus != 1 || cfr.FailedByIncident != 2 ||
		cfr.Suspected != 1 || cfr.Tier != dora.Low {
		t.Errorf("change failure rate: got %+v, want 3 of 4 (1 by status, 2 by incident, 1 suspected), low", cfr)
	}
	if tr := r.TimeToRestore; tr.N != 1 || !near(tr.MedianSeconds, 5400) || tr.Tier != dora.High {
		t.Errorf("time to restore: got %+v, want n 1, 5400, high", tr)
	}
	if fr := r.FailedDeploymentRecoveryTime; fr.N != 1 || !near(fr.MedianSeconds, 9000) {
		t.Errorf("failed deployment recovery: got %+v, want n 1, 9000", fr)
	}
	if ta := r.TimeToAcknowledge; ta.N != 1 || !near(ta.MedianSeconds, 300) {
		t.Errorf("time to acknowledge: got %+v, want n 1, 300", ta)
	}
	if ic := r.Incidents; ic.Total != 2 || ic.BySeverity["SEV1"] != 1 || ic.BySeverity["SEV2"] != 1 {
		t.Errorf("incidents: got %+v, want 2: SEV1 1, SEV2 1", ic)
	}
	if r.SuspectWindowSeconds != 4*3600 {
		t.Errorf("suspect window: got %v s, want the default 14400", r.SuspectWindowSeconds)
	}

	// The 2023 bands rate the same figures.
	r23 := getReport(t, e, "/metrics/dora?service=payments&window_days=7&benchmark=2023")
	if r23.Benchmark != "2023" || r23.DeploymentFrequency.Tier != dora.High || r23.LeadTime.Tier != dora.Elite ||
		r23.ChangeFailureRate.Tier != dora.Low || r23.TimeToRestore.Tier != dora.High {
		t.Errorf("2023: got %s tiers %s %s %s %s, want high elite low high", r23.Benchmark, r23.DeploymentFrequency.Tier,
			r23.LeadTime.Tier, r23.ChangeFailureRate.Tier, r23.TimeToRestore.Tier)
	}

	// All services: search-1 adds a successful deployment (4 ÷ 7) and a
	// deployment to the change failure rate's total (3 of 5).
	all := getReport(t, e, "/metrics/dora?window_days=7")
	if all.Service != "" || all.DeploymentFrequency.Deployments != 4 || all.ChangeFailureRate.Total != 5 || all.ChangeFailureRate.Failed != 3 {
		t.Errorf("all services: got %q, %d deployments, %d of %d failed; want \"\", 4, 3 of 5", all.Service,
			all.DeploymentFrequency.Deployments, all.ChangeFailureRate.Failed, all.ChangeFailureRate.Total)
	}

	// Staging: the failed payments-staging-1 alone; the incidents are
	// production's.
	st := getReport(t, e, "/metrics/dora?service=payments&environment=staging&window_days=7")
	if st.DeploymentFrequency.PerDay != nil || st.ChangeFailureRate.Total != 1 || !near(st.ChangeFailureRate.Ratio, 1) || st.Incidents.Total != 0 {
		t.Errorf("staging: got per day %v, %d of %d failed, %d incidents; want null, 1 of 1, 0", st.DeploymentFrequency.PerDay,
			st.ChangeFailureRate.Failed, st.ChangeFailureRate.Total, st.Incidents.Total)
	}

	// Computed on request: a deployment that finished a second ago counts.
	if _, _, err := e.store.PutDeployment(context.Background(), deploy.Record{ID: "d6", Service: "payments", Status: deploy.Succeeded,
		FinishedAt: doraNow.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got := getReport(t, e, "/metrics/dora?service=payments&window_days=7"); got.DeploymentFrequency.Deployments != 4 || got.ChangeFailureRate.Total != 5 {
		t.Errorf("after d6: got %d deployments, %d in total; want 4, 5", got.DeploymentFrequency.Deployments, got.ChangeFailureRate.Total)
	}
}

// No data: every value null, with its tier, not 0.
func TestGetDORANoData(t *testing.T) {
	e := newEnv(t, envOptions{now: func() time.Time { return doraNow }})
	res := e.do(t, req{method: "GET", path: "/metrics/dora?service=payments", token: "reader"})
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", res.status, res.body)
	}
	for _, metric := range []string{"deployment_frequency", "lead_time", "change_failure_rate", "time_to_restore"} {
		m, _ := res.json[metric].(map[string]any)
		if m == nil || m["tier"] != nil {
			t.Errorf("%s: got %v, want an object with a null tier", metric, res.json[metric])
		}
	}
	if res.json["window_days"] != 30.0 || res.json["benchmark"] != "2021" || res.json["environment"] != "production" {
		t.Errorf("defaults: got window_days %v, benchmark %v, environment %v; want 30, 2021, production",
			res.json["window_days"], res.json["benchmark"], res.json["environment"])
	}
}

func TestGetDORABadParameters(t *testing.T) {
	e := newEnv(t, envOptions{now: func() time.Time { return doraNow }})
	tests := []struct {
		name, query, wantInMessage string
	}{
		{"window of 0 days", "window_days=0", "window_days"},
		{"window of 366 days", "window_days=366", "window_days"},
		{"window not a number", "window_days=thirty", "window_days"},
		{"window of 1.5 days", "window_days=1.5", "window_days"},
		{"unknown benchmark", "benchmark=2019", "benchmark"},
		{"bad environment", "environment=Prod%21", "environment"},
		{"bad service", "service=Not%20Valid", "service"},
		{"unknown parameter", "days=7", "days"},
		{"parameter twice", "window_days=7&window_days=30", "window_days"},
	}
	for _, tt := range tests {
		res := e.do(t, req{method: "GET", path: "/metrics/dora?" + tt.query, token: "reader"})
		if res.status != http.StatusBadRequest || !strings.Contains(res.errorMessage(), tt.wantInMessage) {
			t.Errorf("%s: got %d %s, want 400 naming %s", tt.name, res.status, res.body, tt.wantInMessage)
		}
	}
	if res := e.do(t, req{method: "GET", path: "/metrics/dora", token: "deployer"}); res.status != http.StatusForbidden {
		t.Errorf("a deployer's token: got %d, want 403 (incidents:read)", res.status)
	}
	if res := e.do(t, req{method: "GET", path: "/metrics/dora"}); res.status != http.StatusUnauthorized {
		t.Errorf("no token: got %d, want 401", res.status)
	}
}

// TestGetDORAHistory: the snapshots of the scope and window asked for, for
// the days asked for (today's included), oldest first; other scopes,
// windows and older days are not in it.
//
// Stored: checkout production 30-day snapshots of 11-20, 11-28, 11-30 and
// 12-01, a 7-day one of 12-01, and one of every service of 12-01. Now is
// 2026-12-01T12:00Z; days=3 is 11-29…12-01, the default 30 days 11-02…12-01.
func TestGetDORAHistory(t *testing.T) {
	e := newEnv(t, envOptions{now: func() time.Time { return doraNow }})
	ctx := context.Background()
	put := func(service string, window int, day string) {
		t.Helper()
		at := doraTime(day + "T11:00:00Z")
		rep := `{"service":"` + service + `","window_days":` + strconv.Itoa(window) + `,"day":"` + day + `"}`
		if err := e.store.PutDORASnapshot(ctx, dora.Snapshot{Service: service, Environment: "production",
			WindowDays: window, Day: day, ComputedAt: at, Report: json.RawMessage(rep)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"2026-11-20", "2026-11-28", "2026-11-30", "2026-12-01"} {
		put("checkout", 30, d)
	}
	put("checkout", 7, "2026-12-01")
	put("", 30, "2026-12-01")

	tests := []struct {
		name, query string
		wantDays    []string
		wantWindow  float64
	}{
		{"default 30 days", "service=checkout", []string{"2026-11-20", "2026-11-28", "2026-11-30", "2026-12-01"}, 30},
		{"3 days", "service=checkout&days=3", []string{"2026-11-30", "2026-12-01"}, 30},
		{"the 7-day window", "service=checkout&window_days=7", []string{"2026-12-01"}, 7},
		{"all services", "environment=production", []string{"2026-12-01"}, 30},
		{"another environment", "service=checkout&environment=staging", []string{}, 30},
	}
	for _, tt := range tests {
		res := e.do(t, req{method: "GET", path: "/metrics/dora/history?" + tt.query, token: "reader"})
		if res.status != http.StatusOK {
			t.Errorf("%s: got %d %s, want 200", tt.name, res.status, res.body)
			continue
		}
		var body struct {
			WindowDays float64 `json:"window_days"`
			To         string  `json:"to"`
			Items      []struct {
				Day        string         `json:"day"`
				ComputedAt time.Time      `json:"computed_at"`
				Report     map[string]any `json:"report"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(res.body), &body); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		days := []string{}
		for _, it := range body.Items {
			days = append(days, it.Day)
			if it.Report["day"] != it.Day || it.Report["window_days"] != tt.wantWindow {
				t.Errorf("%s: day %s carries the report %v, want its own", tt.name, it.Day, it.Report)
			}
		}
		if strings.Join(days, ",") != strings.Join(tt.wantDays, ",") || body.WindowDays != tt.wantWindow || body.To != "2026-12-01" {
			t.Errorf("%s: got days %v window %v to %s, want %v window %v to 2026-12-01", tt.name, days, body.WindowDays, body.To, tt.wantDays, tt.wantWindow)
		}
	}
}

func TestGetDORAHistoryBadParameters(t *testing.T) {
	e := newEnv(t, envOptions{now: func() time.Time { return doraNow }})
	tests := []struct {
		name, query, wantInMessage string
	}{
		{"0 days", "days=0", "days"},
		{"401 days", "days=401", "days"},
		{"days not a number", "days=week", "days"},
		{"a window not stored", "window_days=14", "window_days"},
		{"bad environment", "environment=Prod%21", "environment"},
		{"bad service", "service=Not%20Valid", "service"},
		{"unknown parameter", "benchmark=2023", "benchmark"},
		{"parameter twice", "days=7&days=30", "days"},
	}
	for _, tt := range tests {
		res := e.do(t, req{method: "GET", path: "/metrics/dora/history?" + tt.query, token: "reader"})
		if res.status != http.StatusBadRequest || !strings.Contains(res.errorMessage(), tt.wantInMessage) {
			t.Errorf("%s: got %d %s, want 400 naming %s", tt.name, res.status, res.body, tt.wantInMessage)
		}
	}
	if res := e.do(t, req{method: "GET", path: "/metrics/dora/history", token: "deployer"}); res.status != http.StatusForbidden {
		t.Errorf("a deployer's token: got %d, want 403 (incidents:read)", res.status)
	}
}
