package dorajob_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/dorajob"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// seed records checkout's successful deployments: one a day at 10:00 UTC
// for the 10 days before 2026-12-01 (d = 1…10), and one of payments on
// 2026-11-28 at 10:00.
func seed(t *testing.T, st *dynamo.Store) {
	t.Helper()
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var rs []deploy.Record
	for d := 1; d <= 10; d++ {
		at := day.AddDate(0, 0, -d).Add(10 * time.Hour)
		rs = append(rs, deploy.Record{ID: fmt.Sprintf("checkout-%d", d), Service: "checkout", Environment: "production",
			Status: deploy.Succeeded, StartedAt: at.Add(-time.Minute), FinishedAt: at, CommitSHA: fmt.Sprintf("c0ffee%02d", d)})
	}
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	rs = append(rs, deploy.Record{ID: "payments-1", Service: "payments", Environment: "production",
		Status: deploy.Succeeded, StartedAt: at.Add(-time.Minute), FinishedAt: at, CommitSHA: "beef0001"})
	for _, r := range rs {
		if _, _, err := st.PutDeployment(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRun: a run writes one snapshot per scope, window and day, and prints
// one EMF line per scope and window; a second run the same day (a later
// hour) overwrites the day's snapshots, one the next day adds its own.
//
// Scopes: checkout (DEPLOY_SERVICES), payments (configured), all services;
// all in production → 3 scopes × 3 windows = 9 snapshots a run.
// At 2026-12-01T09:30 (end 09:00), checkout's 7-day window holds d = 1…7
// (d = 7 finished 2026-11-24T10:00, after the start 2026-11-24T09:00): 7
// deployments, 1 a day; the 30-day window all 10: 1/3 a day.
func TestRun(t *testing.T) {
	ctx := context.Background()
	st := dynamotest.Store(t)
	seed(t, st)
	if err := st.PutServiceConfig(ctx, serviceConfig("payments")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	j := dorajob.New(dorajob.Config{Records: st, Snapshots: st, Services: st,
		Known: map[string][]string{"checkout": {""}}, Metrics: &out, MetricsHour: 9})

	first := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	res, err := j.Handle(ctx, events.CloudWatchEvent{Time: first})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scopes != 3 || res.Snapshots != 9 || res.Failed != 0 {
		t.Fatalf("got %+v, want 3 scopes, 9 snapshots, 0 failed", res)
	}
	lines := emfLines(t, out.Bytes())
	// One line per scope, of the 30-day window (MetricsWindow) alone.
	if len(lines) != 3 {
		t.Fatalf("got %d EMF lines, want 3", len(lines))
	}
	got := map[string]map[string]any{}
	for _, l := range lines {
		got[fmt.Sprintf("%s/%s/%s", l["service"], l["environment"], l["window"])] = l
	}
	tests := []struct {
		key  string
		want float64
	}{
		{"checkout/production/30d", 10.0 / 30},
		{"payments/production/30d", 1.0 / 30},
		{"*/production/30d", 11.0 / 30},
	}
	for _, tt := range tests {
		l, ok := got[tt.key]
		if !ok {
			t.Errorf("no EMF line for %s", tt.key)
			continue
		}
		if l[dorajob.MetricDeploysPerDay] != tt.want {
			t.Errorf("%s: got %s %v, want %v", tt.key, dorajob.MetricDeploysPerDay, l[dorajob.MetricDeploysPerDay], tt.want)
		}
		// No incidents and no pull requests: time to restore and lead time
		// are null and left out.
		if _, ok := l[dorajob.MetricTimeToRestore]; ok {
			t.Errorf("%s: got %s, want it left out (null)", tt.key, dorajob.MetricTimeToRestore)
		}
	}

	snaps := func() []dora.Snapshot {
		t.Helper()
		s, err := st.DORASnapshots(ctx, dora.Scope{Service: "checkout"}, 7, "2026-11-01", "2026-12-31")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := snaps(); len(s) != 1 || s[0].Day != "2026-12-01" || !s[0].ComputedAt.Equal(first.Truncate(time.Hour)) {
		t.Fatalf("got %+v, want one snapshot of 2026-12-01 computed at 09:00", s)
	}
	// A later deployment and a run an hour later the same day: the day's
	// snapshot is replaced, not added.
	at := time.Date(2026, 12, 1, 9, 45, 0, 0, time.UTC)
	if _, _, err := st.PutDeployment(ctx, deploy.Record{ID: "checkout-0", Service: "checkout", Environment: "production",
		Status: deploy.Succeeded, StartedAt: at.Add(-time.Minute), FinishedAt: at, CommitSHA: "c0ffee00"}); err != nil {
		t.Fatal(err)
	}
	printed := out.Len()
	if _, err := j.Run(ctx, first.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The metrics are printed by one run a day (MetricsHour), not this one.
	if out.Len() != printed {
		t.Errorf("the 10:00 run printed metric lines %q; only the run of MetricsHour (9) should", out.Bytes()[printed:])
	}
	s := snaps()
	if len(s) != 1 {
		t.Fatalf("got %d snapshots after a second run the same day, want 1", len(s))
	}
	var rep dora.Report
	if err := json.Unmarshal(s[0].Report, &rep); err != nil {
		t.Fatal(err)
	}
	// 10:00's window [11-24T10:00, 12-01T10:00) holds d = 0…7 (d = 7
	// finished at its start, which it includes): 8.
	if rep.DeploymentFrequency.Deployments != 8 || !s[0].ComputedAt.Equal(first.Add(30*time.Minute)) {
		t.Errorf("got %d deployments computed at %s, want 8 at 10:00", rep.DeploymentFrequency.Deployments, s[0].ComputedAt)
	}
	// The same run again changes nothing; the next day adds its snapshot.
	if _, err := j.Run(ctx, first.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Run(ctx, first.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s := snaps(); len(s) != 2 || s[0].Day != "2026-12-01" || s[1].Day != "2026-12-02" {
		t.Errorf("got %+v, want the snapshots of 2026-12-01 and 2026-12-02", s)
	}
}

// emfLines parses each line as JSON and checks its _aws block: namespace
// DORA, the dimensions, and a metric named for each value it declares.
func emfLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatalf("EMF line %q: %v", sc.Text(), err)
		}
		var meta struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		raw, _ := json.Marshal(doc["_aws"])
		if err := json.Unmarshal(raw, &meta); err != nil || meta.Timestamp == 0 || len(meta.CloudWatchMetrics) != 1 {
			t.Fatalf("EMF line %q: no valid _aws block (%v)", sc.Text(), err)
		}
		d := meta.CloudWatchMetrics[0]
		if d.Namespace != "DORA" || fmt.Sprint(d.Dimensions) != "[[service environment window]]" {
			t.Errorf("EMF line %q: got namespace %q dimensions %v, want DORA [[service environment window]]", sc.Text(), d.Namespace, d.Dimensions)
		}
		for _, m := range d.Metrics {
			if _, ok := doc[m.Name].(float64); !ok {
				t.Errorf("EMF line %q: metric %s has no number", sc.Text(), m.Name)
			}
		}
		out = append(out, doc)
	}
	return out
}

// failingReads fails DORARecords for one environment.
type failingReads struct {
	dorajob.Records
	environment string
}

func (f failingReads) DORARecords(ctx context.Context, sc dora.Scope, w dora.Window) ([]dora.Deployment, []dora.Incident, error) {
	if f.environment == "*" || sc.Environment == f.environment {
		return nil, nil, errors.New("unreachable")
	}
	return f.Records.DORARecords(ctx, sc, w)
}

// failingWrites fails PutDORASnapshot for one service.
type failingWrites struct {
	dorajob.Snapshots
	service string
}

func (f failingWrites) PutDORASnapshot(ctx context.Context, snap dora.Snapshot) error {
	if snap.Service == f.service {
		return errors.New("throttled")
	}
	return f.Snapshots.PutDORASnapshot(ctx, snap)
}

// TestRunGoesOnPastAFailingScope: a scope whose snapshots cannot be written,
// or an environment whose records cannot be read, is logged and the run goes
// on (its result counts each scope and window not written); a run that
// writes nothing fails.
//
// Scopes: checkout and payments in production, checkout in staging, and
// all services in each environment: 5 scopes × 3 windows.
func TestRunGoesOnPastAFailingScope(t *testing.T) {
	ctx := context.Background()
	st := dynamotest.Store(t)
	seed(t, st)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	known := map[string][]string{"checkout": {"production", "staging"}, "payments": {"production"}}
	for _, tc := range []struct {
		name        string
		job         dorajob.Config
		snaps, fail int
	}{
		// payments' 3 windows.
		{"a scope's writes fail", dorajob.Config{Records: st, Snapshots: failingWrites{Snapshots: st, service: "payments"}}, 12, 3},
		// staging's 2 scopes × 3 windows; production's 3 scopes written.
		{"an environment's reads fail", dorajob.Config{Records: failingReads{Records: st, environment: "staging"}, Snapshots: st}, 9, 6},
	} {
		tc.job.Known = known
		res, err := dorajob.New(tc.job).Run(ctx, at)
		if err != nil || res.Scopes != 5 || res.Snapshots != tc.snaps || res.Failed != tc.fail {
			t.Errorf("%s: got %+v, %v; want 5 scopes, %d snapshots, %d failed, no error", tc.name, res, err, tc.snaps, tc.fail)
		}
	}
	j := dorajob.New(dorajob.Config{Records: failingReads{Records: st, environment: "*"}, Snapshots: st, Known: known})
	if _, err := j.Run(ctx, at); err == nil {
		t.Error("got no error from a run that wrote nothing, want one")
	}
}

func serviceConfig(name string) incident.ServiceConfig { return incident.ServiceConfig{Name: name} }

// recorded keeps the snapshots a run writes.
type recorded struct{ snaps []dora.Snapshot }

func (r *recorded) PutDORASnapshot(_ context.Context, s dora.Snapshot) error {
	r.snaps = append(r.snaps, s)
	return nil
}

// TestRunComputesWhatTheAPIComputes: a run reads each environment once and
// computes its scopes from those records; each snapshot's report is still
// the one GET /metrics/dora computes for its scope and window (its own
// DORARecords read, with its own lookback), on a random history of 200
// days around the windows' and lookbacks' edges: redeploys of earlier
// commits, incidents of one service caused by another's deployment,
// incidents created long before they resolve.
func TestRunComputesWhatTheAPIComputes(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.NewTable(t)
	st := dynamo.New(db, table)
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	services := []string{"checkout", "payments", "search"}
	rng := rand.New(rand.NewPCG(7, 8))
	var deps []deploy.Record
	var incs []incident.Incident
	for i := range 1500 {
		at := end.Add(-time.Duration(rng.Int64N(int64(200 * 24 * time.Hour)))).Truncate(time.Second)
		r := deploy.Record{ID: fmt.Sprintf("d%04d", i), Service: services[rng.IntN(3)], Environment: []string{"production", "staging"}[rng.IntN(2)],
			Status: []deploy.Status{deploy.Succeeded, deploy.Succeeded, deploy.Succeeded, deploy.Failed}[rng.IntN(4)], FinishedAt: at}
		// 40 commits, so that many are shipped again.
		r.Changes = []deploy.Change{{CommitSHA: fmt.Sprintf("c%02d", rng.IntN(40)), PRCreatedAt: at.Add(-time.Duration(1+rng.IntN(100)) * time.Hour)}}
		deps = append(deps, r)
	}
	for range 300 {
		at := end.Add(-time.Duration(rng.Int64N(int64(200 * 24 * time.Hour)))).Truncate(time.Second)
		resolved := at.Add(time.Duration(rng.Int64N(int64(120 * 24 * time.Hour))))
		inc := incident.Incident{ID: incident.NewID(at), Service: services[rng.IntN(3)], Title: "t", Severity: incident.SEV2,
			Status: incident.StatusResolved, Source: incident.SourceManual, StartedAt: at.Add(-time.Minute), CreatedAt: at,
			UpdatedAt: resolved, ResolvedAt: &resolved, Version: 2}
		if resolved.After(end) {
			inc.Status, inc.ResolvedAt, inc.UpdatedAt = incident.StatusTriggered, nil, at
		}
		if rng.IntN(5) == 0 {
			inc.CauseDeploymentID = deps[rng.IntN(len(deps))].ID
		}
		incs = append(incs, inc)
	}
	if err := dynamo.ImportDeployments(ctx, db, table, deps); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.ImportIncidents(ctx, db, table, incs); err != nil {
		t.Fatal(err)
	}
	known := map[string][]string{"checkout": {"production", "staging"}, "payments": {"production"}, "search": {"staging"}}
	rec := &recorded{}
	res, err := dorajob.New(dorajob.Config{Records: st, Snapshots: rec, Known: known}).Run(ctx, end.Add(30*time.Minute))
	if err != nil || res.Failed != 0 || res.Snapshots != 6*3 {
		t.Fatalf("run: %+v, %v; want 18 snapshots (4 services' scopes and 2 all-services, 3 windows)", res, err)
	}
	for _, snap := range rec.snaps {
		sc := dora.Scope{Service: snap.Service, Environment: snap.Environment}
		w := dora.Window{Start: end.AddDate(0, 0, -snap.WindowDays), End: end}
		d, i, err := st.DORARecords(ctx, sc, w)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := dora.Compute(dora.Input{Scope: sc, Window: w, Deployments: d, Incidents: i})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(rep)
		if string(snap.Report) != string(want) {
			t.Errorf("%s %s %d days: the job's report\n%s\nwant GET /metrics/dora's\n%s", snap.Service, snap.Environment, snap.WindowDays, snap.Report, want)
		}
	}
}
