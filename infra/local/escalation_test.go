package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/oncall"
)

// pageRecorder is the test's PagingTopic: it keeps every page with the time it
// was sent.
type pageRecorder struct {
	mu    sync.Mutex
	pages []sentPage
}

type sentPage struct {
	oncall.ResponderPage
	At time.Time
}

func (r *pageRecorder) Page(_ context.Context, p oncall.ResponderPage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pages = append(r.pages, sentPage{ResponderPage: p, At: time.Now()})
	return nil
}

func (r *pageRecorder) sent() []sentPage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentPage(nil), r.pages...)
}

// waitPages waits until n pages were sent or the timeout passes.
func (r *pageRecorder) waitPages(n int, timeout time.Duration) []sentPage {
	deadline := time.Now().Add(timeout)
	for {
		got := r.sent()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func postAlarm(t *testing.T, invokeURL string) {
	t.Helper()
	fixture, err := os.ReadFile("../../events/alarms-sns-metric.json")
	if err != nil {
		t.Fatal(err)
	}
	status, hdr, body := call(t, http.MethodPost, invokeURL+"/2015-03-31/functions/alarms/invocations", "", fixture)
	if status != http.StatusOK || hdr.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke alarms: got %d %q %s, want 200 without a function error", status, hdr.Get("X-Amz-Function-Error"), body)
	}
}

// The checkout alarm, delivered 5 times, starts one escalation of the demo
// policy: level 1 (the schedule's person) within 2 s, level 2 (carol) after
// the shortened wait, the repeat, then the fallback (dave), and nothing else.
func TestLocalEscalationPagesEveryLevelOnce(t *testing.T) {
	const scale = 3000 // level 1 waits 20 ms, level 2 40 ms
	pages := &pageRecorder{}
	_, _, invoke := startLocal(t, map[string]string{"LOCAL_TIME_SCALE": "3000"}, withPager(pages))

	start := time.Now()
	for range 5 {
		postAlarm(t, invoke.URL)
	}
	got := pages.waitPages(1, 2*time.Second)
	if len(got) == 0 {
		t.Fatalf("no page within 2 s of the alarm, want level 1 paged")
	}
	if d := got[0].At.Sub(start); d > 2*time.Second {
		t.Errorf("first page: got it %v after the alarm, want within 2 s", d)
	}
	first := got[0]
	if first.Level != 1 || (first.Responder != "alice" && first.Responder != "bob") {
		t.Fatalf("first page: got level %d to %s, want level 1 to the checkout-primary on-call (alice or bob)", first.Level, first.Responder)
	}

	want := []struct {
		level     int
		responder string
	}{{1, first.Responder}, {2, "carol"}, {1, first.Responder}, {2, "carol"}, {0, "dave"}}
	got = pages.waitPages(len(want), 5*time.Second)
	time.Sleep(300 * time.Millisecond) // time for any page too many (a second escalation) to show
	got = pages.sent()
	if len(got) != len(want) {
		for _, p := range got {
			t.Logf("page: level %d to %s of %s", p.Level, p.Responder, p.IncidentID)
		}
		t.Fatalf("pages after 5 deliveries of one alarm: got %d, want %d (one escalation: levels 1, 2, the repeat, the fallback)", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Level != w.level || got[i].Responder != w.responder || got[i].IncidentID != first.IncidentID {
			t.Errorf("page %d: got level %d to %s of %s, want level %d to %s of %s", i+1,
				got[i].Level, got[i].Responder, got[i].IncidentID, w.level, w.responder, first.IncidentID)
		}
	}
	// Level 1 waits 1 policy minute before level 2 is paged.
	if wait, min := got[1].At.Sub(got[0].At), time.Minute/scale; wait < min {
		t.Errorf("level 2 paged %v after level 1, want at least the shortened wait %v", wait, min)
	}
	if got[0].Severity != "SEV2" {
		t.Errorf("page severity: got %q, want SEV2 (checkout's default)", got[0].Severity)
	}
}

// Acknowledging through the API stops the escalation: no page after level 1.
func TestLocalAcknowledgeStopsPages(t *testing.T) {
	const scale = 300 // level 1 waits 200 ms: time enough to acknowledge
	pages := &pageRecorder{}
	p, api, invoke := startLocal(t, map[string]string{"LOCAL_TIME_SCALE": "300"}, withPager(pages))

	postAlarm(t, invoke.URL)
	got := pages.waitPages(1, 2*time.Second)
	if len(got) != 1 || got[0].Level != 1 {
		t.Fatalf("pages within 2 s of the alarm: got %d, want the level-1 page", len(got))
	}
	status, _, body := call(t, http.MethodPost, api.URL+"/incidents/"+got[0].IncidentID+"/acknowledge", p.token, map[string]any{})
	if status != http.StatusOK {
		t.Fatalf("POST /incidents/%s/acknowledge: got %d %s, want 200", got[0].IncidentID, status, body)
	}
	acked := time.Now()
	time.Sleep(5 * time.Minute / scale) // five level-1 waits
	for _, pg := range pages.sent()[1:] {
		t.Errorf("page after the acknowledgement: level %d to %s, %v after it", pg.Level, pg.Responder, pg.At.Sub(acked))
	}
}

// The runner refuses a name it has run, as StartExecution does, so the
// Starter reports the escalation as started already.
func TestRunnerRefusesANameTwice(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var opened, paged atomic.Int32
	r := &runner{
		def: mustDefinition(t),
		invoke: func(_ context.Context, fn string, payload []byte) ([]byte, error) {
			switch fn {
			case "warroom":
				opened.Add(1)
				return nil, errors.New("slack down") // caught: paging goes on
			case "escalate":
				paged.Add(1)
				return []byte(`{"incident_id":"01ABC","state":{},"done":true}`), nil
			}
			return nil, fmt.Errorf("no function %s", fn)
		},
		scale: 60, log: discardLogger(), ctx: ctx,
	}
	input := []byte(`{"incident_id":"01ABC","state":{}}`)
	if err := r.Start(ctx, "inc-01ABC-0", input); err != nil {
		t.Fatalf("first start: got %v, want nil", err)
	}
	for range 4 {
		if err := r.Start(ctx, "inc-01ABC-0", input); !errors.Is(err, escalation.ErrAlreadyStarted) {
			t.Fatalf("start of a known name: got %v, want ErrAlreadyStarted", err)
		}
	}
	if err := r.Start(ctx, "bad", []byte(`{nope`)); err == nil {
		t.Errorf("start with input that is not JSON: got nil, want an error")
	}
	deadline := time.Now().Add(2 * time.Second)
	for paged.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	r.wait()
	if opened.Load() != 1 || paged.Load() != 1 {
		t.Errorf("one execution: got %d war rooms and %d PageLevel calls, want 1 and 1 (a war room failure does not stop paging)", opened.Load(), paged.Load())
	}
}

func mustDefinition(t *testing.T) *stateMachine {
	t.Helper()
	def, err := parseStateMachine(escalationDefinition)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
