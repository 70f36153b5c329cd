package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
	"github.com/incidentd/incidentd/shared/oncall"
)

// backend is a small Step Functions: executions by name with their status;
// Redrive sets a failed one running again, unless refused.
type backend struct {
	mu       sync.Mutex
	status   map[string]string
	started  []string
	redriven []string
	refuse   map[string]bool // Redrive answers ErrNotRedrivable
	// overlap: an overlapping watchdog run redrives the execution just
	// before this one asks: Redrive finds it running and refuses.
	overlap map[string]bool
	fail    map[string]error     // State answers this error
	stopped map[string]time.Time // when an ended execution stopped
	// lastPage is an execution's latest page step as its history tells
	// it; historyFail, what LastPageSaw answers instead; historyAsked,
	// whose history was read.
	lastPage     map[string]pageStep
	historyFail  map[string]error
	historyAsked []string
	// then: the execution's status right after State answered for it
	// (it ends between two questions; stopped says when).
	then map[string]string
}

// pageStep is the latest page step of an execution: the reopen count its
// invocation read (known: its output had one).
type pageStep struct {
	saw   int
	known bool
}

func newBackend() *backend {
	return &backend{status: map[string]string{}, refuse: map[string]bool{}, overlap: map[string]bool{}, fail: map[string]error{},
		stopped: map[string]time.Time{}, lastPage: map[string]pageStep{}, historyFail: map[string]error{}, then: map[string]string{}}
}

func (b *backend) LastPageSaw(_ context.Context, name string) (int, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.historyAsked = append(b.historyAsked, name)
	if err := b.historyFail[name]; err != nil {
		return 0, false, err
	}
	p := b.lastPage[name]
	return p.saw, p.known, nil
}

func (b *backend) Start(_ context.Context, name string, _ []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.status[name]; ok {
		return escalation.ErrAlreadyStarted
	}
	b.status[name] = escalation.ExecutionRunning
	b.started = append(b.started, name)
	return nil
}

func (b *backend) Running(ctx context.Context, name string) (bool, error) {
	s, _, err := b.State(ctx, name)
	return s == escalation.ExecutionRunning, err
}

func (b *backend) State(_ context.Context, name string) (string, time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.fail[name]; err != nil {
		return "", time.Time{}, err
	}
	status, stopped := b.status[name], b.stopped[name]
	if next, ok := b.then[name]; ok {
		delete(b.then, name)
		b.status[name] = next
	}
	return status, stopped, nil
}

func (b *backend) Redrive(_ context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.overlap[name] {
		b.status[name] = escalation.ExecutionRunning
		return fmt.Errorf("execution %s is RUNNING and cannot be redriven: %w", name, errkind.Conflict)
	}
	if b.refuse[name] {
		return fmt.Errorf("execution %s: history limit: %w", name, errkind.Conflict)
	}
	b.status[name] = escalation.ExecutionRunning
	b.redriven = append(b.redriven, name)
	return nil
}

// configs are the services' configs; no policy exists (the fallback is paged).
type configs map[string]incident.ServiceConfig

func (c configs) ServiceConfig(_ context.Context, name string) (incident.ServiceConfig, error) {
	if cfg, ok := c[name]; ok {
		return cfg, nil
	}
	return incident.ServiceConfig{}, errkind.NotFoundf("service %s", name)
}

func (configs) Policy(_ context.Context, id string) (oncall.Policy, error) {
	return oncall.Policy{}, errkind.NotFoundf("policy %s", id)
}

const watchWindow = 30 * time.Minute

type watchEnv struct {
	clock *clocktest.Clock
	svc   *incident.Service
	b     *backend
	w     *escalation.Watchdog
}

// inMemory is the in-memory store, on the test's clock.
func inMemory(_ testing.TB, now func() time.Time) incident.Store { return incidenttest.New(now) }

