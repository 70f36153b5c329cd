package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// The benchmarks measure what an alarm's sender waits for: one Ingest, from the
// signal to the incident written, against DynamoDB Local. Besides ns/op they
// report the p50 and p99 of the per-signal latency, and for concurrent
// duplicates the throughput:
//
//	go test -run '^$' -bench Ingest -benchtime 200x ./shared/dynamo
//
// DynamoDB Local is far slower than DynamoDB (a JVM over SQLite, one lock for
// writes): the figures compare versions of this code, not production.

// warmUp runs a few signals first, so the JVM's JIT and the connection pool do
// not land in the measurement.
func warmUp(b *testing.B, svc *incident.Service) {
	b.Helper()
	for i := range 20 {
		if _, err := svc.Ingest(context.Background(), incidenttest.Alarm("warmup", fmt.Sprintf("warmup-%d", i))); err != nil {
			b.Fatal(err)
		}
	}
}

// reportLatency adds the p50 and p99 of lat as custom metrics.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p int) time.Duration { return lat[min(len(lat)-1, len(lat)*p/100)] }
	b.ReportMetric(float64(pct(50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(pct(99).Nanoseconds()), "p99-ns")
}

// BenchmarkIngestNewIncident: every signal is a new alarm, opening an incident.
func BenchmarkIngestNewIncident(b *testing.B) {
	svc, _ := newService(b, nil, incident.Rules{})
	warmUp(b, svc)
	ctx := context.Background()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		sig := incidenttest.Alarm("checkout", fmt.Sprintf("alarm-%d", i))
		sig.DeliveryID = fmt.Sprintf("new-%d", i)
		i++
		start := time.Now()
		res, err := svc.Ingest(ctx, sig)
		lat = append(lat, time.Since(start))
		if err != nil || res.Outcome != incident.Opened {
			b.Fatalf("got %q, %v; want opened", res.Outcome, err)
		}
	}
	reportLatency(b, lat)
}

// BenchmarkIngestAppend: every signal repeats one alarm, joining its open incident.
func BenchmarkIngestAppend(b *testing.B) {
	svc, _ := newService(b, nil, incident.Rules{})
	warmUp(b, svc)
	ctx := context.Background()
	if _, err := svc.Ingest(ctx, incidenttest.Alarm("checkout", "checkout-5xx")); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		sig := incidenttest.Alarm("checkout", "checkout-5xx")
		sig.DeliveryID = fmt.Sprintf("append-%d", i)
		i++
		start := time.Now()
		res, err := svc.Ingest(ctx, sig)
		lat = append(lat, time.Since(start))
		if err != nil || res.Outcome != incident.Appended {
			b.Fatalf("got %q, %v; want appended", res.Outcome, err)
		}
	}
	reportLatency(b, lat)
}

// BenchmarkIngestConcurrentDuplicates: many senders deliver the same alarm at
// once (an alarm storm); they must converge on one incident.
func BenchmarkIngestConcurrentDuplicates(b *testing.B) {
	svc, store := newService(b, nil, incident.Rules{})
	warmUp(b, svc)
	ctx := context.Background()
	var (
		seq   atomic.Int64
		mu    sync.Mutex
		lat   []time.Duration
		ids   = map[string]bool{}
		start = time.Now()
	)
	b.SetParallelism(16) // 16 senders per core
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		seen := map[string]bool{}
		for pb.Next() {
			sig := incidenttest.Alarm("checkout", "checkout-storm")
			sig.DeliveryID = fmt.Sprintf("storm-%d", seq.Add(1))
			t := time.Now()
			res, err := svc.Ingest(ctx, sig)
			mine = append(mine, time.Since(t))
			if err != nil {
				b.Error(err)
				return
			}
			seen[res.IncidentID] = true
		}
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, mine...)
		for id := range seen {
			ids[id] = true
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(ids) != 1 {
		b.Fatalf("got %d incidents, want 1", len(ids))
	}
	page, err := store.Incidents(ctx, incident.Query{Service: "checkout"})
	if err != nil || len(page.Items) != 1 || page.Items[0].SignalCount != b.N {
		b.Fatalf("got %d incidents (%v), want 1 counting %d signals", len(page.Items), err, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "signals/s")
	reportLatency(b, lat)
}
