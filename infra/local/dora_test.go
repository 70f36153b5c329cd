package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func getDORA(t *testing.T, api, token, query string) dora.Report {
	t.Helper()
	status, _, body := call(t, http.MethodGet, api+"/metrics/dora?"+query, token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics/dora?%s: got %d %s, want 200", query, status, body)
	}
	var r dora.Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// The demo data gives every DORA metric of checkout a value and a tier, and
// a restart on the same table seeds nothing twice. The figures, from
// demoDeployments: 21 deployments of checkout in the last 30 days, 19
// successful (one failed, one rolled back); 3 failed (those two and the one
// the demo incident names) of 21; one change each, 20 h from the pull
// request's creation; the incident restored in 50 minutes.
func TestLocalSeedsDORA(t *testing.T) {
	table := fmt.Sprintf("local-%d-%d", os.Getpid(), tableSeq.Add(1))
	start := func() (*platform, *httptest.Server) {
		getenv := func(k string) string {
			if k == "TABLE_NAME" {
				return table
			}
			return ""
		}
		logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
		p, err := newPlatform(context.Background(), dynamotest.Endpoint(t), getenv, logger, withPager(&pageRecorder{}))
		if err != nil {
			t.Fatal(err)
		}
		api := httptest.NewServer(p.api)
		t.Cleanup(func() { api.Close(); p.close() })
		return p, api
	}
	p, api := start()
	r := getDORA(t, api.URL, p.token, "service=checkout")
	if r.DeploymentFrequency.PerDay == nil || r.LeadTime.MedianSeconds == nil || r.ChangeFailureRate.Ratio == nil ||
		r.TimeToRestore.MedianSeconds == nil || r.DeploymentFrequency.Tier == "" || r.LeadTime.Tier == "" ||
		r.ChangeFailureRate.Tier == "" || r.TimeToRestore.Tier == "" {
		t.Fatalf("got %+v, want a value and a tier for each of the four", r)
	}
	if df, cfr := r.DeploymentFrequency, r.ChangeFailureRate; df.Deployments != 19 || cfr.Total != 21 || cfr.Failed != 3 ||
		*r.LeadTime.MedianSeconds != 20*3600 || *r.TimeToRestore.MedianSeconds != 50*60 {
		t.Errorf("got %d deployments, %d of %d failed, lead time %v s, restore %v s; want 19, 3 of 21, 72000, 3000",
			df.Deployments, cfr.Failed, cfr.Total, *r.LeadTime.MedianSeconds, *r.TimeToRestore.MedianSeconds)
	}
	all := getDORA(t, api.URL, p.token, "")

	p2, api2 := start() // a restart on the same table
	again := getDORA(t, api2.URL, p2.token, "")
	if again.ChangeFailureRate.Total != all.ChangeFailureRate.Total || again.Incidents.Total != all.Incidents.Total {
		t.Errorf("after a restart: %d deployments and %d incidents, want %d and %d (nothing seeded twice)",
			again.ChangeFailureRate.Total, again.Incidents.Total, all.ChangeFailureRate.Total, all.Incidents.Total)
	}
}

// TestLocalRunsTheDORAJob: with the schedules on (as make local runs), the
// DORA job runs at start, so GET /metrics/dora/history?service=checkout
// soon answers today's snapshot of the demo deployments.
func TestLocalRunsTheDORAJob(t *testing.T) {
	table := fmt.Sprintf("local-%d-%d", os.Getpid(), tableSeq.Add(1))
	getenv := func(k string) string {
		if k == "TABLE_NAME" {
			return table
		}
		return ""
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	p, err := newPlatform(context.Background(), dynamotest.Endpoint(t), getenv, logger, withPager(&pageRecorder{}), withSchedules())
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(p.api)
	t.Cleanup(func() { api.Close(); p.close() })
	var body struct {
		Items []struct {
			Day    string      `json:"day"`
			Report dora.Report `json:"report"`
		} `json:"items"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(body.Items) == 0 && time.Now().Before(deadline) {
		status, _, b := call(t, http.MethodGet, api.URL+"/metrics/dora/history?service=checkout", p.token, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /metrics/dora/history: got %d %s, want 200", status, b)
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Items) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if len(body.Items) != 1 {
		t.Fatalf("got %d snapshots, want today's", len(body.Items))
	}
	it := body.Items[0]
	if it.Day != dora.SnapshotDay(time.Now()) || it.Report.Service != "checkout" || it.Report.DeploymentFrequency.PerDay == nil {
		t.Errorf("got day %s, service %q, %v deployments a day; want today, checkout, a value", it.Day, it.Report.Service, it.Report.DeploymentFrequency.PerDay)
	}
}
