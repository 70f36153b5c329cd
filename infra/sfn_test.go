package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/infra/asl"
	"github.com/incidentd/incidentd/infra/escalation"
	"github.com/incidentd/incidentd/infra/gobuild"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	esc "github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/slack"
)

// The tests below execute the synthesized state machine with
// aws-local-stepfunctions (asl.Run), its Tasks calling the real escalate
// (PageLevel) and warroom (OpenWarRoom) handlers against DynamoDB Local, with
// a recording pager and the Slack Recorder. Waits last a millisecond: the
// policy's minutes are not what is under test, the order of the pages is.

// sfnNow is when every step fires: a Monday, inside every rotation below.
var sfnNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// sfnPager records SNS pages; ackAt makes the paged responder acknowledge
// the incident as their page of that level arrives. failAt and fail make
// the first fail publishes of level failAt fail (SNS down).
type sfnPager struct {
	svc   *incident.Service
	ackAt int // level whose page is acknowledged; 0: nobody acknowledges

	mu     sync.Mutex
	failAt int
	fail   int
	pages  []string // responder@level, in order
}

func (p *sfnPager) Page(ctx context.Context, pg oncall.ResponderPage) error {
	p.mu.Lock()
	if pg.Level == p.failAt && p.fail > 0 {
		p.fail--
		p.mu.Unlock()
		return errors.New("sns is down")
	}
	p.pages = append(p.pages, fmt.Sprintf("%s@%d", pg.Responder, pg.Level))
	p.mu.Unlock()
	if p.ackAt > 0 && pg.Level == p.ackAt {
		if _, err := p.svc.Acknowledge(ctx, pg.IncidentID, pg.Responder); err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
	}
	return nil
}

func (p *sfnPager) sent() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.pages)
}

// sfnDirectory is the on-call data: one schedule per level, each with one
// person on call all the time.
type sfnDirectory struct{}

var sfnUsers = map[string]oncall.User{
	"alice": {ID: "alice", Name: "Alice", SlackUserID: "U0ALICE"},
	"bob":   {ID: "bob", Name: "Bob", SlackUserID: "U0BOB"},
	"carol": {ID: "carol", Name: "Carol", SlackUserID: "U0CAROL"},
	"ops":   {ID: "ops", Name: "Ops", SlackUserID: "U0OPS"},
}

var sfnSchedules = map[string]string{"primary": "alice", "secondary": "bob", "tertiary": "carol"}

func (sfnDirectory) Schedules(_ context.Context, ids []string) (map[string]*oncall.Schedule, error) {
	out := map[string]*oncall.Schedule{}
	for _, id := range ids {
		if user, ok := sfnSchedules[id]; ok {
			out[id] = &oncall.Schedule{Name: id, TimeZone: "UTC", Rotations: []oncall.Rotation{{
				Participants: []string{user}, ShiftWeeks: 1, Start: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC),
			}}}
		}
	}
	return out, nil
}

func (sfnDirectory) User(_ context.Context, id string) (oncall.User, error) {
	if u, ok := sfnUsers[id]; ok {
		return u, nil
	}
	return oncall.User{}, errkind.NotFoundf("user %q not found", id)
}

// sfnPolicy pages primary, secondary and tertiary 5 minutes apart, the whole
// list twice (repeat 1), then the fallback ops.
func sfnPolicy() *oncall.Policy {
	p := &oncall.Policy{Name: "checkout", Repeat: 1, Fallback: &oncall.Target{User: "ops"}}
	for _, s := range []string{"primary", "secondary", "tertiary"} {
		p.Levels = append(p.Levels, oncall.Level{Targets: []oncall.Target{{Schedule: s}}, WaitMinutes: 5})
	}
	return p
}

type sfnRun struct {
	svc   *incident.Service
	inc   incident.Incident
	pager *sfnPager
	slack *slack.Recorder
	ex    asl.Execution
	took  time.Duration
	// pagedBeforeWarRoom are the pages published when the war room task
	// started (its first run).
	pagedBeforeWarRoom []string
}

