package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

// outage is how long DynamoDB Local stays down: longer than PageLevel's
// retries (2 + 4 + 8 s, not time-scaled), as issue #8 reproduced the lost
// escalation with ~15 s.
const outage = 20 * time.Second

// TestLocalPagesSurviveStoreOutage runs the platform on a DynamoDB Local of
// its own, keeping its data in a folder (LOCAL_DB_PATH), kills it (SIGTERM:
// dynamolocal.Terminate; a SIGKILL would also lose the emulator's last
// acknowledged transaction, which DynamoDB never does), keeps it down for
// 20 s and restarts it on the same folder and port, with three checkout
// incidents caught at three moments around their opening:
//
//   - A was paged at level 1 and waits for level 2, which falls in the outage
//     (PageLevel fails past its retries, RetryLater, PageLevel again);
//   - B's escalation started and its first page (FirstPage) is about to run when the
//     store goes (the kill happens right before escalate is invoked);
//   - C's alarm was accepted (the incident written) just before the kill, and
//     the stream had most likely not delivered it yet (the poller reads on
//     from its iterator after the restart; had it delivered it, the start
//     fails and the escalation mapping retries it; had its escalation
//     started, its first page, which runs first, waits for the store to be
//     gone and fails with it).
//
// Every incident is paged after the restart, at each level once, in the
// policy's order (level 1, level 2, the repeat, the fallback).
func TestLocalPagesSurviveStoreOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("stops DynamoDB Local for 20 s")
	}
	ctx := context.Background()
	dir := t.TempDir()
	port := freeTCPPort(t)
	db, err := dynamolocal.Start(ctx, dynamolocal.Options{Port: port, DBPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	var dbMu sync.Mutex
	t.Cleanup(func() { dbMu.Lock(); db.Stop(); dbMu.Unlock() })

	pages := &pageRecorder{}
	var (
		p        *platform
		armed    = make(chan string, 1) // A's id: the kill waits for another incident's first PageLevel
		killed   = make(chan time.Time, 1)
		cPosted  = make(chan error, 1)
		killOnce sync.Once
		bID      string // set before killed is sent
		// killing is closed when the kill starts, dbDown once the store is
		// down: an escalate call made in between (C's first page, which
		// runs first in its execution and may be quicker than the kill)
		// waits for the store to be gone, as it would had it come a moment
		// later.
		killing, dbDown = make(chan struct{}), make(chan struct{})
	)
	beforeTask := func(_ context.Context, fn string, payload []byte) {
		if fn != "escalate" {
			return
		}
		select {
		case <-killing:
			<-dbDown
			return
		default:
		}
		select {
		case a := <-armed:
			if bytes.Contains(payload, []byte(a)) {
				armed <- a // A's own next level: not the moment
				return
			}
		default:
			return
		}
		killOnce.Do(func() {
			close(killing)
			defer close(dbDown)
			var in struct {
				IncidentID string `json:"incident_id"`
			}
			_ = json.Unmarshal(payload, &in)
			bID = in.IncidentID
			// C's alarm is accepted, then the store goes, before B's first
			// PageLevel reads it.
			_, err := invokeAlarm(ctx, p, "checkout-c")
			cPosted <- err
			dbMu.Lock()
			db.Terminate()
			dbMu.Unlock()
			killed <- time.Now()
		})
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	env := map[string]string{"LOCAL_TIME_SCALE": "20"} // level 1 waits 3 s, level 2 6 s; RetryLater 1.5 s
	p, err = newPlatform(ctx, db.Endpoint, func(k string) string { return env[k] }, logger,
		withPager(pages), withBeforeTask(beforeTask))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("platform log:\n%s", logs.tail(60))
		}
	})

	// A: paged at level 1 before the outage.
	if _, err := invokeAlarm(ctx, p, "checkout-a"); err != nil {
		t.Fatalf("alarm A: %v", err)
	}
	got := pages.waitPages(1, 10*time.Second)
	if len(got) != 1 || got[0].Level != 1 {
		t.Fatalf("pages of A before the outage: got %v, want its level-1 page", levels(got))
	}
	a := got[0].IncidentID
	armed <- a
	// B: its escalation starts; the kill happens at its first PageLevel.
	if _, err := invokeAlarm(ctx, p, "checkout-b"); err != nil {
		t.Fatalf("alarm B: %v", err)
	}
	var down time.Time
	select {
	case down = <-killed:
	case <-time.After(10 * time.Second):
		t.Fatal("B's first PageLevel did not run within 10 s of its alarm")
	}
	if err := <-cPosted; err != nil {
		t.Fatalf("alarm C (before the kill): %v", err)
	}
	if n := len(pages.sent()); n != 1 {
		t.Fatalf("pages before the outage: got %d, want A's level 1 alone", n)
	}

	time.Sleep(time.Until(down.Add(outage)))
	if n := len(pages.sent()); n != 1 {
		t.Errorf("pages while the store was down: got %d, want none (every step needs the store)", n-1)
	}
	dbMu.Lock()
	db, err = dynamolocal.Start(ctx, dynamolocal.Options{Port: port, DBPath: dir})
	dbMu.Unlock()
	if err != nil {
		t.Fatalf("restart DynamoDB Local on %s: %v", dir, err)
	}
	back := time.Now()
	t.Logf("DynamoDB Local down %.1f s (killed, restarted on the same folder)", back.Sub(down).Seconds())

	// Every incident's first page after the restart: A's level 2, B's and
	// C's level 1. 3 incidents, A's two pages: 4 pages at least.
	deadline := back.Add(45 * time.Second)
	var byIncident map[string][]sentPage
	for {
		byIncident = map[string][]sentPage{}
		for _, pg := range pages.sent() {
			byIncident[pg.IncidentID] = append(byIncident[pg.IncidentID], pg)
		}
		if len(byIncident) == 3 && len(byIncident[a]) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // time for a page too many to show
	byIncident = map[string][]sentPage{}
	for _, pg := range pages.sent() {
		byIncident[pg.IncidentID] = append(byIncident[pg.IncidentID], pg)
	}
	if len(byIncident) != 3 {
		t.Fatalf("incidents paged: got %d, want 3 (A, B, C): %v", len(byIncident), byIncidentLevels(byIncident))
	}
	// The policy's order: a page twice shows as a level out of it.
	order := []int{1, 2, 1, 2, 0}
	for id, pgs := range byIncident {
		lv := levels(pgs)
		if len(lv) > len(order) || !slices.Equal(lv, order[:len(lv)]) {
			t.Errorf("incident %s: pages at levels %v, want a prefix of %v (each level once, in order)", id, lv, order)
		}
		first := pgs[0]
		if id == a {
			if len(pgs) < 2 {
				t.Errorf("incident A: got %v, want its level 2 paged after the restart", lv)
				continue
			}
			first = pgs[1]
		}
		if first.At.Before(back) {
			t.Errorf("incident %s: level %d paged %v before the restart, want after (the store was down)", id, first.Level, back.Sub(first.At))
			continue
		}
		name := map[string]string{a: "A", bID: "B"}[id]
		if name == "" {
			name = "C"
		}
		t.Logf("incident %s (%s): level %d paged %.1f s after DynamoDB Local was back", id, name, first.Level, first.At.Sub(back).Seconds())
	}
	for _, want := range []string{"PageLevel failed; caught, going on with RetryLater", "stream readable again"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log: no %q line", want)
		}
	}
}

