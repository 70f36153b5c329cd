package escalation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/slack"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// now is when every step fires: a Monday, inside every rotation below.
var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// journal is one ordered record of what went out, SNS and Slack together.
type journal struct {
	mu  sync.Mutex
	log []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.log = append(j.log, s)
}

func (j *journal) all() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.log)
}

// pager records SNS pages in the journal; failFor makes a responder's fail.
type pager struct {
	j       *journal
	mu      sync.Mutex
	pages   []oncall.ResponderPage
	failFor map[string]error
}

func (p *pager) Page(_ context.Context, pg oncall.ResponderPage) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.failFor[pg.Responder]; err != nil {
		return err
	}
	p.pages = append(p.pages, pg)
	p.j.add("sns:" + pg.Responder)
	return nil
}

// messenger is the escalator's Slack: the Recorder, with its posts and
// updates in the journal.
type messenger struct {
	*slack.Recorder
	j *journal
}

var _ slack.Messenger = messenger{}

func (m messenger) PostMessageIn(ctx context.Context, channel string, msg slack.Message) (slack.Posted, error) {
	p, err := m.Recorder.PostMessageIn(ctx, channel, msg)
	if err == nil {
		m.j.add("slack:" + channel)
	}
	return p, err
}

func (m messenger) UpdateMessage(ctx context.Context, channel, ts string, msg slack.Message) error {
	err := m.Recorder.UpdateMessage(ctx, channel, ts, msg)
	if err == nil {
		m.j.add("slack update:" + channel)
	}
	return err
}

// slackPages records the Slack pages the escalator reports; onRecord, if
// set, runs before each is recorded.
type slackPages struct {
	mu       sync.Mutex
	pages    []incident.SlackPage
	onRecord func(p incident.SlackPage)
}

func (s *slackPages) RecordSlackPage(_ context.Context, p incident.SlackPage) error {
	if s.onRecord != nil {
		s.onRecord(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, p)
	return nil
}

// directory is the on-call data behind the Directory interface.
type directory struct {
	schedules map[string]*oncall.Schedule
	users     map[string]oncall.User
}

func (d directory) Schedules(_ context.Context, ids []string) (map[string]*oncall.Schedule, error) {
	out := map[string]*oncall.Schedule{}
	for _, id := range ids {
		if s, ok := d.schedules[id]; ok {
			out[id] = s
		}
	}
	return out, nil
}

func (d directory) User(_ context.Context, id string) (oncall.User, error) {
	if u, ok := d.users[id]; ok {
		return u, nil
	}
	return oncall.User{}, errkind.NotFoundf("user %q not found", id)
}

// onCall is a schedule with one person on call all the time.
func onCall(user string) *oncall.Schedule {
	return &oncall.Schedule{Name: user, TimeZone: "UTC", Rotations: []oncall.Rotation{{
		Participants: []string{user}, ShiftWeeks: 1, Start: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC),
	}}}
}