// runEscalation declares an incident and executes the synthesized state
// machine for it; ackAt and slackDown set up the responders and Slack.
func runEscalation(t *testing.T, ackAt int, slackDown bool) sfnRun {
	t.Helper()
	return runDefinition(t, definition(t), ackAt, slackDown)
}

// runDefinition is runEscalation with the definition given (the benchmarks
// in sfn_bench_test.go resolve it once, outside their loop).
func runDefinition(t testing.TB, def []byte, ackAt int, slackDown bool) sfnRun {
	t.Helper()
	return runSetup(t, def, sfnSetup{ackAt: ackAt, slackDown: slackDown})
}

// sfnSetup is how a run's responders behave and which faults it injects.
type sfnSetup struct {
	ackAt     int  // the level whose page is acknowledged (0: none)
	slackDown bool // every Slack call fails
	// storeDown fails escalate's first storeDown reads of the incident (each
	// PageLevel attempt reads it first): the store is down.
	storeDown int
	// snsDown fails the first snsDown publishes of level snsDownAt.
	snsDownAt, snsDown int
	// slowWarRoom: the war room task takes a second and then fails (Slack
	// slow, then down).
	slowWarRoom bool
}

// downIncidents is the incident service of escalate with the store down for
// its first down reads of the incident.
type downIncidents struct {
	*incident.Service
	mu   sync.Mutex
	down int
}

func (d *downIncidents) Incident(ctx context.Context, id string) (incident.Incident, error) {
	d.mu.Lock()
	down := d.down > 0
	if down {
		d.down--
	}
	d.mu.Unlock()
	if down {
		return incident.Incident{}, errors.New("read incident: store unavailable")
	}
	return d.Service.Incident(ctx, id)
}

// runSetup declares an incident and executes def for it as set up.
func runSetup(t testing.TB, def []byte, set sfnSetup) sfnRun {
	t.Helper()
	ackAt, slackDown := set.ackAt, set.slackDown
	root, err := gobuild.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(dynamotest.Store(t), incident.Rules{}, incident.WithClock(func() time.Time { return sfnNow }))
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	rec := slack.NewRecorder(logger)
	if slackDown {
		rec.Fail(errors.New("slack is down"))
	}
	pager := &sfnPager{svc: svc, ackAt: ackAt, failAt: set.snsDownAt, fail: set.snsDown}
	escalator := esc.NewEscalator(esc.Config{
		Incidents: &downIncidents{Service: svc, down: set.storeDown}, Directory: sfnDirectory{}, Pager: pager, Slack: slack.NewNotifier(rec),
		SlackTimeout: time.Second, Logger: logger, Now: func() time.Time { return sfnNow },
	})
	room := esc.NewWarRoom(esc.WarRoomConfig{
		Incidents: svc, Directory: sfnDirectory{}, Slack: slack.NewNotifier(rec), Stakeholders: []string{"U0BOSS"},
		Logger: logger, Now: func() time.Time { return sfnNow },
	})

	ctx := context.Background()
	inc, err := svc.Declare(ctx, incident.Declaration{
		Service: "checkout", Title: "Checkout is down", Severity: incident.SEV1, Actor: "dave",
	})
	if err != nil {
		t.Fatal(err)
	}
	input, err := json.Marshal(map[string]any{"incident_id": inc.ID, "state": oncall.Start(sfnPolicy(), nil)})
	if err != nil {
		t.Fatal(err)
	}
	var beforeWarRoom []string
	var once sync.Once
	openWarRoom := lambda(room.Handle)
	warRoom := func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		once.Do(func() { beforeWarRoom = pager.sent() })
		if set.slowWarRoom {
			time.Sleep(time.Second)
			return nil, errors.New("slack: context deadline exceeded")
		}
		return openWarRoom(ctx, in)
	}
	start := time.Now()
	ex, err := asl.Run(ctx, def, input, asl.RunOptions{
		NodeModules:   filepath.Join(root, "node_modules"),
		ExecutionName: "esc-" + inc.ID,
		Handlers: map[string]asl.Handler{
			escalation.FirstPage:   lambda(escalator.Handle),
			escalation.PageLevel:   lambda(escalator.Handle),
			escalation.OpenWarRoom: warRoom,
		},
		Waits: map[string]time.Duration{escalation.Wait: time.Millisecond, escalation.RetryLater: time.Millisecond,
			escalation.RetryFirstPage: time.Millisecond},
		Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatalf("run the state machine: %v", err)
	}
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("execution: got %s (%s: %s), want SUCCEEDED; states %v", ex.Status, ex.Error, ex.Cause, ex.States())
	}
	return sfnRun{svc: svc, inc: inc, pager: pager, slack: rec, ex: ex, took: time.Since(start), pagedBeforeWarRoom: beforeWarRoom}
}

