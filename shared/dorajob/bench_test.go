package dorajob_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/dorajob"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
)

var (
	benchDeployments = flag.Int("dora-deployments", 100_000, "BenchmarkJob: deployments of the history")
	benchIncidents   = flag.Int("dora-incidents", 5_000, "BenchmarkJob: incidents of the history")
	benchServices    = flag.Int("dora-services", 200, "BenchmarkJob: services")
	benchDays        = flag.Int("dora-days", 365, "BenchmarkJob: the days the history spans (a run reads the last 180)")
)

// BenchmarkJob runs the DORA job against DynamoDB Local over a history of
// -dora-deployments deployments and -dora-incidents incidents of
// -dora-services services spread over -dora-days days (a year by default:
// the 180 days a run reads, the widest window, 90 days, and the lookback
// before it, dora.Lookback, hold about half of it; -dora-days 180 puts it all
// there), then again after the same history is imported once more, before
// the first (twice as long a history): the reads must stay the same (they
// follow the window, not the history). It reports each run's wall time, its
// reads' and writes' shares, the requests and the read and write units
// DynamoDB reports (ReturnConsumedCapacity TOTAL), and the snapshots written.
//
// The history: each service deploys the same number of times, spread evenly
// over the days; a deployment ships 1 to 3 changes (pull request created
// 1 to 72 hours and merged 0.5 to 24 hours before it finished), 8% fail, 2%
// are rolled back, 3% are hotfixes. Incidents start at random times, are
// acknowledged 1 to 30 minutes and resolved 10 minutes to 10 hours later
// (the last 20 of the recent history are still open), and 1 in 10 names a
// deployment of its service as its cause.
func BenchmarkJob(b *testing.B) {
	ctx := context.Background()
	meter := &dynamolocal.Meter{}
	db := dynamolocal.Metered(dynamotest.Client(b), meter)
	table := dynamotest.NewTable(b)
	st := dynamo.New(db, table)
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	span := time.Duration(*benchDays) * 24 * time.Hour
	services := make([]string, *benchServices)
	known := map[string][]string{}
	for i := range services {
		services[i] = fmt.Sprintf("service-%03d", i)
		known[services[i]] = []string{dora.DefaultEnvironment}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	imported := time.Duration(0)
	load := func(history int, to time.Time) {
		start := time.Now()
		deps, incs := benchHistory(rng, history, services, to.Add(-span), to)
		if err := dynamo.ImportDeployments(ctx, db, table, deps); err != nil {
			b.Fatal(err)
		}
		if err := dynamo.ImportIncidents(ctx, db, table, incs); err != nil {
			b.Fatal(err)
		}
		imported += time.Since(start)
	}
	rec, snaps := &timedRecords{Records: st}, &timedSnapshots{Snapshots: st}
	job := dorajob.New(dorajob.Config{Records: rec, Snapshots: snaps, Known: known})
	run := func(label string) {
		meter.Reset()
		rec.took, snaps.took = 0, 0
		start := time.Now()
		res, err := job.Run(ctx, end)
		took := time.Since(start)
		b.ReportMetric(rec.took.Seconds(), label+"-read-s")
		b.ReportMetric(snaps.took.Seconds(), label+"-write-s")
		if err != nil || res.Failed > 0 {
			b.Fatalf("%s: %+v, %v", label, res, err)
		}
		read, write := meter.Units()
		b.ReportMetric(took.Seconds(), label+"-s")
		b.ReportMetric(read, label+"-rcu")
		b.ReportMetric(write, label+"-wcu")
		b.ReportMetric(float64(meter.Calls()), label+"-requests")
		b.ReportMetric(float64(res.Snapshots), label+"-snapshots")
	}
	b.ResetTimer()
	for range b.N {
		load(0, end)
		b.StopTimer()
		run("h1")
		b.StartTimer()
		load(1, end.Add(-span))
		b.StopTimer()
		run("h2")
		b.StartTimer()
	}
	b.ReportMetric(float64(*benchDeployments), "deployments")
	b.ReportMetric(float64(*benchIncidents), "incidents")
	b.ReportMetric(float64(len(services)), "services")
	b.ReportMetric(float64(*benchDays), "days")
	b.ReportMetric(imported.Seconds(), "import-s")
}

// benchHistory is one BenchmarkJob history of [from, to): deployment ids
// carry the history's number, so a second one adds records.
func benchHistory(rng *rand.Rand, history int, services []string, from, to time.Time) ([]deploy.Record, []incident.Incident) {
	span := to.Sub(from)
	per := *benchDeployments / len(services)
	deps := make([]deploy.Record, 0, per*len(services))
	byService := map[string][]string{}
	for si, svc := range services {
		for k := range per {
			// Evenly spread, each service offset a little.
			at := from.Add(time.Duration((float64(k) + float64(si)/float64(len(services))) / float64(per) * float64(span))).Truncate(time.Second)
			id := fmt.Sprintf("h%d-%s-%05d", history, svc, k)
			r := deploy.Record{ID: id, Service: svc, Environment: dora.DefaultEnvironment, Status: deploy.Succeeded,
				StartedAt: at.Add(-5 * time.Minute), FinishedAt: at, CommitSHA: fmt.Sprintf("%x", rng.Uint64())}
			switch p := rng.IntN(100); {
			case p < 8:
				r.Status = deploy.Failed
			case p < 10:
				r.Status = deploy.RolledBack
			case p < 13:
				r.Rework = dora.Hotfix
			}
			for range 1 + rng.IntN(3) {
				merged := at.Add(-time.Duration(30+rng.IntN(24*60-30)) * time.Minute)
				r.Changes = append(r.Changes, deploy.Change{CommitSHA: fmt.Sprintf("%x", rng.Uint64()),
					PRMergedAt: merged, PRCreatedAt: merged.Add(-time.Duration(1+rng.IntN(72)) * time.Hour)})
			}
			deps = append(deps, r)
			byService[svc] = append(byService[svc], id)
		}
	}
	incs := make([]incident.Incident, 0, *benchIncidents)
	for k := range *benchIncidents {
		svc := services[rng.IntN(len(services))]
		at := from.Add(time.Duration(rng.Int64N(int64(span) - int64(11*time.Hour)))).Truncate(time.Second)
		inc := incident.Incident{ID: incident.NewID(at.Add(time.Minute)), Service: svc, Title: "bench", Severity: incident.SEV2,
			Status: incident.StatusResolved, Source: incident.SourceManual, StartedAt: at, CreatedAt: at.Add(time.Minute), Version: 3}
		acked, resolved := at.Add(time.Duration(1+rng.IntN(30))*time.Minute), at.Add(time.Duration(10+rng.IntN(600))*time.Minute)
		inc.AcknowledgedAt, inc.ResolvedAt, inc.UpdatedAt = &acked, &resolved, resolved
		if history == 0 && k >= *benchIncidents-20 {
			inc.Status, inc.ResolvedAt, inc.UpdatedAt = incident.StatusAcknowledged, nil, acked
		}
		if ids := byService[svc]; k%10 == 0 && len(ids) > 0 {
			inc.CauseDeploymentID = ids[rng.IntN(len(ids))]
		}
		incs = append(incs, inc)
	}
	return deps, incs
}

// timedRecords and timedSnapshots add up the time a run spends reading and
// writing.
type timedRecords struct {
	dorajob.Records
	took time.Duration
}

func (t *timedRecords) DORARecords(ctx context.Context, sc dora.Scope, w dora.Window) ([]dora.Deployment, []dora.Incident, error) {
	start := time.Now()
	defer func() { t.took += time.Since(start) }()
	return t.Records.DORARecords(ctx, sc, w)
}

type timedSnapshots struct {
	dorajob.Snapshots
	took time.Duration
}

func (t *timedSnapshots) PutDORASnapshot(ctx context.Context, snap dora.Snapshot) error {
	start := time.Now()
	defer func() { t.took += time.Since(start) }()
	return t.Snapshots.PutDORASnapshot(ctx, snap)
}