type env struct {
	svc   *incident.Service
	pager *pager
	pages *slackPages
	slack *slack.Recorder
	j     *journal
	dir   directory
	esc   *escalation.Escalator
	room  *escalation.WarRoom
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store := dynamotest.Store(t)
	svc := incident.NewService(store, incident.Rules{}, incident.WithClock(func() time.Time { return now }))
	j := &journal{}
	rec := slack.NewRecorder(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	dir := directory{
		schedules: map[string]*oncall.Schedule{"primary": onCall("alice"), "secondary": onCall("bob"), "empty": {Name: "empty", TimeZone: "UTC"}},
		users: map[string]oncall.User{
			"alice": {ID: "alice", Name: "Alice", SlackUserID: "U0ALICE"},
			"bob":   {ID: "bob", Name: "Bob", SlackUserID: "U0BOB"},
			"ops":   {ID: "ops", Name: "Ops", SlackUserID: "U0OPS"},
		},
	}
	e := &env{svc: svc, pager: &pager{j: j, failFor: map[string]error{}}, pages: &slackPages{}, slack: rec, j: j, dir: dir}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	e.esc = escalation.NewEscalator(escalation.Config{
		Incidents: svc, Directory: dir, Pager: e.pager, Slack: slack.NewNotifier(messenger{rec, j}), SlackPages: e.pages,
		Logger: logger, Now: func() time.Time { return now },
	})
	e.room = escalation.NewWarRoom(escalation.WarRoomConfig{
		Incidents: svc, Directory: dir, Slack: slack.NewNotifier(rec), Stakeholders: []string{"U0BOSS"},
		Logger: logger, Now: func() time.Time { return now },
	})
	return e
}

func (e *env) declare(t *testing.T) incident.Incident {
	t.Helper()
	inc, err := e.svc.Declare(context.Background(), incident.Declaration{
		Service: "checkout", Title: "Checkout is down", Severity: incident.SEV1, Actor: "carol",
	})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func (e *env) paged(t *testing.T, id string) []string {
	t.Helper()
	_, tl, _, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range tl {
		if en.Kind == incident.EntryPaged {
			out = append(out, en.Text)
		}
	}
	return out
}

// policy pages primary, then secondary, waiting 5 minutes each, twice over,
// then the fallback ops.
func policy(levels ...string) *oncall.Policy {
	p := &oncall.Policy{Name: "checkout", Repeat: 0, Fallback: &oncall.Target{User: "ops"}}
	for _, s := range levels {
		p.Levels = append(p.Levels, oncall.Level{Targets: []oncall.Target{{Schedule: s}}, WaitMinutes: 5})
	}
	return p
}

func page(t *testing.T, e *env, in escalation.Input) escalation.Output {
	t.Helper()
	out, err := e.esc.Page(context.Background(), in)
	if err != nil {
		t.Fatalf("Page: %v", err)
	}
	return out
}

func TestTriggeredPagesLevelOneSNSBeforeSlack(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	out := page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary", "secondary"), nil)})

	if got, want := e.j.all(), []string{"sns:alice", "slack:U0ALICE"}; !slices.Equal(got, want) {
		t.Errorf("sent: got %v, want %v", got, want)
	}
	if out.Done || out.WaitSeconds != 300 {
		t.Errorf("got done=%v wait=%d, want a 300 s wait", out.Done, out.WaitSeconds)
	}
	if want := (oncall.Step{Phase: oncall.PhaseLevel, Level: 2}); out.State.Step != want {
		t.Errorf("next step: got %+v, want %+v", out.State.Step, want)
	}
	pg := e.pager.pages[0]
	if pg.Severity != "SEV1" || pg.IncidentID != inc.ID || pg.Level != 1 || pg.Subject == "" {
		t.Errorf("SNS page: got %+v, want SEV1, the incident, level 1 and a subject", pg)
	}
	if got, want := e.paged(t, inc.ID), []string{"paged alice (level 1)"}; !slices.Equal(got, want) {
		t.Errorf("timeline: got %q, want %q", got, want)
	}

	// The next step pages level 2, then the policy runs out into the fallback.
	out = page(t, e, escalation.Input{IncidentID: inc.ID, State: out.State})
	if len(out.Paged) != 1 || out.Paged[0].Responder != "bob" || out.Paged[0].Level != 2 {
		t.Errorf("second step: got %+v, want bob at level 2", out.Paged)
	}
}

// Each Slack page is recorded with the DM it went to, for the stream function
// to take its buttons off once the incident is acknowledged.
func TestSlackPagesAreRecorded(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	out := page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary", "secondary"), nil)})
	page(t, e, escalation.Input{IncidentID: inc.ID, State: out.State})
	var got []string
	for _, p := range e.pages.pages {
		if p.IncidentID != inc.ID || p.TS == "" || !p.At.Equal(now) {
			t.Errorf("got page %+v, want the incident's, with a ts and the time", p)
		}
		got = append(got, fmt.Sprintf("%s %s %s level %d", p.Responder, p.SlackUserID, p.Channel, p.Level))
	}
	// Slack answers a post to a user id with the DM's id: chat.update needs it.
	if want := []string{"alice U0ALICE D0ALICE level 1", "bob U0BOB D0BOB level 2"}; !slices.Equal(got, want) {
		t.Errorf("got recorded pages %q, want %q", got, want)
	}
}

// An incident acknowledged while its page was being posted: the stream
// function closed the pages recorded then, not this one, so the escalator
// closes it at once.
func TestPageAnsweredWhilePostedIsClosed(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	e.pages.onRecord = func(incident.SlackPage) {
		if _, err := e.svc.Acknowledge(context.Background(), inc.ID, "alice"); err != nil {
			t.Error(err)
		}
	}
	page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary", "secondary"), nil)})
	if got, want := e.j.all(), []string{"sns:alice", "slack:U0ALICE", "slack update:D0ALICE"}; !slices.Equal(got, want) {
		t.Fatalf("sent: got %v, want %v", got, want)
	}
	calls := e.slack.Messages()
	last := calls[len(calls)-1]
	if len(e.pages.pages) != 1 || last.TS != e.pages.pages[0].TS {
		t.Fatalf("got update of %s/%s, want the recorded page %+v", last.Channel, last.TS, e.pages.pages)
	}
	if !strings.Contains(last.Message.Text, "(Acknowledged)") {
		t.Errorf("got %q, want the page closed as acknowledged", last.Message.Text)
	}
	for _, b := range last.Message.Blocks {
		if len(b.Buttons) > 0 {
			t.Errorf("got buttons %+v, want none", b.Buttons)
		}
	}
}

func TestAcknowledgedBeforeStepPagesNobody(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	first := page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary", "secondary"), nil)})
	if _, err := e.svc.Acknowledge(context.Background(), inc.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	out := page(t, e, escalation.Input{IncidentID: inc.ID, State: first.State})
	if !out.Done || len(out.Paged) != 0 {
		t.Errorf("got done=%v paged=%v, want done with nobody paged", out.Done, out.Paged)
	}
	if got := e.j.all(); len(got) != 2 {
		t.Errorf("sent: got %v, want only level 1's page", got)
	}
}

func TestResolvedIncidentPagesNobody(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	ctx := context.Background()
	if _, err := e.svc.Resolve(ctx, inc.ID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	out := page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary"), nil)})
	if !out.Done || len(out.Paged) != 0 {
		t.Errorf("resolved: got done=%v paged=%v, want done, nobody paged", out.Done, out.Paged)
	}
}

func TestNobodyOnCallMovesOnAtOnce(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	out := page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("empty", "secondary"), nil)})
	if len(out.Paged) != 1 || out.Paged[0].Responder != "bob" || out.Paged[0].Level != 2 {
		t.Errorf("got %+v, want bob paged at level 2 in the same invocation", out.Paged)
	}
	if out.WaitSeconds != 300 || out.Done {
		t.Errorf("got done=%v wait=%d, want level 2's 300 s wait", out.Done, out.WaitSeconds)
	}
}

func TestExhaustionPagesFallbackThenDone(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	state := oncall.Start(policy("primary"), nil)
	var responders []string
	for i := 0; i < 5; i++ {
		out := page(t, e, escalation.Input{IncidentID: inc.ID, State: state})
		for _, p := range out.Paged {
			responders = append(responders, p.Responder)
		}
		state = out.State
		if out.Done {
			break
		}
	}
	if want := []string{"alice", "ops"}; !slices.Equal(responders, want) {
		t.Errorf("paged: got %v, want %v", responders, want)
	}
	if state.Step.Phase != oncall.PhaseDone {
		t.Errorf("got step %+v, want done", state.Step)
	}
	if got, want := e.paged(t, inc.ID), []string{"paged alice (level 1)", "paged ops (fallback)"}; !slices.Equal(got, want) {
		t.Errorf("timeline: got %q, want %q", got, want)
	}
	if p := e.pager.pages[len(e.pager.pages)-1]; p.Level != 0 {
		t.Errorf("fallback page level: got %d, want 0", p.Level)
	}
}

func TestNoPolicyPagesPlatformFallback(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	out := page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(nil, &oncall.Target{User: "ops"})})
	if !out.Done || len(out.Paged) != 1 || out.Paged[0].Responder != "ops" {
		t.Errorf("got done=%v paged=%+v, want ops paged, then done", out.Done, out.Paged)
	}
}

