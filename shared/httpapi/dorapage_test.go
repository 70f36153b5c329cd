package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/incident"
)

// seedDORASnapshots stores, for each scope and each of the days days up to
// doraNow, the 7-day report the DORA job would have stored that day
// (computed from seedDORA's records, as the job does).
func seedDORASnapshots(t *testing.T, e *env, days int, services ...string) {
	t.Helper()
	ctx := context.Background()
	for _, svc := range append([]string{""}, services...) {
		scope := dora.Scope{Service: svc, Environment: dora.DefaultEnvironment}
		for d := days - 1; d >= 0; d-- {
			end := doraNow.AddDate(0, 0, -d)
			in := dora.Input{Scope: scope, Benchmark: "2021", Window: dora.Window{Start: end.AddDate(0, 0, -7), End: end}}
			var err error
			in.Deployments, in.Incidents, err = e.store.DORARecords(ctx, scope, in.Window)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := dora.Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(rep)
			if err := e.store.PutDORASnapshot(ctx, dora.Snapshot{Service: svc, Environment: dora.DefaultEnvironment,
				WindowDays: 7, Day: dora.SnapshotDay(end), ComputedAt: end, Report: raw}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func doraPageEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, envOptions{now: func() time.Time { return doraNow }})
	seedDORA(t, e)
	for _, name := range []string{"payments", "search"} {
		if _, err := e.svc.PutServiceConfig(context.Background(), incident.ServiceConfig{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	seedDORASnapshots(t, e, 10, "payments", "search")
	return e
}

// The page shows seedDORA's worked example (TestGetDORAWorkedExample) for
// payments, a row for all services and search, and a chart per metric.
func TestDORAPage(t *testing.T) {
	e := doraPageEnv(t)
	browser := map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
	tests := []struct {
		name     string
		path     string
		want     []string
		wantNot  []string
		wantRows int
	}{
		{"all services", "/metrics/dora?window_days=7", []string{
			"<h1>DORA metrics</h1>", ">All services</th>", ">payments</th>", ">search</th>",
			"0.43 / day", "75 %", "3 of 4 deployments failed", "1.5 h median", "18 h median", "elite", "low",
			"Deployment frequency over the last 30 days", "Change failure rate over the last 30 days",
		}, []string{"<script", "http://", "https://"}, 3},
		{"one service", "/metrics/dora?window_days=7&service=payments&benchmark=2023", []string{
			">payments</th>", "tiers of the 2023 benchmark", "75 %",
		}, []string{">All services</th>", ">search</th>"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.raw("GET", tt.path, "reader", browser)
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("got %d %s %s, want 200 HTML", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			body := rec.Body.String()
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(body, w) && !strings.Contains(w, "http://") {
					t.Errorf("the page has %q", w)
				}
			}
			if n := strings.Count(body, `<tr><th scope="row">`); n != tt.wantRows {
				t.Errorf("got %d rows, want %d", n, tt.wantRows)
			}
			if n := strings.Count(body, `role="img"`); n != 4 {
				t.Errorf("got %d charts, want 4", n)
			}
			if n := strings.Count(body, "<polyline"); n == 0 {
				t.Errorf("the charts draw no line")
			}
		})
	}
	// Without a browser's Accept, the JSON answer as before.
	if res := e.do(t, req{method: "GET", path: "/metrics/dora?window_days=7&service=payments", token: "reader"}); res.status != 200 || res.json["service"] != "payments" {
		t.Errorf("JSON: got %d %s", res.status, res.body)
	}
	// The same scope and token rules.
	if rec := e.raw("GET", "/metrics/dora", "", browser); rec.Code != http.StatusUnauthorized {
		t.Errorf("no token: got %d, want 401", rec.Code)
	}
	if rec := e.raw("GET", "/metrics/dora?window_days=0", "reader", browser); rec.Code != http.StatusBadRequest {
		t.Errorf("bad window: got %d, want 400", rec.Code)
	}
}