// lambda adapts a typed Lambda handler to a Task handler, as the Lambda
// runtime does: JSON in, JSON out, an error fails the invocation.
func lambda[In, Out any](h func(context.Context, In) (Out, error)) asl.Handler {
	return func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var in In
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, err
		}
		out, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

// timeline returns the texts of the incident's entries of kind k.
func (r sfnRun) timeline(t *testing.T, k incident.EntryKind) []string {
	t.Helper()
	_, tl, _, err := r.svc.Get(context.Background(), r.inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range tl {
		if e.Kind == k {
			out = append(out, e.Text)
		}
	}
	return out
}

// output decodes the execution's output.
func (r sfnRun) output(t *testing.T) esc.Output {
	t.Helper()
	var out esc.Output
	if err := json.Unmarshal(r.ex.Output, &out); err != nil {
		t.Fatalf("decode output %s: %v", r.ex.Output, err)
	}
	return out
}

func TestEscalationAcknowledgedAtLevelOne(t *testing.T) {
	t.Parallel()
	r := runEscalation(t, 1, false)
	if got, want := r.pager.sent(), []string{"alice@1"}; !slices.Equal(got, want) {
		t.Errorf("pages: got %v, want %v", got, want)
	}
	if got := r.timeline(t, incident.EntryPaged); len(got) != 1 {
		t.Errorf("paged entries: got %q, want one", got)
	}
	if out := r.output(t); !out.Done || !strings.Contains(out.Reason, "acknowledged") {
		t.Errorf("output: got done=%v reason %q, want done, acknowledged", out.Done, out.Reason)
	}
	// The reopen count each page step read (what the watchdog reads back
	// from the history) rides through the war room, Done? and the Wait
	// (the page steps' Parameters pass incident_id, execution and state
	// alone): the run ends with the last PageLevel's.
	if out := r.output(t); out.ReopenCount == nil || *out.ReopenCount != 0 {
		t.Errorf("output: got reopen_count %v, want 0 (%s)", out.ReopenCount, r.ex.Output)
	}
	if got, want := strings.Join(r.ex.States(), ","), "FirstPage,OpenWarRoom,Done?,Wait,PageLevel,Done?,Escalated"; got != want {
		t.Errorf("states: got %s, want %s", got, want)
	}
	t.Logf("acknowledged at level 1: %d state transitions, %s", r.ex.Transitions(), r.took)
}

func TestEscalationNobodyAcknowledges(t *testing.T) {
	t.Parallel()
	r := runEscalation(t, 0, false)
	want := []string{"alice@1", "bob@2", "carol@3", "alice@1", "bob@2", "carol@3", "ops@0"}
	if got := r.pager.sent(); !slices.Equal(got, want) {
		t.Errorf("pages: got %v, want every level, the repeat, then the fallback: %v", got, want)
	}
	wantEntries := []string{
		"paged alice (level 1)", "paged bob (level 2)", "paged carol (level 3)",
		"paged alice (level 1, repeat 1)", "paged bob (level 2, repeat 1)", "paged carol (level 3, repeat 1)",
		"paged ops (fallback)",
	}
	if got := r.timeline(t, incident.EntryPaged); !slices.Equal(got, wantEntries) {
		t.Errorf("paged entries: got %q, want %q", got, wantEntries)
	}
	if out := r.output(t); !out.Done || out.Reason != "escalation exhausted" {
		t.Errorf("output: got done=%v reason %q, want done, escalation exhausted", out.Done, out.Reason)
	}
	// Each page is one page step (FirstPage, then PageLevel); each but the
	// last waits; the war room opens once.
	states := strings.Join(r.ex.States(), ",")
	if got, want := strings.Count(states, "FirstPage")+strings.Count(states, "PageLevel"), len(want); got != want {
		t.Errorf("page steps: got %d, want %d", got, want)
	}
	if got := strings.Count(states, "OpenWarRoom"); got != 1 {
		t.Errorf("OpenWarRoom runs: got %d, want 1", got)
	}
	if got := len(r.slack.Messages()); got == 0 {
		t.Errorf("slack messages: got none, want the war room summary and the Slack pages")
	}
	t.Logf("full exhaustion: %d state transitions, %s", r.ex.Transitions(), r.took)
}

func TestEscalationAcknowledgedAtLevelTwo(t *testing.T) {
	t.Parallel()
	r := runEscalation(t, 2, false)
	if got, want := r.pager.sent(), []string{"alice@1", "bob@2"}; !slices.Equal(got, want) {
		t.Errorf("pages: got %v, want %v (no level 3)", got, want)
	}
	if out := r.output(t); !out.Done || !strings.Contains(out.Reason, "acknowledged") {
		t.Errorf("output: got done=%v reason %q, want done, acknowledged", out.Done, out.Reason)
	}
	t.Logf("acknowledged at level 2: %d state transitions, %s", r.ex.Transitions(), r.took)
}

func TestEscalationSlackDown(t *testing.T) {
	t.Parallel()
	r := runEscalation(t, 2, true)
	if got, want := r.pager.sent(), []string{"alice@1", "bob@2"}; !slices.Equal(got, want) {
		t.Errorf("pages: got %v, want %v whatever Slack does", got, want)
	}
	if got := r.timeline(t, incident.EntryWarRoomFailed); len(got) != 1 || !strings.Contains(got[0], "slack is down") {
		t.Errorf("war_room_failed entries: got %q, want one with the Slack error", got)
	}
	inc, _, _, err := r.svc.Get(context.Background(), r.inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.WarRoomChannel != "" {
		t.Errorf("war room: got %q, want none", inc.WarRoomChannel)
	}
	// OpenWarRoom's Catch puts the error in $.war_room_error beside the
	// first page's output, which the loop goes on with (PageLevel's own
	// output then replaces the state: the error is on the timeline, not in
	// the execution's output).
	var first struct {
		WarRoomError *struct{ Error, Cause string } `json:"war_room_error"`
	}
	for _, ev := range r.ex.Events {
		if ev.Type == "StateEntered" && ev.State == escalation.DoneChoice {
			if err := json.Unmarshal(ev.Input, &first); err != nil {
				t.Fatalf("decode Done? input %s: %v", ev.Input, err)
			}
			break
		}
	}
	if first.WarRoomError == nil || !strings.Contains(first.WarRoomError.Cause, "slack is down") {
		t.Errorf("$.war_room_error: got %+v, want the caught Slack error", first.WarRoomError)
	}
	t.Logf("Slack down, acknowledged at level 2: %d state transitions, %s", r.ex.Transitions(), r.took)
}

// TestFirstPageBeforeWarRoom: the first page is published before the war
// room task starts, even when that task is slow and then fails (Slack slow,
// then down): the war room never delays the first page, and its failure is
// caught, the escalation paging on.
func TestFirstPageBeforeWarRoom(t *testing.T) {
	t.Parallel()
	r := runSetup(t, definition(t), sfnSetup{ackAt: 2, slowWarRoom: true})
	if want := []string{"alice@1"}; !slices.Equal(r.pagedBeforeWarRoom, want) {
		t.Errorf("pages published when the war room task started: got %v, want %v", r.pagedBeforeWarRoom, want)
	}
	if got, want := r.pager.sent(), []string{"alice@1", "bob@2"}; !slices.Equal(got, want) {
		t.Errorf("pages: got %v, want %v", got, want)
	}
	if got, want := strings.Join(r.ex.States(), ","), "FirstPage,OpenWarRoom,Done?,Wait,PageLevel,Done?,Wait,PageLevel,Done?,Escalated"; got != want {
		t.Errorf("states: got %s, want %s", got, want)
	}
	if got := r.timeline(t, incident.EntryWarRoomFailed); len(got) != 0 {
		t.Errorf("war_room_failed entries: got %q, want none (the task failed before reaching Slack)", got)
	}
}

// TestEscalationRedrivenPastRetries injects faults that outlast PageLevel's
// retries (4 attempts): each time the step is caught, waits in RetryLater
// and runs again with the state it failed on, until it pages; nobody is
// paged twice, no level is skipped, and the execution succeeds.
func TestEscalationRedrivenPastRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		give       sfnSetup
		wantPages  []string
		wantStates string
		wantError  string
	}{
		{
			name:       "store down at the first page, two rounds and one more attempt",
			give:       sfnSetup{ackAt: 1, storeDown: 9},
			wantPages:  []string{"alice@1"},
			wantStates: "FirstPage,RetryFirstPage,FirstPage,RetryFirstPage,FirstPage,OpenWarRoom,Done?,Wait,PageLevel,Done?,Escalated",
			wantError:  "store unavailable",
		},
		{
			name:       "SNS down at level 2",
			give:       sfnSetup{ackAt: 2, snsDownAt: 2, snsDown: 5},
			wantPages:  []string{"alice@1", "bob@2"},
			wantStates: "FirstPage,OpenWarRoom,Done?,Wait,PageLevel,RetryLater,PageLevel,Done?,Wait,PageLevel,Done?,Escalated",
			wantError:  "sns is down",
		},
	}
	def := definition(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runSetup(t, def, tt.give)
			if got := r.pager.sent(); !slices.Equal(got, tt.wantPages) {
				t.Errorf("pages: got %v, want %v", got, tt.wantPages)
			}
			if got := r.timeline(t, incident.EntryPaged); len(got) != len(tt.wantPages) {
				t.Errorf("paged entries: got %q, want %d", got, len(tt.wantPages))
			}
			if got := strings.Join(r.ex.States(), ","); got != tt.wantStates {
				t.Errorf("states: got %s, want %s", got, tt.wantStates)
			}
			if out := r.output(t); !out.Done || !strings.Contains(out.Reason, "acknowledged") {
				t.Errorf("output: got done=%v reason %q, want done, acknowledged", out.Done, out.Reason)
			}
			// RetryLater holds the caught error beside the state the step
			// failed on; the next PageLevel runs that same state.
			for _, ev := range r.ex.Events {
				if ev.Type != "StateEntered" || (ev.State != escalation.RetryLater && ev.State != escalation.RetryFirstPage) {
					continue
				}
				var in struct {
					State     json.RawMessage                `json:"state"`
					PageError *struct{ Error, Cause string } `json:"page_error"`
				}
				if err := json.Unmarshal(ev.Input, &in); err != nil {
					t.Fatalf("decode RetryLater input %s: %v", ev.Input, err)
				}
				if in.PageError == nil || !strings.Contains(in.PageError.Cause, tt.wantError) || len(in.State) == 0 {
					t.Errorf("RetryLater input: got page_error %+v, state %s; want the error %q and the state", in.PageError, in.State, tt.wantError)
				}
			}
			t.Logf("%s: %d state transitions, %s", tt.name, r.ex.Transitions(), r.took)
		})
	}
}
