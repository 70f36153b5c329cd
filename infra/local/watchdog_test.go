package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/escalation"
)

// TestLocalWatchdogPagesALostStart: the escalation start of a new incident
// is lost (the stream function's StartExecution fails, and the escalation
// mapping gives the record up at once, as AWS's does after 20 hours); the
// watchdog, on its timer, finds the triggered paging incident without an
// execution past its grace period and starts it: every level is paged, once.
func TestLocalWatchdogPagesALostStart(t *testing.T) {
	pages := &pageRecorder{}
	logs := &syncBuffer{}
	var mu sync.Mutex
	attempts := map[string]int{}
	lose := func(name string) error {
		mu.Lock()
		defer mu.Unlock()
		if attempts[name]++; attempts[name] == 1 {
			return errors.New("StartExecution: ServiceUnavailable (injected)")
		}
		return nil
	}
	_, _, invoke := startLocalLogged(t, map[string]string{"LOCAL_TIME_SCALE": "3000"}, logs,
		withPager(pages), withSchedules(), withStartFault(lose), withEscalationRecordAge(time.Nanosecond))

	postAlarm(t, invoke.URL)
	want := 5 // levels 1, 2, the repeat, the fallback: the demo policy
	got := pages.waitPages(want, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // time for a page too many to show
	got = pages.sent()
	if len(got) != want {
		t.Fatalf("pages: got %d, want %d (one escalation, started by the watchdog)\n%s", len(got), want, logs.String())
	}
	log := logs.String()
	for _, line := range []string{"stream records given up after retries", "watchdog: escalation started: the stream had not started it"} {
		if !strings.Contains(log, line) {
			t.Errorf("log: no %q line", line)
		}
	}
	name := "inc-" + got[0].IncidentID + "-0"
	mu.Lock()
	defer mu.Unlock()
	if attempts[name] != 2 {
		t.Errorf("starts of %s: got %d, want 2 (the stream's, lost; the watchdog's)", name, attempts[name])
	}
}

// TestRunnerRedrivesAFailedExecution: an execution failed by an error no
// Catch takes (States.Runtime) is FAILED; a redrive runs the state that failed
// again, with its input, and the execution succeeds; the states before it do
// not run again, and a succeeded execution is not redrivable.
func TestRunnerRedrivesAFailedExecution(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var opened, paged atomic.Int32
	r := &runner{
		def: mustDefinition(t),
		invoke: func(_ context.Context, fn string, payload []byte) ([]byte, error) {
			switch fn {
			case "warroom":
				opened.Add(1)
				return []byte(`{"channel_id":"C1"}`), nil
			case "escalate":
				if paged.Add(1) == 1 {
					return nil, &taskError{Name: errRuntime, Cause: "injected"}
				}
				return []byte(`{"incident_id":"01ABC","state":{},"done":true}`), nil
			}
			return nil, fmt.Errorf("no function %s", fn)
		},
		scale: 60, log: discardLogger(), ctx: ctx,
	}
	const name = "inc-01ABC-0"
	if err := r.Start(ctx, name, []byte(`{"incident_id":"01ABC","state":{}}`)); err != nil {
		t.Fatal(err)
	}
	waitState := func(want string) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			got, _, _ := r.State(ctx, name)
			if got == want {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("state: got %q, want %q", got, want)
			}
		}
	}
	waitState(escalation.ExecutionFailed)
	if err := r.Redrive(ctx, name); err != nil {
		t.Fatalf("redrive: %v", err)
	}
	waitState(escalation.ExecutionSucceeded)
	if opened.Load() != 1 || paged.Load() != 2 {
		t.Errorf("got %d war rooms and %d PageLevel calls, want 1 and 2 (the failed one, run again)", opened.Load(), paged.Load())
	}
	if err := r.Redrive(ctx, name); !errors.Is(err, escalation.ErrNotRedrivable) {
		t.Errorf("redrive of a succeeded execution: got %v, want ErrNotRedrivable", err)
	}
	if s, _, _ := r.State(ctx, "inc-other-0"); s != escalation.ExecutionMissing {
		t.Errorf("state of an execution never started: got %q, want none", s)
	}
	cancel()
	r.wait()
}

// TestRunnerLastPageSaw: the runner records, as the execution history
// does in AWS, the reopen count escalate's output said in an execution's
// latest page step: the PageLevel after the war room (whose output is not
// a page step's), after a failed attempt of it; not known for an output
// without one (an older version) or an execution never started.
func TestRunnerLastPageSaw(t *testing.T) {
	tests := []struct {
		name      string
		pageLevel string // PageLevel's output after its failed first attempt
		want      int
		wantKnown bool
	}{
		{name: "PageLevel read reopen 2", pageLevel: `{"incident_id":"01ABC","state":{},"done":true,"reopen_count":2}`, want: 2, wantKnown: true},
		{name: "an output without reopen_count", pageLevel: `{"incident_id":"01ABC","state":{},"done":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			var calls []string
			r := &runner{
				def: mustDefinition(t),
				invoke: func(_ context.Context, fn string, _ []byte) ([]byte, error) {
					mu.Lock()
					defer mu.Unlock()
					calls = append(calls, fn)
					switch {
					case fn == "warroom": // no reopen_count in truth: shows it is not read
						return []byte(`{"channel_id":"C1","reopen_count":9}`), nil
					case fn == "escalate" && len(calls) == 1: // FirstPage: level 1 paged, wait
						return []byte(`{"incident_id":"01ABC","state":{},"done":false,"wait_seconds":0,"reopen_count":1}`), nil
					case fn == "escalate" && len(calls) == 3: // PageLevel's first attempt fails
						return nil, errors.New("ThrottlingException")
					case fn == "escalate":
						return []byte(tt.pageLevel), nil
					}
					return nil, fmt.Errorf("no function %s", fn)
				},
				scale: 60, log: discardLogger(), ctx: ctx,
			}
			const name = "inc-01ABC-0"
			if err := r.Start(ctx, name, []byte(`{"incident_id":"01ABC","state":{}}`)); err != nil {
				t.Fatal(err)
			}
			for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				if s, _, _ := r.State(ctx, name); s == escalation.ExecutionSucceeded {
					break
				}
				if time.Now().After(end) {
					t.Fatal("the execution did not succeed within 10 s")
				}
			}
			mu.Lock()
			if want := "escalate,warroom,escalate,escalate"; strings.Join(calls, ",") != want {
				t.Fatalf("calls: got %v, want %s", calls, want)
			}
			mu.Unlock()
			got, known, err := r.LastPageSaw(ctx, name)
			if got != tt.want || known != tt.wantKnown || err != nil {
				t.Errorf("last page step saw: got %d, known %v, %v; want %d, known %v", got, known, err, tt.want, tt.wantKnown)
			}
			if got, known, err := r.LastPageSaw(ctx, "inc-other-0"); got != 0 || known || err != nil {
				t.Errorf("never started: got %d, known %v, %v; want not known", got, known, err)
			}
			cancel()
			r.wait()
		})
	}
}