func TestRetriedStepDoesNotPageTwice(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	p := policy("primary")
	p.Levels[0].Targets = append(p.Levels[0].Targets, oncall.Target{Schedule: "secondary"})
	in := escalation.Input{IncidentID: inc.ID, Execution: "exec-1", State: oncall.Start(p, nil)}

	// The first try pages alice, then SNS fails for bob: the task fails.
	e.pager.failFor["bob"] = errors.New("SNS throttled")
	if _, err := e.esc.Page(context.Background(), in); err == nil {
		t.Fatal("got nil, want the SNS error (Step Functions retries the task)")
	}
	// Step Functions retries it with the same input.
	delete(e.pager.failFor, "bob")
	out := page(t, e, in)
	if got, want := e.j.all(), []string{"sns:alice", "slack:U0ALICE", "sns:bob", "slack:U0BOB"}; !slices.Equal(got, want) {
		t.Errorf("sent: got %v, want %v (alice once)", got, want)
	}
	if len(out.Paged) != 2 || !out.Paged[0].Duplicate || out.Paged[1].Duplicate {
		t.Errorf("got %+v, want alice as a duplicate and bob paged", out.Paged)
	}
	// A third try of the same step pages nobody.
	page(t, e, in)
	if got := len(e.pager.pages); got != 2 {
		t.Errorf("SNS pages: got %d, want 2", got)
	}
	if got := e.paged(t, inc.ID); len(got) != 2 {
		t.Errorf("timeline: got %q, want one entry per responder", got)
	}
}

