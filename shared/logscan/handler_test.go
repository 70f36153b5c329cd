package logscan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// TestMain stops DynamoDB Local after the tests; dynamotest starts it with the
// first test that needs it, so fuzzing runs start none.
func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// lockedBuffer collects the handler's JSON log lines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the log records with the given message.
func (b *lockedBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// fixtureNow is a few seconds after the fixtures' last log events.
var fixtureNow = time.Date(2026, 11, 24, 10, 3, 10, 0, time.UTC)

// env is the real handler over a fresh DynamoDB Local table.
type env struct {
	h     *Handler
	svc   *incident.Service
	store store
	logs  *lockedBuffer
	clock *clocktest.Clock
}

// newEnv builds the handler as functions/logs does, with the default
// configuration (threshold 5 in 5 minutes) and a clock at fixtureNow.
func newEnv(t *testing.T) *env {
	t.Helper()
	c := clocktest.New(fixtureNow)
	e := newEnvWith(t, dynamotest.StreamedStore(t, dynamo.WithClock(c.Now)), c.Now)
	e.clock = c
	return e
}

// store is the table the handler counts into and files incidents in.
type store interface {
	incident.Store
	Counter
}

func newEnvWith(t *testing.T, store store, now func() time.Time) *env {
	t.Helper()
	svcs, err := NewServices(nil, incident.DefaultServiceName)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Threshold: DefaultThreshold, Window: DefaultWindow, DefaultService: incident.DefaultServiceName, Services: svcs}
	svc := incident.NewService(store, incident.Rules{}, incident.WithClock(now))
	logs := &lockedBuffer{}
	h := NewHandler(store, svc, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	h.now = now
	return &env{h: h, svc: svc, store: store, logs: logs}
}

// incidents lists the incidents once the table's stream caught up.
func (e *env) incidents(t *testing.T) []incident.Incident {
	t.Helper()
	incidenttest.CatchUp(t, e.svc, e.store)
	page, err := e.svc.List(context.Background(), incident.Query{Limit: 100})
	if err != nil {
		t.Fatalf("list incidents: %v", err)
	}
	return page.Items
}

func (e *env) replay(t *testing.T, ev events.CloudwatchLogsEvent) {
	t.Helper()
	if _, err := e.h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
}

// batchEvent packs a batch (as JSON) as CloudWatch Logs sends it.
func batchEvent(t *testing.T, d events.CloudwatchLogsData) events.CloudwatchLogsEvent {
	t.Helper()
	plain, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: encodeBatch(t, plain)}}
}

