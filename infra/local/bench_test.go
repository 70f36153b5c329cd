package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/alarms"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/oncall"
)

var benchIncidents = flag.Int("incidents", 30, "incidents BenchmarkSignalToFirstPage measures")

// benchWarmup incidents run first and are not counted: the emulator's JIT and
// the stream poller's first look at the shards are not steady state.
const benchWarmup = 3

// BenchmarkSignalToFirstPage measures, on the local platform as `make local`
// wires it (DynamoDB Local, the stream poller, the local Step Functions), the
// time from a signal accepted to the first page published: for each of
// -incidents alarms with a name of its own (a new checkout incident each), from
// the return of the alarms function to the pager receiving the level-1 page.
// The path is alarms → table → stream (polled every streamPollInterval, as the
// event source mapping polls) → stream function → StartExecution →
// FirstPage → PagingTopic (OpenWarRoom after it). Each signal waits a random part of
// the poll interval first, so the figure samples the poll's phase instead of
// always landing just after a poll. Each incident is acknowledged through the
// API once paged, which ends its escalation. `make bench` runs it:
//
//	go test -run '^$' -bench SignalToFirstPage -benchtime 1x ./infra/local [-incidents 30]
func BenchmarkSignalToFirstPage(b *testing.B) {
	n := *benchIncidents
	if n < 1 {
		b.Fatalf("-incidents %d: want at least 1", n)
	}
	fixture, err := os.ReadFile("../../events/alarms-sns-metric.json")
	if err != nil {
		b.Fatal(err)
	}
	table := fmt.Sprintf("bench-%d", os.Getpid())
	getenv := func(k string) string {
		if k == "TABLE_NAME" {
			return table
		}
		return ""
	}
	pager := &firstPages{}
	p, err := newPlatform(context.Background(), dynamotest.Endpoint(b), getenv,
		slog.New(slog.NewJSONHandler(io.Discard, nil)), withPager(pager))
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	alarm := p.functions["alarms"]

	seq := 0
	measure := func() time.Duration {
		seq++
		time.Sleep(rand.N(streamPollInterval))
		event := strings.ReplaceAll(string(fixture), "checkout-cpu", fmt.Sprintf("checkout-bench-%d-%d", os.Getpid(), seq))
		event = strings.ReplaceAll(event, "3f4c2a1e-7b8d-5e9f-a0b1-c2d3e4f5a6b7", fmt.Sprintf("00000000-0000-4000-8000-%012d", seq))
		out, err := alarm(context.Background(), []byte(event))
		accepted := time.Now()
		if err != nil {
			b.Fatalf("alarms: %v", err)
		}
		var resp alarms.Response
		if err := json.Unmarshal(out, &resp); err != nil {
			b.Fatalf("alarms response %s: %v", out, err)
		}
		if len(resp.Items) != 1 || resp.Items[0].IncidentID == "" || resp.Items[0].Duplicate {
			b.Fatalf("alarms response: got %s, want one new incident", out)
		}
		id := resp.Items[0].IncidentID
		paged, ok := pager.wait(id, 10*time.Second)
		if !ok {
			b.Fatalf("incident %s: no page within 10 s of the signal", id)
		}
		req := httptest.NewRequest(http.MethodPost, "/incidents/"+id+"/acknowledge", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		p.api.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("acknowledge %s: got %d %s, want 200", id, rec.Code, rec.Body)
		}
		return paged.Sub(accepted)
	}

	for range benchWarmup {
		measure()
	}
	lat := make([]time.Duration, 0, n*b.N)
	for b.Loop() {
		for range n {
			lat = append(lat, measure())
		}
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(0, "ns/op") // the loop's time is mostly the jitter and the acknowledgements
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(len(lat)), "incidents")
	b.ReportMetric(float64(streamPollInterval)/float64(time.Millisecond), "poll-interval-ms")
}

// firstPages is the PagingTopic of the benchmark: it keeps the time of each
// incident's first page.
type firstPages struct {
	mu    sync.Mutex
	first map[string]time.Time
	ready map[string]chan struct{}
}

func (f *firstPages) Page(_ context.Context, pg oncall.ResponderPage) error {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.first[pg.IncidentID]; ok {
		return nil
	}
	if f.first == nil {
		f.first = map[string]time.Time{}
	}
	f.first[pg.IncidentID] = now
	close(f.chanLocked(pg.IncidentID))
	return nil
}

// wait returns the time of the first page of incident id, once it came.
func (f *firstPages) wait(id string, timeout time.Duration) (time.Time, bool) {
	f.mu.Lock()
	ch := f.chanLocked(id)
	f.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(timeout):
		return time.Time{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first[id], true
}

func (f *firstPages) chanLocked(id string) chan struct{} {
	if f.ready == nil {
		f.ready = map[string]chan struct{}{}
	}
	ch, ok := f.ready[id]
	if !ok {
		ch = make(chan struct{})
		f.ready[id] = ch
	}
	return ch
}