// invokeAlarm delivers the checkout CPU fixture as the alarm named name (an
// alarm of its own: an incident of its own) to the alarms function.
func invokeAlarm(ctx context.Context, p *platform, name string) ([]byte, error) {
	fixture, err := os.ReadFile("../../events/alarms-sns-metric.json")
	if err != nil {
		return nil, err
	}
	ev := bytes.ReplaceAll(fixture, []byte("checkout-cpu"), []byte(name))
	ev = bytes.ReplaceAll(ev, []byte("3f4c2a1e-7b8d-5e9f-a0b1-c2d3e4f5a6b7"), []byte(fmt.Sprintf("3f4c2a1e-7b8d-5e9f-a0b1-%012x", time.Now().UnixNano()&0xffffffffffff)))
	if !json.Valid(ev) {
		return nil, fmt.Errorf("fixture for %s is no JSON", name)
	}
	return p.functions["alarms"](ctx, ev)
}

func levels(pgs []sentPage) []int {
	out := make([]int, len(pgs))
	for i, p := range pgs {
		out[i] = p.Level
	}
	return out
}

func byIncidentLevels(m map[string][]sentPage) map[string][]int {
	out := map[string][]int{}
	for id, pgs := range m {
		out[id] = levels(pgs)
	}
	return out
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// tail is the last n lines written to s.
func (s *syncBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimSpace(s.String()), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