func TestSlackFailingStillPages(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	e.slack.Fail(errors.New("slack is down"))
	out := page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary"), nil)})
	if got, want := e.j.all(), []string{"sns:alice"}; !slices.Equal(got, want) {
		t.Errorf("sent: got %v, want %v", got, want)
	}
	if len(out.Paged) != 1 || out.Paged[0].SlackError == "" {
		t.Errorf("got %+v, want alice paged with the Slack error noted", out.Paged)
	}
	if out.WaitSeconds != 300 {
		t.Errorf("wait: got %d, want 300", out.WaitSeconds)
	}
}

func TestUnknownIncidentEndsEscalation(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"01jzzzzzzzzzzzzzzzzzzzzzzz", "not-an-id", ""} {
		out := page(t, e, escalation.Input{IncidentID: id, State: oncall.Start(policy("primary"), nil)})
		if !out.Done || len(out.Paged) != 0 || out.Reason == "" {
			t.Errorf("%q: got %+v, want done with a reason, nobody paged", id, out)
		}
	}
	if len(e.pager.pages) != 0 {
		t.Errorf("got %d pages, want none", len(e.pager.pages))
	}
}

// An escalation that finds its incident resolved within the reopen window
// does not end: the stream function starts no second escalation while this
// one runs, so this one pages a reopen, where it stood. Past the window (and
// its grace) it ends.
func TestResolvedIncidentIsWatchedForAReopen(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	ctx := context.Background()
	clock := now
	esc := escalation.NewEscalator(escalation.Config{
		Incidents: e.svc, Directory: e.dir, Pager: e.pager, ReopenWindow: 30 * time.Minute,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return clock },
	})
	first, err := esc.Page(ctx, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary", "secondary"), nil)})
	if err != nil || len(first.Paged) != 1 {
		t.Fatalf("level 1: got %v, %v, want alice paged", first.Paged, err)
	}
	if _, err := e.svc.Resolve(ctx, inc.ID, "monitor", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		after    time.Duration // since the resolution
		wantDone bool
		wantWait int
	}{
		{"just resolved: watch", time.Second, false, 60},
		{"near the end of window and grace: watch what is left", 35*time.Minute - 10*time.Second, false, 10},
		{"window and grace over: done", 35 * time.Minute, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = now.Add(tt.after)
			out, err := esc.Page(ctx, escalation.Input{IncidentID: inc.ID, State: first.State})
			if err != nil {
				t.Fatal(err)
			}
			if out.Done != tt.wantDone || out.WaitSeconds != tt.wantWait || len(out.Paged) != 0 {
				t.Errorf("got done=%v wait=%d paged=%v, want done=%v wait=%d, nobody paged", out.Done, out.WaitSeconds, out.Paged, tt.wantDone, tt.wantWait)
			}
			if !out.Done && out.State.Step != first.State.Step {
				t.Errorf("state: got step %+v, want it kept at %+v", out.State.Step, first.State.Step)
			}
		})
	}
}

// brokenSchedules is a directory whose schedules cannot be read (a damaged
// item, say): a fault that retrying does not cure.
type brokenSchedules struct{ directory }

func (brokenSchedules) Schedules(context.Context, []string) (map[string]*oncall.Schedule, error) {
	return nil, errors.New("schedule primary: cannot decode item")
}