// runAfterGrace runs the watchdog once the grace has passed and checks that
// it started inc's own escalation if wantStarted, and nothing else, without
// an error.
func (e *watchEnv) runAfterGrace(t *testing.T, inc incident.Incident, wantStarted bool) {
	t.Helper()
	e.clock.Advance(escalation.DefaultWatchdogGrace + time.Second)
	rep := e.run(t)
	want := []string(nil)
	if wantStarted {
		want = []string{escalation.ExecutionName(inc)}
	}
	if !slices.Equal(e.b.started, want) || rep.Errors != 0 {
		t.Errorf("started: got %v (errors %d), want %v", e.b.started, rep.Errors, want)
	}
}

// cpuAlarm gives the service a state change of checkout's CPU alarm, of
// time at, delivered as delivery i.
func (e *watchEnv) cpuAlarm(t *testing.T, kind incident.SignalKind, at time.Time, i int) incident.Result {
	t.Helper()
	res, err := e.svc.Ingest(context.Background(), incident.Signal{
		Source: incident.SourceAlarm, Kind: kind, Service: "checkout", DedupKey: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-cpu",
		Title: "checkout-cpu", At: at, Actor: "alarm:checkout-cpu", DeliveryID: fmt.Sprint(i),
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func newWatchEnv(t testing.TB, store func(testing.TB, func() time.Time) incident.Store) *watchEnv {
	t.Helper()
	clock := clocktest.New(now)
	svc := incident.NewService(store(t, clock.Now), incident.Rules{ReopenWindow: watchWindow}, incident.WithClock(clock.Now))
	cfgs := configs{
		"checkout": {Name: "checkout", AutoResolve: true},
		"search":   {Name: "search", PagingSeverities: []incident.Severity{incident.SEV1}},
	}
	for _, c := range cfgs { // the incident service reads them from the store
		if _, err := svc.PutServiceConfig(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	b := newBackend()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	st := escalation.NewStarter(escalation.StarterConfig{Configs: cfgs, Executions: b, Logger: logger})
	return &watchEnv{clock: clock, svc: svc, b: b, w: escalation.NewWatchdog(escalation.WatchdogConfig{
		Incidents: svc, Configs: cfgs, Executions: b, Starter: st, ReopenWindow: watchWindow,
		Logger: logger, Now: clock.Now,
	})}
}

func (e *watchEnv) declare(t *testing.T, service string, sev incident.Severity) incident.Incident {
	t.Helper()
	inc, err := e.svc.Declare(context.Background(), incident.Declaration{Service: service, Title: "down", Severity: sev, Actor: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func (e *watchEnv) run(t *testing.T) escalation.WatchdogReport {
	t.Helper()
	rep, err := e.w.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestWatchdogStartsLostEscalations: the escalation of a triggered incident
// in a paging severity, older than the grace period, that never started is
// started, once; young, acknowledged, resolved and non-paging incidents are
// left alone. It runs on DynamoDB Local (the open-incidents index, across
// pages of 100) and on the in-memory store.
func TestWatchdogStartsLostEscalations(t *testing.T) {
	stores := map[string]func(testing.TB, func() time.Time) incident.Store{
		"dynamodb local": func(t testing.TB, _ func() time.Time) incident.Store { return dynamotest.Store(t) },
		"in memory":      inMemory,
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			e := newWatchEnv(t, store)
			ctx := context.Background()
			var want []string
			for range 105 { // more than one page of the index
				want = append(want, escalation.ExecutionName(e.declare(t, "checkout", incident.SEV2)))
			}
			acked := e.declare(t, "checkout", incident.SEV1)
			if _, err := e.svc.Acknowledge(ctx, acked.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			resolved := e.declare(t, "checkout", incident.SEV1)
			if _, err := e.svc.Resolve(ctx, resolved.ID, "alice", incident.Resolution{}); err != nil {
				t.Fatal(err)
			}
			e.declare(t, "checkout", incident.SEV4) // does not page (default paging severities)
			e.declare(t, "search", incident.SEV2)   // search pages SEV1 only
			e.clock.Advance(escalation.DefaultWatchdogGrace + time.Second)
			e.declare(t, "checkout", incident.SEV1) // young: the stream's to start

			rep := e.run(t)
			if got := slices.Sorted(slices.Values(e.b.started)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("started %d executions, want the %d paging incidents past the grace period", len(got), len(want))
			}
			if rep.Open != 109 || rep.Started != 105 || rep.Errors != 0 {
				t.Errorf("report %+v: want open 109, started 105, no errors", rep)
			}
			if len(e.b.historyAsked) != 0 { // none reopened: no history read
				t.Errorf("histories read: got %v, want none", e.b.historyAsked)
			}
			// Idempotent: a second run finds them running.
			if rep := e.run(t); rep.Started+rep.Redriven+rep.Restarted != 0 || len(e.b.started) != 105 {
				t.Errorf("second run: report %+v, %d started in all; want nothing more", rep, len(e.b.started))
			}
		})
	}
}

// TestWatchdogRedrivesFailedEscalations: by the state of the incident's
// execution, the watchdog redrives it, starts a fresh run when Step
// Functions refuses, or leaves it.
func TestWatchdogRedrivesFailedEscalations(t *testing.T) {
	tests := []struct {
		name         string
		status       string
		refuse       bool
		overlap      bool
		wantRedriven bool
		wantStarted  string // suffix of the fresh run's name
	}{
		{name: "failed", status: escalation.ExecutionFailed, wantRedriven: true},
		{name: "timed out", status: escalation.ExecutionTimedOut, wantRedriven: true},
		{name: "aborted", status: escalation.ExecutionAborted, wantRedriven: true},
		{name: "failed, not redrivable", status: escalation.ExecutionFailed, refuse: true, wantStarted: "-r1"},
		// Step Functions refuses to redrive what runs again: no fresh run.
		{name: "failed, redriven meanwhile by an overlapping run", status: escalation.ExecutionFailed, overlap: true},
		{name: "succeeded: ran to its end", status: escalation.ExecutionSucceeded},
		{name: "running", status: escalation.ExecutionRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newWatchEnv(t, inMemory)
			inc := e.declare(t, "checkout", incident.SEV2)
			name := escalation.ExecutionName(inc)
			e.b.status[name] = tt.status
			e.b.refuse[name] = tt.refuse
			e.b.overlap[name] = tt.overlap
			e.clock.Advance(escalation.DefaultWatchdogGrace + time.Second)
			e.run(t)
			if got := slices.Contains(e.b.redriven, name); got != tt.wantRedriven {
				t.Errorf("redriven: got %v, want %v", got, tt.wantRedriven)
			}
			var wantStarted []string
			if tt.wantStarted != "" {
				wantStarted = []string{name + tt.wantStarted}
			}
			if !slices.Equal(e.b.started, wantStarted) {
				t.Errorf("started: got %v, want %v", e.b.started, wantStarted)
			}
			// Once going, nothing more.
			if rep := e.run(t); rep.Started+rep.Redriven+rep.Restarted != 0 {
				t.Errorf("second run: %+v, want nothing", rep)
			}
		})
	}
}

// TestWatchdogReopenedIncident: a reopened incident whose own escalation
// (inc-<id>-1) does not exist was paged by the earlier one if that one ran
// past the reopen (the stream starts none while one runs), its last page
// step saw the reopen, and it succeeded: nothing to start
// (TestWatchdogReopenRace: what the page step saw). One that ended before
// the reopen, or failed, means the reopen's start was lost: it is started.
// An earlier one that still runs (or waits for its redrive) pages the
// reopen: nothing started, no history read, even when it ends SUCCEEDED
// between the watchdog's question and the Starter's (a check-then-act race
// that started a second escalation); the next run looks again.
func TestWatchdogReopenedIncident(t *testing.T) {
	tests := []struct {
		name        string
		earlier     string
		then        string // the earlier's status right after the watchdog asked
		stoppedLate bool   // the earlier execution stopped after the reopen
		wantStarted bool
		wantHistory bool
	}{
		{name: "earlier ran past the reopen and succeeded", earlier: escalation.ExecutionSucceeded, stoppedLate: true, wantHistory: true},
		{name: "earlier still runs", earlier: escalation.ExecutionRunning},
		{name: "earlier waits for its redrive", earlier: escalation.ExecutionPendingRedrive},
		{name: "earlier runs when asked and succeeds right after", earlier: escalation.ExecutionRunning, then: escalation.ExecutionSucceeded},
		{name: "earlier succeeded before the reopen", earlier: escalation.ExecutionSucceeded, wantStarted: true},
		{name: "earlier failed after the reopen", earlier: escalation.ExecutionFailed, stoppedLate: true, wantStarted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newWatchEnv(t, inMemory)
			ctx := context.Background()
			alarm := func(kind incident.SignalKind, i int) string { return e.cpuAlarm(t, kind, e.clock.Now(), i).IncidentID }
			id := alarm(incident.Trigger, 0)
			e.clock.Advance(time.Minute)
			alarm(incident.Recover, 1) // checkout auto-resolves
			e.clock.Advance(time.Minute)
			reopened := e.clock.Now()
			alarm(incident.Trigger, 2)
			inc, _, _, err := e.svc.Get(ctx, id)
			if err != nil || inc.ReopenCount != 1 {
				t.Fatalf("got reopen count %d, %v; want 1", inc.ReopenCount, err)
			}
			first := escalation.RestartName(incident.Incident{ID: id}, 0)
			e.b.status[first] = tt.earlier
			// Its last page step ran after the reopen and saw it.
			e.b.lastPage[first] = pageStep{saw: 1, known: true}
			e.b.stopped[first] = reopened.Add(-time.Second)
			if tt.stoppedLate || tt.then != "" {
				e.b.stopped[first] = reopened.Add(time.Minute)
			}
			if tt.then != "" {
				e.b.then[first] = tt.then
			}
			e.runAfterGrace(t, inc, tt.wantStarted)
			if got := len(e.b.historyAsked) > 0; got != tt.wantHistory {
				t.Errorf("histories read: got %v, want a read: %v", e.b.historyAsked, tt.wantHistory)
			}
		})
	}
}

// TestWatchdogLateAlarmReopen: two faults at once. An ALARM whose state
// changed (event time) while the earlier escalation still watched the
// resolved incident, but delivered late, reopens it after that escalation
// ended; and the stream's start of the reopen's own escalation
// (inc-<id>-1) is lost. The earlier run ended before the reopen was
// processed, so it paged nothing of it: the watchdog starts inc-<id>-1. An
// earlier run that ended after the reopen was processed, its last page step
// too, did page it: nothing to start.
func TestWatchdogLateAlarmReopen(t *testing.T) {
	tests := []struct {
		name string
		// stoppedAfterEvent is how long after the late ALARM's event time
		// the earlier (succeeded) escalation stopped; the ALARM is
		// processed 10 minutes after its event time.
		stoppedAfterEvent time.Duration
		wantStarted       bool
		wantHistory       bool
	}{
		{name: "earlier run stopped after the event time, before the reopen was processed", stoppedAfterEvent: 6 * time.Minute, wantStarted: true},
		{name: "earlier run stopped after the reopen was processed", stoppedAfterEvent: 11 * time.Minute, wantHistory: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newWatchEnv(t, inMemory)
			ctx := context.Background()
			alarm := func(kind incident.SignalKind, at time.Time, i int) incident.Result { return e.cpuAlarm(t, kind, at, i) }
			id := alarm(incident.Trigger, e.clock.Now(), 0).IncidentID
			e.clock.Advance(time.Minute)
			alarm(incident.Recover, e.clock.Now(), 1) // checkout auto-resolves
			// The alarm fires again 25 minutes later (inside the reopen
			// window); its state change reaches the platform 10 minutes late.
			event := e.clock.Now().Add(25 * time.Minute)
			e.clock.Set(event.Add(10 * time.Minute))
			if res := alarm(incident.Trigger, event, 2); res.Outcome != incident.Reopened {
				t.Fatalf("late ALARM: got outcome %q, want %q", res.Outcome, incident.Reopened)
			}
			inc, _, _, err := e.svc.Get(ctx, id)
			if err != nil || inc.ReopenCount != 1 {
				t.Fatalf("got reopen count %d, %v; want 1", inc.ReopenCount, err)
			}
			// The earlier escalation watched the resolved incident and ran
			// to its end; the reopen's own start never happened.
			first := escalation.RestartName(incident.Incident{ID: id}, 0)
			e.b.status[first] = escalation.ExecutionSucceeded
			e.b.stopped[first] = event.Add(tt.stoppedAfterEvent)
			// Its history says its last page step saw the reopen, which only a run that
			// stopped after the reopen was processed can have: one that
			// stopped before is not covered whatever its history says,
			// and the history is not read.
			e.b.lastPage[first] = pageStep{saw: 1, known: true}
			e.runAfterGrace(t, inc, tt.wantStarted)
			if got := len(e.b.historyAsked) > 0; got != tt.wantHistory {
				t.Errorf("histories read: got %v, want a read: %v", e.b.historyAsked, tt.wantHistory)
			}
		})
	}
}

// TestWatchdogReopenRace: the earlier escalation's last page step reads the
// incident still resolved (reopen count 0) and decides it is done; the
// reopen is written a moment later, and the stream, processing it, still
// finds that execution running and starts nothing; the execution then
// stops, SUCCEEDED, after reopen_processed_at. It paged nothing of the
// reopen, so the watchdog starts inc-<id>-1, however late after
// reopen_processed_at that step started: the time is taken before the
// reopen's lookups and its transaction with the SDK's retries, so under
// throttling the write lands seconds after it. Only a last page step that
// read reopen count 1 paged the reopen to the end: nothing to start. An
// output without the count (a run of an older version), or a history that
// cannot be read, covers nothing. The history is read once, for this rare
// candidate alone.
func TestWatchdogReopenRace(t *testing.T) {
	tests := []struct {
		name string
		// stopped is relative to reopen_processed_at.
		last        pageStep
		stopped     time.Duration
		historyFail error
		wantStarted bool
	}{
		{name: "last page step read before a throttled reopen write, started 1.5 s after reopen_processed_at",
			last: pageStep{saw: 0, known: true}, stopped: 1700 * time.Millisecond, wantStarted: true},
		{name: "last page step read before the reopen, stopped just after it",
			last: pageStep{saw: 0, known: true}, stopped: 100 * time.Millisecond, wantStarted: true},
		{name: "last page step saw the reopen, 0.3 s after reopen_processed_at",
			last: pageStep{saw: 1, known: true}, stopped: 500 * time.Millisecond},
		{name: "last page step saw the reopen",
			last: pageStep{saw: 1, known: true}, stopped: 30*time.Second + 200*time.Millisecond},
		{name: "last page step's output has no reopen count (an older version)",
			last: pageStep{}, stopped: 31 * time.Second, wantStarted: true},
		{name: "history cannot be read",
			last: pageStep{saw: 1, known: true}, stopped: 31 * time.Second,
			historyFail: errors.New("AccessDeniedException"), wantStarted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newWatchEnv(t, inMemory)
			ctx := context.Background()
			alarm := func(kind incident.SignalKind, i int) string { return e.cpuAlarm(t, kind, e.clock.Now(), i).IncidentID }
			id := alarm(incident.Trigger, 0)
			e.clock.Advance(time.Minute)
			alarm(incident.Recover, 1) // checkout auto-resolves
			e.clock.Advance(time.Minute)
			alarm(incident.Trigger, 2) // reopens; the stream finds inc-<id>-0 running and starts nothing
			inc, _, _, err := e.svc.Get(ctx, id)
			if err != nil || inc.ReopenCount != 1 || inc.ReopenProcessedAt.IsZero() {
				t.Fatalf("got reopen count %d, processed at %v, %v; want 1, a time", inc.ReopenCount, inc.ReopenProcessedAt, err)
			}
			processed := inc.ReopenProcessedAt
			first := escalation.RestartName(incident.Incident{ID: id}, 0)
			e.b.status[first] = escalation.ExecutionSucceeded
			e.b.stopped[first] = processed.Add(tt.stopped)
			e.b.lastPage[first] = tt.last
			if tt.historyFail != nil {
				e.b.historyFail[first] = tt.historyFail
			}
			e.runAfterGrace(t, inc, tt.wantStarted)
			if !slices.Equal(e.b.historyAsked, []string{first}) {
				t.Errorf("histories read: got %v, want [%s]", e.b.historyAsked, first)
			}
		})
	}
}

// TestWatchdogReadsACoveredHistoryOnce: an incident reopened while the
// earlier escalation paged it, which then ran its policy to the end, stays
// triggered and covered; every run looks at it again, but its history
// (which no longer changes) is read once per watchdog: a fresh watchdog (a
// new Lambda instance) reads it once more. A read that failed is not kept:
// the next run reads again.
func TestWatchdogReadsACoveredHistoryOnce(t *testing.T) {
	e := newWatchEnv(t, inMemory)
	ctx := context.Background()
	alarm := func(kind incident.SignalKind, i int) string { return e.cpuAlarm(t, kind, e.clock.Now(), i).IncidentID }
	id := alarm(incident.Trigger, 0)
	e.clock.Advance(time.Minute)
	alarm(incident.Recover, 1)
	e.clock.Advance(time.Minute)
	alarm(incident.Trigger, 2)
	inc, _, _, err := e.svc.Get(ctx, id)
	if err != nil || inc.ReopenCount != 1 {
		t.Fatalf("got reopen count %d, %v; want 1", inc.ReopenCount, err)
	}
	first := escalation.RestartName(incident.Incident{ID: id}, 0)
	e.b.status[first] = escalation.ExecutionSucceeded
	e.b.stopped[first] = inc.ReopenProcessedAt.Add(10 * time.Minute)
	e.b.lastPage[first] = pageStep{saw: 1, known: true}
	e.b.historyFail[first] = errors.New("ThrottlingException")
	e.clock.Advance(escalation.DefaultWatchdogGrace + time.Second)
	reads := func() int { return len(e.b.historyAsked) }

	e.run(t) // unreadable: a second escalation (a page twice rather than never)
	if reads() != 1 || len(e.b.started) != 1 {
		t.Fatalf("unreadable history: got %d reads, started %v; want 1 read and inc-<id>-1 started", reads(), e.b.started)
	}
	// Start over without that escalation: the history reads now.
	delete(e.b.status, escalation.ExecutionName(inc))
	e.b.started = nil
	delete(e.b.historyFail, first)
	for i := range 3 {
		e.clock.Advance(time.Minute)
		if rep := e.run(t); rep.Started != 0 || rep.Errors != 0 {
			t.Fatalf("run %d: report %+v, want nothing started", i, rep)
		}
	}
	if got := reads(); got != 2 {
		t.Errorf("history reads after a failed one and 3 runs: got %d, want 2 (the failed one is not kept)", got)
	}
	fresh := escalation.NewWatchdog(escalation.WatchdogConfig{
		Incidents: e.svc, Configs: configs{"checkout": {Name: "checkout", AutoResolve: true}}, Executions: e.b,
		Starter:      escalation.NewStarter(escalation.StarterConfig{Configs: configs{}, Executions: e.b}),
		ReopenWindow: watchWindow, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: e.clock.Now,
	})
	for range 2 {
		if rep, err := fresh.Run(ctx); err != nil || rep.Started != 0 {
			t.Fatalf("fresh watchdog: report %+v, %v; want nothing started", rep, err)
		}
	}
	if got := reads(); got != 3 {
		t.Errorf("history reads with a fresh watchdog: got %d, want 3", got)
	}
	if len(e.b.started) != 0 {
		t.Errorf("started: got %v, want none", e.b.started)
	}
}

// TestWatchdogGoesOnAfterAnError: one incident whose execution cannot be
// asked about is logged and skipped; the others are handled and the run
// succeeds. A store that cannot list fails the run.
func TestWatchdogGoesOnAfterAnError(t *testing.T) {
	e := newWatchEnv(t, inMemory)
	bad := e.declare(t, "checkout", incident.SEV2)
	good := e.declare(t, "checkout", incident.SEV2)
	e.b.fail[escalation.ExecutionName(bad)] = errors.New("ThrottlingException")
	e.clock.Advance(escalation.DefaultWatchdogGrace + time.Second)
	rep := e.run(t)
	if rep.Errors != 1 || rep.Started != 1 || !slices.Equal(e.b.started, []string{escalation.ExecutionName(good)}) {
		t.Errorf("report %+v, started %v; want 1 error and %s started", rep, e.b.started, escalation.ExecutionName(good))
	}

	down := escalation.NewWatchdog(escalation.WatchdogConfig{Incidents: listFails{e.svc}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if _, err := down.Run(context.Background()); !errors.Is(err, errkind.Unavailable) {
		t.Errorf("store down: got %v, want an unavailable error", err)
	}
}

type listFails struct{ *incident.Service }

func (listFails) List(context.Context, incident.Query) (incident.Page, error) {
	return incident.Page{}, errkind.Unavailablef("store down")
}

// TestWatchdogSettlesFlapping: a flapping incident of an auto-resolving
// service whose alarm settled in OK is resolved once it stayed quiet for the
// reopen window, by one run and not again; one still alarming stays open.
func TestWatchdogSettlesFlapping(t *testing.T) {
	e := newWatchEnv(t, inMemory)
	ctx := context.Background()
	flap := func(alarm string, changes int) string {
		var id string
		start := e.clock.Now()
		for i := range changes { // ALARM, OK, … a minute apart
			kind := incident.Trigger
			if i%2 == 1 {
				kind = incident.Recover
			}
			e.clock.Set(start.Add(time.Duration(i) * time.Minute))
			res, err := e.svc.Ingest(ctx, incident.Signal{
				Source: incident.SourceAlarm, Kind: kind, Service: "checkout", DedupKey: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:" + alarm,
				Title: alarm, At: e.clock.Now(), Actor: "alarm:" + alarm, DeliveryID: fmt.Sprintf("%s-%d", alarm, i),
			})
			if err != nil {
				t.Fatal(err)
			}
			id = res.IncidentID
		}
		e.clock.Set(start)
		return id
	}
	settled := flap("checkout-cpu", 8)  // ends in OK
	alarming := flap("checkout-p99", 9) // ends in ALARM
	e.clock.Advance(8*time.Minute + watchWindow)
	// Both escalations run: the watchdog has nothing to start.
	for _, id := range []string{settled, alarming} {
		inc, _, _, err := e.svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !inc.Flapping {
			t.Fatalf("incident %s is not flapping: %+v", id, inc)
		}
		e.b.status[escalation.ExecutionName(inc)] = escalation.ExecutionRunning
	}
	for run, want := range []int{1, 0} {
		if rep := e.run(t); rep.Settled != want || rep.Errors != 0 {
			t.Errorf("run %d: report %+v, want %d settled, no errors", run+1, rep, want)
		}
	}
	for id, want := range map[string]incident.Status{settled: incident.StatusResolved, alarming: incident.StatusTriggered} {
		if inc, _, _, _ := e.svc.Get(ctx, id); inc.Status != want {
			t.Errorf("incident %s: got %q, want %q", id, inc.Status, want)
		}
	}
}

// BenchmarkWatchdogRun times one watchdog run over 100 open paging incidents
// whose escalations run, on DynamoDB Local (one Query; the executions
// backend is the in-process fake, so Step Functions' latency is not in it).
func BenchmarkWatchdogRun(b *testing.B) {
	e := newWatchEnv(b, func(tb testing.TB, _ func() time.Time) incident.Store { return dynamotest.Store(tb) })
	for range 100 {
		inc, err := e.svc.Declare(context.Background(), incident.Declaration{Service: "checkout", Title: "down", Severity: incident.SEV2, Actor: "carol"})
		if err != nil {
			b.Fatal(err)
		}
		e.b.status[escalation.ExecutionName(inc)] = escalation.ExecutionRunning
	}
	e.clock.Advance(escalation.DefaultWatchdogGrace + time.Second)
	b.ResetTimer()
	for b.Loop() {
		if rep, err := e.w.Run(context.Background()); err != nil || rep.Checked != 100 {
			b.Fatalf("run: %+v, %v", rep, err)
		}
	}
}