// decodedFixture returns a fixture's batch.
func decodedFixture(t *testing.T, name string) events.CloudwatchLogsData {
	t.Helper()
	d, err := Decode(readEvent(t, filepath.Join(eventsDir, name)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Every events/logs-*.json fixture, replayed twice through the real handler.
func TestReplayFixtures(t *testing.T) {
	type wantIncident struct {
		service     string
		titlePrefix string
		startedAt   time.Time
		text        string // in the opened entry
	}
	tests := map[string]struct {
		want    []wantIncident
		wantLog string // a log record the handler writes
	}{
		"logs-json-errors.json": {want: []wantIncident{{
			service:     "checkout-api",
			titlePrefix: "checkout-api: payment provider timeout for order <n> after <n>ms: TimeoutError: context deadline exceeded",
			startedAt:   time.Date(2026, 11, 24, 10, 0, 2, 20e6, time.UTC),
			text:        "6 errors like this in the 5m window from 2026-11-24T10:00:00Z (threshold 5), log group /aws/lambda/checkout-api",
		}}, wantLog: "log signal"},
		"logs-text-errors.json": {want: []wantIncident{{
			service:     "payments",
			titlePrefix: "payments: [payments.db] could not connect to server: Connection refused. Is the server running on host <str>",
			startedAt:   time.Date(2026, 11, 24, 10, 1, 2, 118e6, time.UTC),
			text:        "5 errors like this in the 5m window",
		}}, wantLog: "log signal"},
		"logs-below-threshold.json": {wantLog: "log batch scanned"},
		"logs-control.json":         {wantLog: "control message ignored"},
	}
	fixtures, _ := filepath.Glob(filepath.Join(eventsDir, "logs-*.json"))
	for _, path := range fixtures {
		name := filepath.Base(path)
		tt, ok := tests[name]
		if !ok {
			t.Errorf("fixture %s has no expectation in TestReplayFixtures", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ev := readEvent(t, path)
			e.replay(t, ev)
			got := e.incidents(t)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d incidents %+v, want %d", len(got), got, len(tt.want))
			}
			if len(e.logs.records(t, tt.wantLog)) == 0 {
				t.Errorf("no %q log record", tt.wantLog)
			}
			var timelines [][]incident.Entry
			for i, w := range tt.want {
				inc, tl, _, err := e.svc.Get(context.Background(), got[i].ID)
				if err != nil {
					t.Fatal(err)
				}
				if inc.Service != w.service || inc.Source != incident.SourceLog || inc.Status != incident.StatusTriggered ||
					inc.Severity != incident.DefaultLogSeverity || !strings.HasPrefix(inc.Title, w.titlePrefix) || !inc.StartedAt.Equal(w.startedAt) {
					t.Errorf("got incident %s %s %s %s %q started %s,\nwant %s log triggered %s %q… started %s",
						inc.Service, inc.Source, inc.Status, inc.Severity, inc.Title, inc.StartedAt,
						w.service, incident.DefaultLogSeverity, w.titlePrefix, w.startedAt)
				}
				if len(tl) != 1 || tl[0].Kind != incident.EntryOpened {
					t.Fatalf("got timeline %+v, want one opened entry", tl)
				}
				if !strings.Contains(tl[0].Text, w.text) || len(tl[0].Samples) != 3 || !strings.Contains(tl[0].Ref, ":") {
					t.Errorf("opened entry: got text %q, %d samples, ref %q; want text with %q, 3 samples, log group:stream",
						tl[0].Text, len(tl[0].Samples), tl[0].Ref, w.text)
				}
				timelines = append(timelines, tl)
			}

			// The same batch again (Lambda's retry, or a redelivery): nothing
			// more is counted, no incident is opened or appended to.
			e.replay(t, ev)
			again := e.incidents(t)
			if len(again) != len(got) {
				t.Fatalf("after a redelivery: got %d incidents, want %d", len(again), len(got))
			}
			for i := range again {
				_, tl, _, err := e.svc.Get(context.Background(), again[i].ID)
				if err != nil {
					t.Fatal(err)
				}
				if again[i].SignalCount != 1 || len(tl) != len(timelines[i]) {
					t.Errorf("after a redelivery: incident has %d signals, %d entries; want 1, %d", again[i].SignalCount, len(tl), len(timelines[i]))
				}
			}
			if d, err := Decode(ev); err == nil && d.MessageType == DataMessage {
				assertCountedOnce(t, e, d)
			}
		})
	}
}

// assertCountedOnce checks the counters of a replayed batch hold its errors
// once: offering the batch again is a duplicate, and the totals are the batch's.
func assertCountedOnce(t *testing.T, e *env, d events.CloudwatchLogsData) {
	t.Helper()
	b := Scan(d, e.h.cfg.Services, e.h.cfg.Window)
	for _, w := range b.Windows {
		counts := map[string]int{}
		for _, g := range w.Groups {
			counts[CounterKey(b.Service, g.Fingerprint)] = g.Count
		}
		totals, dup, err := e.store.AddLogCounts(context.Background(), b.ID, w.Start, e.h.cfg.Window, counts)
		if err != nil {
			t.Fatal(err)
		}
		if !dup {
			t.Errorf("window %s: batch not recorded as counted", w.Start)
		}
		for k, n := range counts {
			if totals[k] != n {
				t.Errorf("counter %s: got %d, want %d (the batch's errors, once)", k, totals[k], n)
			}
		}
	}
}

// restream returns the batch as if logged by another stream a few seconds
// later, with new event ids: another batch of the same service.
func restream(d events.CloudwatchLogsData, stream string, shift time.Duration) events.CloudwatchLogsData {
	d.LogStream = stream
	evs := make([]events.CloudwatchLogsLogEvent, len(d.LogEvents))
	for i, e := range d.LogEvents {
		e.ID = stream + "-" + e.ID
		e.Timestamp += shift.Milliseconds()
		evs[i] = e
	}
	d.LogEvents = evs
	return d
}

func TestBatchesAddUpToTheThreshold(t *testing.T) {
	e := newEnv(t)
	below := decodedFixture(t, "logs-below-threshold.json") // 3 errors of one kind
	e.replay(t, batchEvent(t, below))
	if n := len(e.incidents(t)); n != 0 {
		t.Fatalf("after 3 errors: got %d incidents, want 0", n)
	}
	e.replay(t, batchEvent(t, restream(below, "2026/11/24/[$LATEST]other", 10*time.Second))) // 3 more: 6
	got := e.incidents(t)
	if len(got) != 1 {
		t.Fatalf("after 6 errors in two batches: got %d incidents, want 1", len(got))
	}
	_, tl, _, err := e.svc.Get(context.Background(), got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Service != "inventory-sync" || !strings.Contains(tl[0].Text, "6 errors like this") ||
		!strings.Contains(got[0].Title, "ConditionalCheckFailedException: The conditional request failed for item <n>") {
		t.Errorf("got incident %q on %s, opened %q; want the ConditionalCheckFailedException of inventory-sync, 6 errors", got[0].Title, got[0].Service, tl[0].Text)
	}
}

// One signal per fingerprint and window: more batches in the window do not
// flood the timeline; the next window adds one signal to the open incident.
func TestOneSignalPerWindow(t *testing.T) {
	e := newEnv(t)
	d := decodedFixture(t, "logs-json-errors.json")
	e.clock.Set(time.Date(2026, 11, 24, 10, 0, 10, 0, time.UTC))
	e.replay(t, batchEvent(t, d))
	e.clock.Set(time.Date(2026, 11, 24, 10, 0, 40, 0, time.UTC))
	e.replay(t, batchEvent(t, restream(d, "stream-b", 30*time.Second))) // same window, 12 errors now
	got := e.incidents(t)
	if len(got) != 1 || got[0].SignalCount != 1 {
		t.Fatalf("two batches in one window: got %d incidents (%+v), want one with one signal", len(got), got)
	}
	e.clock.Set(time.Date(2026, 11, 24, 10, 5, 10, 0, time.UTC))
	e.replay(t, batchEvent(t, restream(d, "stream-c", 5*time.Minute))) // next window
	got = e.incidents(t)
	if len(got) != 1 || got[0].SignalCount != 2 {
		t.Fatalf("next window: got %d incidents (%+v), want one with two signals", len(got), got)
	}
	_, tl, _, err := e.svc.Get(context.Background(), got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl) != 2 || tl[1].Kind != incident.EntrySignal || !strings.Contains(tl[1].Text, "window from 2026-11-24T10:05:00Z") || len(tl[1].Samples) != 3 {
		t.Errorf("got timeline %+v, want opened then one signal of the 10:05 window with samples", tl)
	}
}

// failingIngester fails the first ingest, as if the function crashed between
// counting and signalling.
type failingIngester struct {
	Ingester
	failed bool
}

func (f *failingIngester) Ingest(ctx context.Context, sig incident.Signal) (incident.Result, error) {
	if !f.failed {
		f.failed = true
		return incident.Result{}, errors.New("connection reset")
	}
	return f.Ingester.Ingest(ctx, sig)
}

// A crash after counting must not lose the incident: Lambda retries the event,
// the batch is not counted again, and the signal goes out from the stored totals.
func TestRetryAfterFailedIngestOpensTheIncident(t *testing.T) {
	e := newEnv(t)
	e.h.incidents = &failingIngester{Ingester: e.h.incidents}
	ev := readEvent(t, filepath.Join(eventsDir, "logs-json-errors.json"))
	if _, err := e.h.Handle(context.Background(), ev); err == nil {
		t.Fatal("Handle with a failing incident service: got no error, want one (so that Lambda retries)")
	}
	if n := len(e.incidents(t)); n != 0 {
		t.Fatalf("after the failure: got %d incidents, want 0", n)
	}
	e.replay(t, ev)
	got := e.incidents(t)
	if len(got) != 1 {
		t.Fatalf("after the retry: got %d incidents, want 1", len(got))
	}
	_, tl, _, err := e.svc.Get(context.Background(), got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tl[0].Text, "6 errors like this") {
		t.Errorf("opened entry %q, want the batch's 6 errors counted once", tl[0].Text)
	}
	if len(e.logs.records(t, "log batch counted before: signalling from the stored totals")) != 1 {
		t.Error("the retry did not log that it signals from the stored totals")
	}
}

func TestBadPayloadIsLoggedAndDropped(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		data string
		want string
	}{
		{"not base64", "!!!", "not base64"},
		{"not gzip", b64([]byte(`{"messageType":"DATA_MESSAGE"}`)), "not gzip"},
		{"not JSON", b64(gzipped(t, "ERROR plain text")), "not a log batch JSON object"},
		{"empty", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.h.Handle(context.Background(), event(tt.data)); err != nil {
				t.Fatalf("Handle: got error %v, want nil (a redelivery would not fix the payload)", err)
			}
		})
	}
	recs := e.logs.records(t, "log payload rejected")
	if len(recs) != len(tests) {
		t.Fatalf("got %d rejections logged, want %d", len(recs), len(tests))
	}
	for i, rec := range recs {
		if rec["level"] != "WARN" || !strings.Contains(rec["error"].(string), tests[i].want) {
			t.Errorf("rejection %d: got %v, want a WARN saying %q", i, rec, tests[i].want)
		}
	}
	if n := len(e.incidents(t)); n != 0 {
		t.Errorf("got %d incidents, want 0", n)
	}
}

func TestStoreErrorIsReturned(t *testing.T) {
	store := dynamo.New(dynamotest.Client(t), "no-such-table")
	e := newEnvWith(t, store, func() time.Time { return fixtureNow })
	_, err := e.h.Handle(context.Background(), readEvent(t, filepath.Join(eventsDir, "logs-json-errors.json")))
	if err == nil || !strings.Contains(err.Error(), "count errors of log batch") {
		t.Errorf("Handle over a missing table: got %v, want the store's error (so that Lambda retries)", err)
	}
}

func TestLogGroupMapping(t *testing.T) {
	e := newEnv(t)
	e.h.cfg.Services, _ = NewServices(map[string]string{"/aws/lambda/checkout-*": "checkout"}, "unassigned")
	e.replay(t, readEvent(t, filepath.Join(eventsDir, "logs-json-errors.json")))
	got := e.incidents(t)
	if len(got) != 1 || got[0].Service != "checkout" || got[0].DedupKey[:len("log:checkout:")] != "log:checkout:" {
		t.Errorf("got %+v, want one incident of service checkout", got)
	}
}