// A step that keeps failing although the store answers pages the fallback
// once it is OverdueFallback past its due time, once, and keeps failing (so
// the state machine keeps retrying its level).
func TestStepFailingPastItsDueTimePagesTheFallback(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	ctx := context.Background()
	clock := now
	esc := escalation.NewEscalator(escalation.Config{
		Incidents: e.svc, Directory: brokenSchedules{e.dir}, Pager: e.pager,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return clock },
	})
	in := escalation.Input{IncidentID: inc.ID, Execution: "inc-x-0", State: oncall.Start(policy("primary", "secondary"), nil)}
	tests := []struct {
		name  string
		after time.Duration // since the incident opened (the first step's due time)
		want  []string      // all pages sent so far
	}{
		{"failing, not overdue: nobody", time.Minute, nil},
		{"overdue: the fallback", escalation.OverdueFallback + time.Minute, []string{"sns:ops"}},
		{"still failing: not again", escalation.OverdueFallback + 2*time.Minute, []string{"sns:ops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = inc.CreatedAt.Add(tt.after)
			if _, err := esc.Page(ctx, in); err == nil {
				t.Fatal("got no error, want the step's error (the state machine retries the level)")
			}
			var sns []string
			for _, s := range e.j.all() {
				if strings.HasPrefix(s, "sns:") {
					sns = append(sns, s)
				}
			}
			if !slices.Equal(sns, tt.want) {
				t.Errorf("SNS pages: got %v, want %v", sns, tt.want)
			}
		})
	}
}

// TestOutputCarriesTheReopenCountItRead: every output of a step that read
// the incident says which reopen it read (reopen_count, 0 included), so the
// watchdog can tell from the history whether a run saw a reopen; a step
// that read none (not found, not an id) says nothing. The field rides
// along: the output, decoded as the next step's Input, drops it.
func TestOutputCarriesTheReopenCountItRead(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	clock := now.Add(-10 * time.Minute)
	nowFn := func() time.Time { return clock }
	svc := incident.NewService(incidenttest.New(nowFn), incident.Rules{ReopenWindow: 30 * time.Minute}, incident.WithClock(nowFn))
	esc := escalation.NewEscalator(escalation.Config{Incidents: svc, Directory: e.dir, Pager: e.pager,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	alarm := func(kind incident.SignalKind, at time.Time, i int) string {
		t.Helper()
		res, err := svc.Ingest(ctx, incident.Signal{
			Source: incident.SourceAlarm, Kind: kind, Service: "checkout", DedupKey: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-cpu",
			Title: "checkout-cpu", At: at, Actor: "alarm:checkout-cpu", DeliveryID: fmt.Sprint(i),
		})
		if err != nil {
			t.Fatal(err)
		}
		return res.IncidentID
	}
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", AutoResolve: true}); err != nil {
		t.Fatal(err)
	}
	reopened := alarm(incident.Trigger, clock, 0)
	clock = now.Add(-5 * time.Minute)
	alarm(incident.Recover, clock, 1) // auto-resolved
	clock = now
	alarm(incident.Trigger, clock, 2) // reopened
	acked, err := svc.Declare(ctx, incident.Declaration{Service: "checkout", Title: "down", Severity: incident.SEV1, Actor: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Acknowledge(ctx, acked.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   string
		want string // the output's reopen_count, as JSON; "" for none
	}{
		{name: "reopened once, paged", id: reopened, want: "1"},
		{name: "never reopened, acknowledged: done", id: acked.ID, want: "0"},
		{name: "not found", id: "01jzzzzzzzzzzzzzzzzzzzzzzz"},
		{name: "not an incident id", id: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := esc.Page(ctx, escalation.Input{IncidentID: tt.id, State: oncall.Start(policy("primary"), nil)})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(b, &fields); err != nil {
				t.Fatal(err)
			}
			if got := string(fields["reopen_count"]); got != tt.want {
				t.Errorf("reopen_count: got %q, want %q (output %s)", got, tt.want, b)
			}
			var next escalation.Input
			if err := json.Unmarshal(b, &next); err != nil || next.IncidentID != tt.id {
				t.Fatalf("output as the next step's input: got %+v, %v", next, err)
			}
			again, err := json.Marshal(next)
			if err != nil || strings.Contains(string(again), "reopen_count") {
				t.Errorf("next step's input: got %s, %v; want no reopen_count", again, err)
			}
		})
	}
}
