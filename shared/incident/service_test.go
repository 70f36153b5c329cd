package incident_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// t0 is when every test starts.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type env struct {
	svc   *incident.Service
	store *incidenttest.Store
	clock *clocktest.Clock
}

// newEnv returns a service at t0 over an empty in-memory store holding configs.
func newEnv(t *testing.T, rules incident.Rules, configs ...incident.ServiceConfig) env {
	t.Helper()
	c := clocktest.New(t0)
	st := incidenttest.New(c.Now)
	for _, cfg := range configs {
		if err := st.PutServiceConfig(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	return env{svc: incident.NewService(st, rules, incident.WithClock(c.Now)), store: st, clock: c}
}

// alarm is a checkout CPU alarm firing at t0.
func alarm() incident.Signal {
	return incident.Signal{
		Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "checkout",
		DedupKey: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-cpu",
		Title:    "checkout-cpu in ALARM", Text: "CPUUtilization > 80 for 3 datapoints",
		At: t0, Actor: "alarm:checkout-cpu",
	}
}

func with(s incident.Signal, edit func(*incident.Signal)) incident.Signal {
	edit(&s)
	return s
}

func (e env) ingest(t *testing.T, sig incident.Signal) incident.Result {
	t.Helper()
	res, err := e.svc.Ingest(context.Background(), sig)
	if err != nil {
		t.Fatalf("Ingest(%s %s %s): %v", sig.Source, sig.Kind, sig.DedupKey, err)
	}
	return res
}

// get reads an incident once the change stream caught up (pending signals
// folded in).
func (e env) get(t *testing.T, id string) (incident.Incident, []incident.Entry) {
	t.Helper()
	incidenttest.CatchUp(t, e.svc, e.store)
	inc, tl, _, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return inc, tl
}

func (e env) all(t *testing.T) []incident.Incident {
	t.Helper()
	incidenttest.CatchUp(t, e.svc, e.store)
	page, err := e.svc.List(context.Background(), incident.Query{Limit: 100})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return page.Items
}

func kinds(tl []incident.Entry) []incident.EntryKind {
	out := make([]incident.EntryKind, len(tl))
	for i, e := range tl {
		out[i] = e.Kind
	}
	return out
}

func count(tl []incident.Entry, k incident.EntryKind) int {
	n := 0
	for _, e := range tl {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func ptr[T any](v T) *T { return &v }

func TestIngestOpens(t *testing.T) {
	tests := []struct {
		name    string
		configs []incident.ServiceConfig
		give    incident.Signal
		want    incident.Severity
	}{
		{name: "alarm severity wins", give: with(alarm(), func(s *incident.Signal) { s.Severity = incident.SEV1 }), want: incident.SEV1},
		{
			name:    "alarm severity wins over service default",
			configs: []incident.ServiceConfig{{Name: "checkout", DefaultSeverity: incident.SEV1}},
			give:    with(alarm(), func(s *incident.Signal) { s.Severity = incident.SEV4 }), want: incident.SEV4,
		},
		{
			name:    "service default without alarm severity",
			configs: []incident.ServiceConfig{{Name: "checkout", DefaultSeverity: incident.SEV2}},
			give:    alarm(), want: incident.SEV2,
		},
		{name: "alarm source default", give: alarm(), want: incident.DefaultAlarmSeverity},
		{
			name: "log source default",
			give: with(alarm(), func(s *incident.Signal) { s.Source, s.DedupKey = incident.SourceLog, "log:checkout:npe" }),
			want: incident.DefaultLogSeverity,
		},
		{
			name: "manual source default",
			give: with(alarm(), func(s *incident.Signal) { s.Source = incident.SourceManual }),
			want: incident.DefaultManualSeverity,
		},
		{
			name:    "reports start low whatever they claim",
			configs: []incident.ServiceConfig{{Name: "checkout", DefaultSeverity: incident.SEV1}},
			give: with(alarm(), func(s *incident.Signal) {
				s.Source, s.DedupKey, s.Severity = incident.SourceReport, "report:checkout", incident.SEV1
			}),
			want: incident.SEV4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{}, tt.configs...)
			res := e.ingest(t, tt.give)
			if res.Outcome != incident.Opened || res.Deduplicated() {
				t.Errorf("outcome: got %q (deduplicated %v), want %q", res.Outcome, res.Deduplicated(), incident.Opened)
			}
			inc, tl := e.get(t, res.IncidentID)
			if inc.Severity != tt.want {
				t.Errorf("severity: got %q, want %q", inc.Severity, tt.want)
			}
			if inc.Status != incident.StatusTriggered || inc.SignalCount != 1 || inc.Service != "checkout" {
				t.Errorf("incident: got status %q, %d signals, service %q; want triggered, 1, checkout", inc.Status, inc.SignalCount, inc.Service)
			}
			if inc.Title != tt.give.Title || inc.DedupKey != tt.give.DedupKey || inc.Source != tt.give.Source {
				t.Errorf("incident: got title %q, dedup key %q, source %q; want %q, %q, %q",
					inc.Title, inc.DedupKey, inc.Source, tt.give.Title, tt.give.DedupKey, tt.give.Source)
			}
			if !inc.StartedAt.Equal(t0) || !inc.CreatedAt.Equal(t0) {
				t.Errorf("times: got started %v, created %v; want %v", inc.StartedAt, inc.CreatedAt, t0)
			}
			if got := kinds(tl); !slices.Equal(got[:1], []incident.EntryKind{incident.EntryOpened}) || count(tl, incident.EntryOpened) != 1 {
				t.Errorf("timeline: got %v, want one opened entry first", got)
			}
		})
	}
}

func TestIngestOpensOneEntryForMachineSignals(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	res := e.ingest(t, alarm())
	_, tl := e.get(t, res.IncidentID)
	if got, want := kinds(tl), []incident.EntryKind{incident.EntryOpened}; !slices.Equal(got, want) {
		t.Fatalf("timeline: got %v, want %v", got, want)
	}
	if tl[0].Actor != "alarm:checkout-cpu" || !strings.Contains(tl[0].Text, "CPUUtilization") || tl[0].Ref != "" {
		t.Errorf("opened entry: got actor %q, text %q; want the alarm as actor and its text", tl[0].Actor, tl[0].Text)
	}
}

func TestIngestAppends(t *testing.T) {
	tests := []struct {
		name         string
		first, then  incident.Severity
		want         incident.Severity
		wantTimeline []incident.EntryKind
	}{
		{name: "same severity", first: incident.SEV3, then: incident.SEV3, want: incident.SEV3,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySignal}},
		{name: "lower severity never lowers", first: incident.SEV1, then: incident.SEV4, want: incident.SEV1,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySignal}},
		{name: "higher severity raises", first: incident.SEV3, then: incident.SEV1, want: incident.SEV1,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySignal, incident.EntrySeverityChanged}},
		{name: "no severity uses the default, which does not lower", first: incident.SEV2, then: "", want: incident.SEV2,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySignal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			first := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.Severity = tt.first }))
			e.clock.Advance(time.Minute)
			then := e.ingest(t, with(alarm(), func(s *incident.Signal) {
				s.Severity, s.At, s.Text = tt.then, t0.Add(time.Minute), "still burning"
			}))
			if then.Outcome != incident.Appended || then.IncidentID != first.IncidentID || !then.Deduplicated() {
				t.Errorf("second signal: got %q on %s (deduplicated %v), want %q on %s",
					then.Outcome, then.IncidentID, then.Deduplicated(), incident.Appended, first.IncidentID)
			}
			inc, tl := e.get(t, first.IncidentID)
			if inc.Severity != tt.want {
				t.Errorf("severity: got %q, want %q", inc.Severity, tt.want)
			}
			if inc.SignalCount != 2 || !inc.LastSignalAt.Equal(t0.Add(time.Minute)) || !inc.StartedAt.Equal(t0) {
				t.Errorf("got %d signals, last at %v, started %v; want 2, %v, %v",
					inc.SignalCount, inc.LastSignalAt, inc.StartedAt, t0.Add(time.Minute), t0)
			}
			// An append leaves the version to people's changes (incident.Append);
			// a raise is a decision and bumps it.
			if wantVersion := map[bool]int64{false: 1, true: 2}[tt.want != tt.first]; inc.Version != wantVersion {
				t.Errorf("version: got %d, want %d", inc.Version, wantVersion)
			}
			if got := kinds(tl); !slices.Equal(got, tt.wantTimeline) {
				t.Errorf("timeline: got %v, want %v", got, tt.wantTimeline)
			}
			if len(e.all(t)) != 1 {
				t.Errorf("incidents: got %d, want 1", len(e.all(t)))
			}
		})
	}
}

func TestIngestKeepsSignalCountAcrossManySignals(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	var id string
	for i := range 10 {
		e.clock.Set(t0.Add(time.Duration(i) * time.Second))
		id = e.ingest(t, with(alarm(), func(s *incident.Signal) { s.At = e.clock.Now() })).IncidentID
	}
	inc, tl := e.get(t, id)
	if inc.SignalCount != 10 || count(tl, incident.EntrySignal) != 9 {
		t.Errorf("got %d signals and %d signal entries, want 10 and 9", inc.SignalCount, count(tl, incident.EntrySignal))
	}
}

func TestIngestDuplicateDelivery(t *testing.T) {
	tests := []struct {
		name  string
		prior []incident.Signal // ingested before the delivery under test
		give  incident.Signal
		want  incident.Outcome
	}{
		{name: "delivery that opened", give: with(alarm(), func(s *incident.Signal) { s.DeliveryID = "msg-1" }), want: incident.Opened},
		{name: "delivery that appended", prior: []incident.Signal{alarm()},
			give: with(alarm(), func(s *incident.Signal) { s.DeliveryID = "msg-2" }), want: incident.Appended},
		{name: "delivery that noted recovery", prior: []incident.Signal{alarm()},
			give: with(alarm(), func(s *incident.Signal) { s.Kind, s.DeliveryID = incident.Recover, "msg-3" }), want: incident.Recovered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			for _, s := range tt.prior {
				e.ingest(t, s)
			}
			first := e.ingest(t, tt.give)
			if first.Outcome != tt.want || first.Duplicate {
				t.Fatalf("first delivery: got %q (duplicate %v), want %q", first.Outcome, first.Duplicate, tt.want)
			}
			inc, tl := e.get(t, first.IncidentID)
			writes := e.store.Writes()

			// The redelivery says something else (SNS resends the same message,
			// but a changed payload must not matter either).
			e.clock.Advance(time.Minute)
			again := e.ingest(t, with(tt.give, func(s *incident.Signal) { s.Severity, s.Text = incident.SEV1, "resent" }))
			want := first
			want.Duplicate = true
			if again != want {
				t.Errorf("redelivery: got %+v, want %+v", again, want)
			}
			if !again.Deduplicated() {
				t.Errorf("redelivery: got Deduplicated false, want true")
			}
			if got := e.store.Writes(); got != writes {
				t.Errorf("store writes: got %d, want %d (nothing written)", got, writes)
			}
			inc2, tl2 := e.get(t, first.IncidentID)
			if !reflect.DeepEqual(inc2, inc) || !reflect.DeepEqual(tl2, tl) {
				t.Errorf("redelivery changed the incident: got %+v with %v, want %+v with %v", inc2, kinds(tl2), inc, kinds(tl))
			}
		})
	}
}

func TestIngestAfterResolve(t *testing.T) {
	const window = 30 * time.Minute
	resolvedAt := t0.Add(10 * time.Minute)
	tests := []struct {
		name string
		// after is the time from resolved_at to the signal's At; delay is how
		// much later than its At the signal is delivered.
		after, delay   time.Duration
		want           incident.Outcome
		wantSame       bool // the signal lands on the resolved incident
		wantIncidents  int
		wantReopens    int // reopen_count and reopened entries
		wantSignals    int
		wantEntryKinds []incident.EntryKind
	}{
		{name: "at once", after: 0, want: incident.Reopened, wantSame: true, wantIncidents: 1, wantReopens: 1, wantSignals: 2,
			wantEntryKinds: []incident.EntryKind{incident.EntryOpened, incident.EntryResolved, incident.EntryReopened, incident.EntrySignal}},
		{name: "within the window", after: 29 * time.Minute, want: incident.Reopened, wantSame: true, wantIncidents: 1, wantReopens: 1, wantSignals: 2,
			wantEntryKinds: []incident.EntryKind{incident.EntryOpened, incident.EntryResolved, incident.EntryReopened, incident.EntrySignal}},
		{name: "at the window's end", after: window, want: incident.Reopened, wantSame: true, wantIncidents: 1, wantReopens: 1, wantSignals: 2,
			wantEntryKinds: []incident.EntryKind{incident.EntryOpened, incident.EntryResolved, incident.EntryReopened, incident.EntrySignal}},
		{name: "fired within the window, delivered after it", after: 10 * time.Minute, delay: time.Hour, want: incident.Reopened,
			wantSame: true, wantIncidents: 1, wantReopens: 1, wantSignals: 2,
			wantEntryKinds: []incident.EntryKind{incident.EntryOpened, incident.EntryResolved, incident.EntrySignal, incident.EntryReopened}},
		{name: "just after the window", after: window + time.Second, want: incident.Opened, wantIncidents: 2, wantSignals: 1,
			wantEntryKinds: []incident.EntryKind{incident.EntryOpened}},
		{name: "fired after the window, delivered at once", after: time.Hour, want: incident.Opened, wantIncidents: 2, wantSignals: 1,
			wantEntryKinds: []incident.EntryKind{incident.EntryOpened}},
		{name: "long after, dedup record expired", after: 3 * time.Hour, want: incident.Opened, wantIncidents: 2, wantSignals: 1,
			wantEntryKinds: []incident.EntryKind{incident.EntryOpened}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{ReopenWindow: window})
			old := e.ingest(t, alarm())
			e.clock.Set(resolvedAt)
			if _, err := e.svc.Resolve(context.Background(), old.IncidentID, "alice", incident.Resolution{}); err != nil {
				t.Fatal(err)
			}

			at := resolvedAt.Add(tt.after)
			e.clock.Set(at.Add(tt.delay))
			res := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.At = at }))
			if res.Outcome != tt.want {
				t.Errorf("outcome: got %q, want %q", res.Outcome, tt.want)
			}
			if got := res.IncidentID == old.IncidentID; got != tt.wantSame {
				t.Errorf("landed on the resolved incident: got %v, want %v", got, tt.wantSame)
			}
			if got := len(e.all(t)); got != tt.wantIncidents {
				t.Errorf("incidents: got %d, want %d", got, tt.wantIncidents)
			}
			inc, tl := e.get(t, res.IncidentID)
			if inc.Status != incident.StatusTriggered || inc.ResolvedAt != nil {
				t.Errorf("status: got %q, resolved_at %v; want triggered, none", inc.Status, fmtTime(inc.ResolvedAt))
			}
			if inc.ReopenCount != tt.wantReopens || count(tl, incident.EntryReopened) != tt.wantReopens {
				t.Errorf("reopen_count: got %d with %d reopened entries, want %d", inc.ReopenCount, count(tl, incident.EntryReopened), tt.wantReopens)
			}
			if inc.SignalCount != tt.wantSignals || !inc.LastSignalAt.Equal(at) {
				t.Errorf("got %d signals, last at %v; want %d, %v", inc.SignalCount, inc.LastSignalAt, tt.wantSignals, at)
			}
			if got := kinds(tl); !slices.Equal(got, tt.wantEntryKinds) {
				t.Errorf("timeline: got %v, want %v", got, tt.wantEntryKinds)
			}
		})
	}
}

func TestNewIncidentAfterWindowLeavesOldOneAlone(t *testing.T) {
	e := newEnv(t, incident.Rules{ReopenWindow: 30 * time.Minute})
	old := e.ingest(t, alarm())
	if _, err := e.svc.Resolve(context.Background(), old.IncidentID, "alice", incident.Resolution{RootCause: "disk"}); err != nil {
		t.Fatal(err)
	}
	before, beforeTL := e.get(t, old.IncidentID)
	e.clock.Advance(45 * time.Minute)
	res := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.At = e.clock.Now() }))
	if res.Outcome != incident.Opened || res.IncidentID == old.IncidentID {
		t.Fatalf("got %q on %s, want a new incident", res.Outcome, res.IncidentID)
	}
	after, afterTL := e.get(t, old.IncidentID)
	if !reflect.DeepEqual(after, before) || !reflect.DeepEqual(afterTL, beforeTL) {
		t.Errorf("old incident: got %+v with %v, want it unchanged: %+v with %v", after, kinds(afterTL), before, kinds(beforeTL))
	}
	// The key now belongs to the new incident: the next signal joins it.
	e.clock.Advance(time.Minute)
	next := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.At = e.clock.Now() }))
	if next.Outcome != incident.Appended || next.IncidentID != res.IncidentID {
		t.Errorf("next signal: got %q on %s, want %q on %s", next.Outcome, next.IncidentID, incident.Appended, res.IncidentID)
	}
}

func TestReopenKeepsCountingAndRaises(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	first := e.ingest(t, alarm())
	if _, err := e.svc.Resolve(context.Background(), first.IncidentID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)
	res := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.At, s.Severity = e.clock.Now(), incident.SEV1 }))
	inc, tl := e.get(t, res.IncidentID)
	if inc.SignalCount != 2 || inc.Severity != incident.SEV1 {
		t.Errorf("got %d signals at %q, want 2 at SEV1", inc.SignalCount, inc.Severity)
	}
	want := []incident.EntryKind{incident.EntryOpened, incident.EntryResolved, incident.EntryReopened, incident.EntrySignal, incident.EntrySeverityChanged}
	if got := kinds(tl); !slices.Equal(got, want) {
		t.Errorf("timeline: got %v, want %v", got, want)
	}
	// Reopening cleared the dedup record's expiry: the key points at the
	// incident for as long as it is open.
	if rec, ok := e.store.Dedup(inc.DedupKey); !ok || rec.IncidentID != inc.ID || !rec.ExpiresAt.IsZero() {
		t.Errorf("dedup record: got %+v (present %v), want one for %s without expiry", rec, ok, inc.ID)
	}
	// It resolves and reopens again.
	if _, err := e.svc.Resolve(context.Background(), inc.ID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	again := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.At = e.clock.Now() }))
	if inc, _ := e.get(t, again.IncidentID); again.Outcome != incident.Reopened || inc.ReopenCount != 2 {
		t.Errorf("second reopen: got %q with reopen_count %d, want %q with 2", again.Outcome, inc.ReopenCount, incident.Reopened)
	}
}

func TestIngestRecover(t *testing.T) {
	tests := []struct {
		name         string
		autoResolve  bool
		give         incident.SignalKind
		want         incident.Outcome
		wantStatus   incident.Status
		wantTimeline []incident.EntryKind
	}{
		{name: "recovery noted", give: incident.Recover, want: incident.Recovered, wantStatus: incident.StatusTriggered,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryRecovered}},
		{name: "recovery auto-resolves", autoResolve: true, give: incident.Recover, want: incident.Resolved, wantStatus: incident.StatusResolved,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryRecovered, incident.EntryResolved}},
		{name: "info is only noted", give: incident.Info, want: incident.Noted, wantStatus: incident.StatusTriggered,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySignal}},
		{name: "info never resolves", autoResolve: true, give: incident.Info, want: incident.Noted, wantStatus: incident.StatusTriggered,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySignal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{}, incident.ServiceConfig{Name: "checkout", AutoResolve: tt.autoResolve})
			opened := e.ingest(t, alarm())
			before, _ := e.get(t, opened.IncidentID)
			recoveredAt := t0.Add(4 * time.Minute)
			e.clock.Set(t0.Add(5 * time.Minute))
			res := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.Kind, s.At = tt.give, recoveredAt }))
			if res.Outcome != tt.want || res.IncidentID != opened.IncidentID {
				t.Errorf("result: got %q on %s, want %q on %s", res.Outcome, res.IncidentID, tt.want, opened.IncidentID)
			}
			inc, tl := e.get(t, opened.IncidentID)
			if inc.Status != tt.wantStatus {
				t.Errorf("status: got %q, want %q", inc.Status, tt.wantStatus)
			}
			if got := kinds(tl); !slices.Equal(got, tt.wantTimeline) {
				t.Errorf("timeline: got %v, want %v", got, tt.wantTimeline)
			}
			if inc.SignalCount != before.SignalCount || inc.Severity != before.Severity {
				t.Errorf("got %d signals at %q, want %d at %q (recovery and info are no new trouble)",
					inc.SignalCount, inc.Severity, before.SignalCount, before.Severity)
			}
			if inc.Version <= before.Version {
				t.Errorf("version: got %d, want past %d", inc.Version, before.Version)
			}
		})
	}
}

func TestRecoverSetsRecoveredAt(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	id := e.ingest(t, alarm()).IncidentID
	e.clock.Set(t0.Add(5 * time.Minute))
	e.ingest(t, with(alarm(), func(s *incident.Signal) { s.Kind, s.At = incident.Recover, t0.Add(4*time.Minute) }))
	inc, _ := e.get(t, id)
	if inc.RecoveredAt == nil || !inc.RecoveredAt.Equal(t0.Add(4*time.Minute)) || inc.ResolvedAt != nil {
		t.Errorf("got recovered_at %v, resolved_at %v; want %v and none", inc.RecoveredAt, inc.ResolvedAt, t0.Add(4*time.Minute))
	}
}

func TestAutoResolveExpiresDedup(t *testing.T) {
	const window = 20 * time.Minute
	e := newEnv(t, incident.Rules{ReopenWindow: window}, incident.ServiceConfig{Name: "checkout", AutoResolve: true})
	id := e.ingest(t, alarm()).IncidentID
	now := t0.Add(5 * time.Minute)
	e.clock.Set(now)
	e.ingest(t, with(alarm(), func(s *incident.Signal) { s.Kind, s.At = incident.Recover, now }))
	inc, _ := e.get(t, id)
	if inc.ResolvedAt == nil || !inc.ResolvedAt.Equal(now) || inc.RecoveredAt == nil {
		t.Errorf("got resolved_at %v, recovered_at %v; want both at %v", inc.ResolvedAt, inc.RecoveredAt, now)
	}
	rec, ok := e.store.Dedup(inc.DedupKey)
	// The record outlives the reopen window, so a flapping alarm reopens instead
	// of opening a second incident.
	if !ok || rec.IncidentID != id || !rec.ExpiresAt.After(now.Add(window)) {
		t.Errorf("dedup record: got %+v (present %v), want one for %s expiring after %v", rec, ok, id, now.Add(window))
	}
	// Flapping: the alarm fires again a minute later.
	e.clock.Advance(time.Minute)
	res := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.At = e.clock.Now() }))
	if res.Outcome != incident.Reopened || res.IncidentID != id {
		t.Errorf("alarm after auto-resolve: got %q on %s, want %q on %s", res.Outcome, res.IncidentID, incident.Reopened, id)
	}
}

func TestRecoverAndInfoWithoutOpenIncidentAreIgnored(t *testing.T) {
	tests := []struct {
		name  string
		prior string // dedup key of an incident opened and auto-resolved before
		give  incident.SignalKind
	}{
		{name: "recover, no incident", prior: "another-alarm", give: incident.Recover},
		{name: "info, no incident", prior: "another-alarm", give: incident.Info},
		{name: "recover, incident resolved", prior: alarm().DedupKey, give: incident.Recover},
		{name: "info, incident resolved", prior: alarm().DedupKey, give: incident.Info},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{}, incident.ServiceConfig{Name: "checkout", AutoResolve: true})
			e.ingest(t, with(alarm(), func(s *incident.Signal) { s.DedupKey = tt.prior }))
			e.ingest(t, with(alarm(), func(s *incident.Signal) { s.DedupKey, s.Kind = tt.prior, incident.Recover }))
			writes := e.store.Writes()

			res := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.Kind, s.DeliveryID = tt.give, "msg-9" }))
			if res.Outcome != incident.Ignored || res.Deduplicated() {
				t.Errorf("outcome: got %q (deduplicated %v), want %q", res.Outcome, res.Deduplicated(), incident.Ignored)
			}
			if got := e.store.Writes(); got != writes {
				t.Errorf("store writes: got %d, want %d", got, writes)
			}
			if got := len(e.all(t)); got != 1 {
				t.Errorf("incidents: got %d, want 1", got)
			}
		})
	}
}

func TestIngestRejects(t *testing.T) {
	tests := []struct {
		name string
		give incident.Signal
	}{
		{name: "unknown source", give: with(alarm(), func(s *incident.Signal) { s.Source = "pagerduty" })},
		{name: "no source", give: with(alarm(), func(s *incident.Signal) { s.Source = "" })},
		{name: "unknown kind", give: with(alarm(), func(s *incident.Signal) { s.Kind = "resolve" })},
		{name: "no dedup key", give: with(alarm(), func(s *incident.Signal) { s.DedupKey = "" })},
		{name: "bad severity", give: with(alarm(), func(s *incident.Signal) { s.Severity = "P1" })},
		{name: "bad service name", give: with(alarm(), func(s *incident.Signal) { s.Service = "Checkout API" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			_, err := e.svc.Ingest(context.Background(), tt.give)
			if !errors.Is(err, errkind.Invalid) {
				t.Errorf("Ingest: got error %v, want %v", err, errkind.Invalid)
			}
			if got := e.store.Writes(); got != 0 {
				t.Errorf("store writes: got %d, want 0", got)
			}
		})
	}
}

func TestIngestNormalizes(t *testing.T) {
	tests := []struct {
		name        string
		rules       incident.Rules
		give        incident.Signal
		wantService string
		wantStarted time.Time
		wantTitle   string
	}{
		{name: "as given", give: alarm(), wantService: "checkout", wantStarted: t0, wantTitle: "checkout-cpu in ALARM"},
		{name: "no service goes to the default service", give: with(alarm(), func(s *incident.Signal) { s.Service = " " }),
			wantService: incident.DefaultServiceName, wantStarted: t0, wantTitle: "checkout-cpu in ALARM"},
		{name: "no service goes to the configured default service", rules: incident.Rules{DefaultService: "platform"},
			give:        with(alarm(), func(s *incident.Signal) { s.Service = "" }),
			wantService: "platform", wantStarted: t0, wantTitle: "checkout-cpu in ALARM"},
		{name: "service is trimmed", give: with(alarm(), func(s *incident.Signal) { s.Service = " checkout\n" }),
			wantService: "checkout", wantStarted: t0, wantTitle: "checkout-cpu in ALARM"},
		{name: "a time in the future is now", give: with(alarm(), func(s *incident.Signal) { s.At = t0.Add(48 * time.Hour) }),
			wantService: "checkout", wantStarted: t0, wantTitle: "checkout-cpu in ALARM"},
		{name: "no time is now", give: with(alarm(), func(s *incident.Signal) { s.At = time.Time{} }),
			wantService: "checkout", wantStarted: t0, wantTitle: "checkout-cpu in ALARM"},
		{name: "a past time is when it started", give: with(alarm(), func(s *incident.Signal) { s.At = t0.Add(-3 * time.Minute) }),
			wantService: "checkout", wantStarted: t0.Add(-3 * time.Minute), wantTitle: "checkout-cpu in ALARM"},
		{name: "no title names source and service", give: with(alarm(), func(s *incident.Signal) { s.Title = "  " }),
			wantService: "checkout", wantStarted: t0, wantTitle: "alarm on checkout"},
		{name: "title is trimmed", give: with(alarm(), func(s *incident.Signal) { s.Title = "\tCPU high " }),
			wantService: "checkout", wantStarted: t0, wantTitle: "CPU high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.rules)
			inc, _ := e.get(t, e.ingest(t, tt.give).IncidentID)
			if inc.Service != tt.wantService || !inc.StartedAt.Equal(tt.wantStarted) || inc.Title != tt.wantTitle {
				t.Errorf("got service %q, started %v, title %q; want %q, %v, %q",
					inc.Service, inc.StartedAt, inc.Title, tt.wantService, tt.wantStarted, tt.wantTitle)
			}
			if !inc.CreatedAt.Equal(t0) {
				t.Errorf("created_at: got %v, want %v", inc.CreatedAt, t0)
			}
		})
	}
}

func TestIngestCutsLongInput(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	samples := []string{strings.Repeat("y", 5000), "a", "b", "c", "d", "e", "f"}
	give := incident.Signal{
		Source: incident.SourceLog, Service: "checkout", DedupKey: "log:checkout:npe",
		Title: strings.Repeat("ü", 300), Text: strings.Repeat("€", 3000), Samples: samples,
	}
	inc, tl := e.get(t, e.ingest(t, give).IncidentID)
	if len(inc.Title) > 200 || !utf8.ValidString(inc.Title) || !strings.HasSuffix(inc.Title, "…") {
		t.Errorf("title: got %d bytes (valid UTF-8 %v), want at most 200, valid, ending in …", len(inc.Title), utf8.ValidString(inc.Title))
	}
	if got := tl[0]; len(got.Samples) != 5 || len(got.Samples[0]) > 1000 || !utf8.ValidString(got.Text) {
		t.Errorf("opened entry: got %d samples, the first %d bytes; want 5, at most 1000 bytes", len(got.Samples), len(got.Samples[0]))
	}
	if len(samples) != 7 || len(samples[0]) != 5000 {
		t.Errorf("the caller's samples: got %d, the first %d bytes; want them as given (7, 5000 bytes)", len(samples), len(samples[0]))
	}
}

// reporter is one report: who, and how long after t0.
type reporter struct {
	email, name string
	after       time.Duration
}

func TestReportsRaiseSeverity(t *testing.T) {
	tests := []struct {
		name      string
		cfg       incident.ServiceConfig
		give      []reporter
		want      incident.Severity
		wantRaise int // severity_changed entries
	}{
		{name: "one reporter stays low", give: []reporter{{email: "ann@example.com"}}, want: incident.SEV4},
		{name: "two reporters stay low", give: []reporter{{email: "ann@example.com"}, {email: "bob@example.com", after: time.Minute}},
			want: incident.SEV4},
		{name: "three distinct reporters raise", want: incident.SEV2, wantRaise: 1, give: []reporter{
			{email: "ann@example.com"}, {email: "bob@example.com", after: time.Minute}, {email: "cy@example.com", after: 2 * time.Minute},
		}},
		{name: "more reporters raise only once", want: incident.SEV2, wantRaise: 1, give: []reporter{
			{email: "ann@example.com"}, {email: "bob@example.com"}, {email: "cy@example.com"},
			{email: "dee@example.com"}, {email: "eve@example.com"}, {email: "fay@example.com"},
		}},
		{name: "the same reporter counts once", want: incident.SEV4, give: []reporter{
			{email: "ann@example.com"}, {email: "ann@example.com", after: time.Minute}, {email: "ann@example.com", after: 2 * time.Minute},
		}},
		{name: "e-mail is case-insensitive", want: incident.SEV4, give: []reporter{
			{email: "Ann@Example.com"}, {email: "ann@example.com"}, {email: " ANN@EXAMPLE.COM "}, {email: "bob@example.com"},
		}},
		{name: "names count when there is no e-mail", want: incident.SEV2, wantRaise: 1, give: []reporter{
			{name: "Ann"}, {name: "Bob"}, {email: "cy@example.com"},
		}},
		{name: "anonymous reports are not distinct reporters", want: incident.SEV4, give: []reporter{{}, {}, {}, {}}},
		{name: "reporters outside the window do not count", want: incident.SEV4, give: []reporter{
			{email: "ann@example.com"}, {email: "bob@example.com", after: 20 * time.Minute}, {email: "cy@example.com", after: 31 * time.Minute},
		}},
		{name: "a reporter counts from their latest report", want: incident.SEV2, wantRaise: 1, give: []reporter{
			{email: "ann@example.com"}, {email: "bob@example.com", after: 20 * time.Minute},
			{email: "ann@example.com", after: 25 * time.Minute}, {email: "cy@example.com", after: 40 * time.Minute},
		}},
		{name: "configured threshold, window and severity", want: incident.SEV1, wantRaise: 1,
			cfg:  incident.ServiceConfig{ReportThreshold: 2, ReportWindowMinutes: 5, ReportSeverity: incident.SEV1},
			give: []reporter{{email: "ann@example.com"}, {email: "bob@example.com", after: 5 * time.Minute}}},
		{name: "configured window excludes", want: incident.SEV4,
			cfg:  incident.ServiceConfig{ReportThreshold: 2, ReportWindowMinutes: 5, ReportSeverity: incident.SEV1},
			give: []reporter{{email: "ann@example.com"}, {email: "bob@example.com", after: 6 * time.Minute}}},
		{name: "threshold of one raises at once", want: incident.SEV3, wantRaise: 1,
			cfg:  incident.ServiceConfig{ReportThreshold: 1, ReportSeverity: incident.SEV3},
			give: []reporter{{email: "ann@example.com"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Name = "checkout"
			e := newEnv(t, incident.Rules{}, cfg)
			var id string
			for i, r := range tt.give {
				e.clock.Set(t0.Add(r.after))
				res, err := e.svc.Report(context.Background(), incident.ReportInput{
					Service: "checkout", Summary: "checkout page shows 502", ReporterEmail: r.email, ReporterName: r.name,
				})
				if err != nil {
					t.Fatalf("report %d: %v", i, err)
				}
				if res.ReportID == "" || (i > 0 && (res.IncidentID != id || !res.Deduplicated())) {
					t.Fatalf("report %d: got %+v, want a report id joining incident %s", i, res, id)
				}
				id = res.IncidentID
			}
			inc, tl := e.get(t, id)
			if inc.Severity != tt.want {
				t.Errorf("severity: got %q, want %q", inc.Severity, tt.want)
			}
			if got := count(tl, incident.EntrySeverityChanged); got != tt.wantRaise {
				t.Errorf("severity_changed entries: got %d in %v, want %d", got, kinds(tl), tt.wantRaise)
			}
			if got, want := count(tl, incident.EntryReport), len(tt.give); got != want {
				t.Errorf("report entries: got %d, want %d", got, want)
			}
			if got, want := len(e.store.Reports(id)), len(tt.give); got != want {
				t.Errorf("stored reports: got %d, want %d", got, want)
			}
			if inc.Source != incident.SourceReport || inc.SignalCount != len(tt.give) {
				t.Errorf("got source %q with %d signals, want %q with %d", inc.Source, inc.SignalCount, incident.SourceReport, len(tt.give))
			}
		})
	}
}

func TestReportRecordsWhatWasReported(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	res, err := e.svc.Report(context.Background(), incident.ReportInput{
		Service: " checkout ", Summary: " checkout page shows 502 ", Description: "since 11:55, on mobile",
		ReporterName: "Ann", ReporterEmail: "Ann@Example.com", AffectedUsers: 40, DeliveryID: "idem-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	rpts := e.store.Reports(res.IncidentID)
	if len(rpts) != 1 {
		t.Fatalf("reports: got %d, want 1", len(rpts))
	}
	want := incident.Report{
		ID: res.ReportID, IncidentID: res.IncidentID, Service: "checkout", Summary: "checkout page shows 502",
		Description: "since 11:55, on mobile", ReporterName: "Ann", ReporterEmail: "Ann@Example.com", AffectedUsers: 40, At: t0,
	}
	if rpts[0] != want {
		t.Errorf("report: got %+v, want %+v", rpts[0], want)
	}
	inc, tl := e.get(t, res.IncidentID)
	if inc.Title != "checkout page shows 502" || inc.Severity != incident.SEV4 {
		t.Errorf("incident: got %q at %q, want the summary at SEV4", inc.Title, inc.Severity)
	}
	wantTL := []incident.EntryKind{incident.EntryOpened, incident.EntryReport}
	if got := kinds(tl); !slices.Equal(got, wantTL) {
		t.Fatalf("timeline: got %v, want %v", got, wantTL)
	}
	if rep := tl[1]; rep.Actor != "ann@example.com" || !strings.Contains(rep.Text, "since 11:55") || !strings.Contains(rep.Text, "40") {
		t.Errorf("report entry: got actor %q, text %q; want the reporter and the description", rep.Actor, rep.Text)
	}
	// A retried submission (same Idempotency-Key) is the same report.
	again, err := e.svc.Report(context.Background(), incident.ReportInput{Service: "checkout", Summary: "again", DeliveryID: "idem-1"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ReportID != res.ReportID || !again.Duplicate || len(e.store.Reports(res.IncidentID)) != 1 {
		t.Errorf("retried report: got %+v and %d reports, want report %s again and 1 report", again, len(e.store.Reports(res.IncidentID)), res.ReportID)
	}
}

func TestReportRejects(t *testing.T) {
	configured := []incident.ServiceConfig{{Name: "payments"}, {Name: "checkout"}}
	tests := []struct {
		name    string
		configs []incident.ServiceConfig
		give    incident.ReportInput
		wantErr error
		wantMsg string // part of the message
		wantN   int    // incidents after
	}{
		{name: "configured service", configs: configured, give: incident.ReportInput{Service: "checkout", Summary: "slow"},
			wantMsg: "<nil>", wantN: 1},
		{name: "any service when none is configured", give: incident.ReportInput{Service: "anything", Summary: "slow"},
			wantMsg: "<nil>", wantN: 1},
		{name: "unknown service", configs: configured, give: incident.ReportInput{Service: "chekout", Summary: "slow"},
			wantErr: errkind.Invalid, wantMsg: `service "chekout" is not configured; configured services: checkout, payments`},
		{name: "invalid service name", give: incident.ReportInput{Service: "Check Out", Summary: "slow"},
			wantErr: errkind.Invalid, wantMsg: "not a valid name"},
		{name: "no service", configs: configured, give: incident.ReportInput{Summary: "slow"}, wantErr: errkind.Invalid},
		{name: "empty summary", give: incident.ReportInput{Service: "checkout"}, wantErr: errkind.Invalid, wantMsg: "summary is required"},
		{name: "blank summary", give: incident.ReportInput{Service: "checkout", Summary: " \n\t"}, wantErr: errkind.Invalid, wantMsg: "summary is required"},
		{name: "negative affected users", give: incident.ReportInput{Service: "checkout", Summary: "slow", AffectedUsers: -1}, wantErr: errkind.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{}, tt.configs...)
			_, err := e.svc.Report(context.Background(), tt.give)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Report: got error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(fmt.Sprint(err), tt.wantMsg) {
				t.Errorf("Report: got message %q, want it to contain %q", err, tt.wantMsg)
			}
			if got := len(e.all(t)); got != tt.wantN {
				t.Errorf("incidents: got %d, want %d", got, tt.wantN)
			}
		})
	}
}

func TestDeclare(t *testing.T) {
	tests := []struct {
		name    string
		configs []incident.ServiceConfig
		give    incident.Declaration
		want    incident.Severity
	}{
		{name: "given severity", give: incident.Declaration{Service: "checkout", Title: "Payments failing", Severity: incident.SEV1, Actor: "alice"},
			want: incident.SEV1},
		{name: "manual default", give: incident.Declaration{Service: "checkout", Title: "Payments failing", Actor: "alice"},
			want: incident.DefaultManualSeverity},
		{name: "service default", configs: []incident.ServiceConfig{{Name: "checkout", DefaultSeverity: incident.SEV2}},
			give: incident.Declaration{Service: "checkout", Title: "Payments failing", Actor: "alice"}, want: incident.SEV2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{}, tt.configs...)
			// Declared twice, word for word: two incidents, never deduplicated.
			a, err := e.svc.Declare(context.Background(), tt.give)
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.svc.Declare(context.Background(), tt.give)
			if err != nil {
				t.Fatal(err)
			}
			if a.ID == b.ID {
				t.Fatalf("ids: got %s twice, want two incidents", a.ID)
			}
			if got := len(e.all(t)); got != 2 {
				t.Errorf("incidents: got %d, want 2", got)
			}
			inc, tl := e.get(t, a.ID)
			if inc.Severity != tt.want || inc.Source != incident.SourceManual || inc.DedupKey != "" || inc.Status != incident.StatusTriggered {
				t.Errorf("incident: got %q, source %q, dedup key %q, status %q; want %q, manual, none, triggered",
					inc.Severity, inc.Source, inc.DedupKey, inc.Status, tt.want)
			}
			if !reflect.DeepEqual(inc, a) {
				t.Errorf("Declare returned %+v, the store holds %+v", a, inc)
			}
			if got := kinds(tl); !slices.Equal(got, []incident.EntryKind{incident.EntryOpened}) || tl[0].Actor != "alice" {
				t.Errorf("timeline: got %v by %q, want one opened entry by alice", got, tl[0].Actor)
			}
		})
	}
}

func TestDeclareIsNotJoinedBySignals(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	d, err := e.svc.Declare(context.Background(), incident.Declaration{Service: "checkout", Title: "CPU", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	res := e.ingest(t, alarm())
	if res.Outcome != incident.Opened || res.IncidentID == d.ID {
		t.Errorf("alarm after a declaration: got %q on %s, want a new incident", res.Outcome, res.IncidentID)
	}
}

func TestDeclareRejects(t *testing.T) {
	tests := []struct {
		name    string
		configs []incident.ServiceConfig
		give    incident.Declaration
		wantMsg string
	}{
		{name: "no title", give: incident.Declaration{Service: "checkout", Title: "  ", Actor: "a"}, wantMsg: "title is required"},
		{name: "title too long", give: incident.Declaration{Service: "checkout", Title: strings.Repeat("t", 201), Actor: "a"}, wantMsg: "at most 200"},
		{name: "text too long", give: incident.Declaration{Service: "checkout", Title: "t", Text: strings.Repeat("t", 4001), Actor: "a"}, wantMsg: "at most 4000"},
		{name: "bad severity", give: incident.Declaration{Service: "checkout", Title: "t", Severity: "high", Actor: "a"}, wantMsg: "severity"},
		{name: "bad service", give: incident.Declaration{Service: "", Title: "t", Actor: "a"}, wantMsg: "not a valid name"},
		{name: "unknown service", configs: []incident.ServiceConfig{{Name: "payments"}},
			give: incident.Declaration{Service: "checkout", Title: "t", Actor: "a"}, wantMsg: "configured services: payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{}, tt.configs...)
			_, err := e.svc.Declare(context.Background(), tt.give)
			if !errors.Is(err, errkind.Invalid) || !strings.Contains(fmt.Sprint(err), tt.wantMsg) {
				t.Errorf("Declare: got error %v, want %v containing %q", err, errkind.Invalid, tt.wantMsg)
			}
			if got := e.store.Writes(); got != 0 {
				t.Errorf("store writes: got %d, want 0", got)
			}
		})
	}
}

// step is one lifecycle call by a responder, a minute after the previous one.
type step struct {
	name string
	do   func(ctx context.Context, s *incident.Service, id string) (incident.Incident, error)
}

func ack() step {
	return step{"acknowledge", func(ctx context.Context, s *incident.Service, id string) (incident.Incident, error) {
		return s.Acknowledge(ctx, id, "alice")
	}}
}

func identify() step {
	return step{"identify", func(ctx context.Context, s *incident.Service, id string) (incident.Incident, error) {
		return s.Identify(ctx, id, "bob", "bad deploy")
	}}
}

func resolve(r incident.Resolution) step {
	return step{"resolve", func(ctx context.Context, s *incident.Service, id string) (incident.Incident, error) {
		return s.Resolve(ctx, id, "carol", r)
	}}
}

func TestTransitions(t *testing.T) {
	at := func(min int) *time.Time { return ptr(t0.Add(time.Duration(min) * time.Minute)) }
	tests := []struct {
		name         string
		give         []step
		want         incident.Status
		wantAck      *time.Time
		wantIdent    *time.Time
		wantResolved *time.Time
		wantTimeline []incident.EntryKind
		wantErr      error // of the last step
	}{
		{name: "acknowledge", give: []step{ack()}, want: incident.StatusAcknowledged, wantAck: at(1),
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryAcknowledged}},
		{name: "acknowledge twice is a no-op", give: []step{ack(), ack()}, want: incident.StatusAcknowledged, wantAck: at(1),
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryAcknowledged}},
		{name: "identify implies acknowledged", give: []step{identify()}, want: incident.StatusIdentified, wantAck: at(1), wantIdent: at(1),
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryIdentified}},
		{name: "identify keeps the acknowledgement time", give: []step{ack(), identify()}, want: incident.StatusIdentified,
			wantAck: at(1), wantIdent: at(2),
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryAcknowledged, incident.EntryIdentified}},
		{name: "identify twice is a no-op", give: []step{identify(), identify()}, want: incident.StatusIdentified, wantAck: at(1), wantIdent: at(1),
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryIdentified}},
		{name: "acknowledging an identified incident is a no-op", give: []step{identify(), ack()}, want: incident.StatusIdentified,
			wantAck: at(1), wantIdent: at(1), wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryIdentified}},
		{name: "resolve from triggered", give: []step{resolve(incident.Resolution{})}, want: incident.StatusResolved, wantResolved: at(1),
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryResolved}},
		{name: "resolve twice is a no-op", give: []step{ack(), resolve(incident.Resolution{}), resolve(incident.Resolution{})},
			want: incident.StatusResolved, wantAck: at(1), wantResolved: at(2),
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryAcknowledged, incident.EntryResolved}},
		{name: "resolving again updates the post-mortem's root cause",
			give: []step{resolve(incident.Resolution{}), resolve(incident.Resolution{RootCause: "bad deploy", Fix: "rolled back"})},
			want: incident.StatusResolved, wantResolved: at(1),
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryResolved, incident.EntryPostmortemUpdated}},
		{name: "acknowledging a resolved incident conflicts", give: []step{resolve(incident.Resolution{}), ack()},
			want: incident.StatusResolved, wantResolved: at(1), wantErr: errkind.Conflict,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryResolved}},
		{name: "identifying a resolved incident conflicts", give: []step{resolve(incident.Resolution{}), identify()},
			want: incident.StatusResolved, wantResolved: at(1), wantErr: errkind.Conflict,
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryResolved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			id := e.ingest(t, alarm()).IncidentID
			var err error
			for _, s := range tt.give {
				e.clock.Advance(time.Minute)
				_, err = s.do(context.Background(), e.svc, id)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("last step: got error %v, want %v", err, tt.wantErr)
			}
			inc, tl := e.get(t, id)
			if inc.Status != tt.want {
				t.Errorf("status: got %q, want %q", inc.Status, tt.want)
			}
			for _, ts := range []struct {
				field     string
				got, want *time.Time
			}{
				{"acknowledged_at", inc.AcknowledgedAt, tt.wantAck},
				{"identified_at", inc.IdentifiedAt, tt.wantIdent},
				{"resolved_at", inc.ResolvedAt, tt.wantResolved},
			} {
				if (ts.got == nil) != (ts.want == nil) || ts.got != nil && !ts.got.Equal(*ts.want) {
					t.Errorf("%s: got %v, want %v", ts.field, fmtTime(ts.got), fmtTime(ts.want))
				}
			}
			if got := kinds(tl); !slices.Equal(got, tt.wantTimeline) {
				t.Errorf("timeline: got %v, want %v", got, tt.wantTimeline)
			}
		})
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.Format(time.RFC3339)
}

func TestRefusedTransitionIsAnError(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	id := e.ingest(t, alarm()).IncidentID
	if _, err := e.svc.Resolve(context.Background(), id, "carol", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	writes := e.store.Writes()
	_, err := e.svc.Acknowledge(context.Background(), id, "alice")
	var ierr *errkind.Error
	if !errors.As(err, &ierr) || ierr.Kind != errkind.Conflict {
		t.Fatalf("Acknowledge of a resolved incident: got %#v, want an *errkind.Error of kind errkind.Conflict", err)
	}
	if !strings.Contains(ierr.Message, "resolved") {
		t.Errorf("message: got %q, want it to say the incident is resolved", ierr.Message)
	}
	if got := e.store.Writes(); got != writes {
		t.Errorf("store writes: got %d, want %d (a refusal is not retried or written)", got, writes)
	}
}

func TestTimelineEntriesCarryActorAndTime(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	id := e.ingest(t, alarm()).IncidentID
	e.clock.Advance(time.Minute)
	if _, err := e.svc.Acknowledge(context.Background(), id, "alice"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.svc.Identify(context.Background(), id, "bob", "  bad deploy 1.4.2 "); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.svc.Resolve(context.Background(), id, "carol", incident.Resolution{RootCause: "bad deploy", Fix: "rollback"}); err != nil {
		t.Fatal(err)
	}
	inc, tl := e.get(t, id)
	want := []struct {
		kind  incident.EntryKind
		actor string
		at    time.Time
		text  string
	}{
		{incident.EntryOpened, "alarm:checkout-cpu", t0, "checkout-cpu in ALARM"},
		{incident.EntryAcknowledged, "alice", t0.Add(time.Minute), "alice"},
		{incident.EntryIdentified, "bob", t0.Add(2 * time.Minute), "bad deploy 1.4.2"},
		{incident.EntryResolved, "carol", t0.Add(3 * time.Minute), "root cause: bad deploy\nfix: rollback"},
	}
	if len(tl) != len(want) {
		t.Fatalf("timeline: got %v, want %d entries", kinds(tl), len(want))
	}
	for i, w := range want {
		if e := tl[i]; e.Kind != w.kind || e.Actor != w.actor || !e.At.Equal(w.at) || !strings.Contains(e.Text, w.text) || !incident.ValidID(e.ID) {
			t.Errorf("entry %d: got %s by %q at %v: %q; want %s by %q at %v containing %q",
				i, e.Kind, e.Actor, e.At, e.Text, w.kind, w.actor, w.at, w.text)
		}
	}
	if inc.RootCause != "bad deploy" || inc.Fix != "rollback" {
		t.Errorf("got root cause %q, fix %q; want %q, %q", inc.RootCause, inc.Fix, "bad deploy", "rollback")
	}
}

func TestTimelineOrderWithinOneMoment(t *testing.T) {
	// A report that raises at once writes three entries at the same instant;
	// they must read in the order they happened, every time.
	e := newEnv(t, incident.Rules{}, incident.ServiceConfig{Name: "checkout", ReportThreshold: 1, ReportSeverity: incident.SEV2})
	want := []incident.EntryKind{incident.EntryOpened, incident.EntryReport, incident.EntrySeverityChanged}
	for i := range 30 {
		res, err := e.svc.Report(context.Background(), incident.ReportInput{Service: "checkout", Summary: "down", ReporterEmail: "ann@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		_, tl := e.get(t, res.IncidentID)
		if got := kinds(tl); !slices.Equal(got, want) {
			t.Fatalf("timeline of incident %d: got %v, want %v", i, got, want)
		}
		if _, err := e.svc.Resolve(context.Background(), res.IncidentID, "alice", incident.Resolution{}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Hour) // past the reopen window: the next report opens anew
	}
}

func TestTimelineOrderOfReopenWithRaise(t *testing.T) {
	// A reopen that raises the severity writes "reopened" and
	// "severity_changed" at the same instant, with the signal (fired a little
	// earlier) in between; the two must read in the order they happened.
	// (30 reopens in an hour flap; the flapping entry is not what this test
	// is about.)
	e := newEnv(t, incident.Rules{FlapThreshold: 1000})
	ctx := context.Background()
	id := e.ingest(t, alarm()).IncidentID
	want := []incident.EntryKind{incident.EntrySignal, incident.EntryReopened, incident.EntrySeverityChanged}
	for i := range 30 {
		e.clock.Advance(time.Minute)
		if _, err := e.svc.Update(ctx, id, "alice", incident.Patch{Severity: ptr(incident.SEV4)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Resolve(ctx, id, "alice", incident.Resolution{}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		res := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.At, s.Severity = e.clock.Now().Add(-1500*time.Millisecond), incident.SEV1 }))
		if res.Outcome != incident.Reopened {
			t.Fatalf("round %d: got %q, want %q", i, res.Outcome, incident.Reopened)
		}
		_, tl := e.get(t, id)
		if got := kinds(tl[len(tl)-3:]); !slices.Equal(got, want) {
			t.Fatalf("round %d: timeline ends with %v, want %v", i, got, want)
		}
	}
}

func TestUpdate(t *testing.T) {
	// The incident before: SEV3, "checkout-cpu in ALARM", no commander, version 1.
	type fields struct {
		severity         incident.Severity
		title, commander string
		version          int64
	}
	tests := []struct {
		name         string
		give         incident.Patch
		want         fields
		wantTimeline []incident.EntryKind
	}{
		{name: "severity raised", give: incident.Patch{Severity: ptr(incident.SEV1)},
			want:         fields{incident.SEV1, "checkout-cpu in ALARM", "", 2},
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySeverityChanged}},
		{name: "severity lowered by a human", give: incident.Patch{Severity: ptr(incident.SEV4)},
			want:         fields{incident.SEV4, "checkout-cpu in ALARM", "", 2},
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySeverityChanged}},
		{name: "title, trimmed", give: incident.Patch{Title: ptr("  Checkout CPU saturated ")},
			want:         fields{incident.SEV3, "Checkout CPU saturated", "", 2},
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryTitleChanged}},
		{name: "commander", give: incident.Patch{Commander: ptr("dave")},
			want:         fields{incident.SEV3, "checkout-cpu in ALARM", "dave", 2},
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntryCommander}},
		{name: "everything, one write", give: incident.Patch{Severity: ptr(incident.SEV2), Title: ptr("t"), Commander: ptr("dave")},
			want: fields{incident.SEV2, "t", "dave", 2},
			wantTimeline: []incident.EntryKind{incident.EntryOpened, incident.EntrySeverityChanged, incident.EntryTitleChanged,
				incident.EntryCommander}},
		{name: "same values change nothing", give: incident.Patch{Severity: ptr(incident.SEV3), Title: ptr("checkout-cpu in ALARM")},
			want:         fields{incident.SEV3, "checkout-cpu in ALARM", "", 1},
			wantTimeline: []incident.EntryKind{incident.EntryOpened}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			id := e.ingest(t, alarm()).IncidentID
			e.clock.Advance(time.Minute)
			got, err := e.svc.Update(context.Background(), id, "alice", tt.give)
			if err != nil {
				t.Fatal(err)
			}
			inc, tl := e.get(t, id)
			if !reflect.DeepEqual(got, inc) {
				t.Errorf("Update returned %+v, the store holds %+v", got, inc)
			}
			if f := (fields{inc.Severity, inc.Title, inc.Commander, inc.Version}); f != tt.want {
				t.Errorf("incident: got %+v, want %+v", f, tt.want)
			}
			if kinds := kinds(tl); !slices.Equal(kinds, tt.wantTimeline) {
				t.Errorf("timeline: got %v, want %v", kinds, tt.wantTimeline)
			}
			for _, e := range tl[1:] {
				if e.Actor != "alice" || !e.At.Equal(t0.Add(time.Minute)) {
					t.Errorf("entry %s: got by %q at %v, want by alice at %v", e.Kind, e.Actor, e.At, t0.Add(time.Minute))
				}
			}
		})
	}
}

func TestUpdateRejects(t *testing.T) {
	tests := []struct {
		name    string
		id      string // "" means the incident's
		actor   string
		give    incident.Patch
		wantErr error
	}{
		{name: "empty patch", actor: "alice", wantErr: errkind.Invalid},
		{name: "bad severity", actor: "alice", give: incident.Patch{Severity: ptr(incident.Severity("SEV0"))}, wantErr: errkind.Invalid},
		{name: "blank title", actor: "alice", give: incident.Patch{Title: ptr("   ")}, wantErr: errkind.Invalid},
		{name: "long title", actor: "alice", give: incident.Patch{Title: ptr(strings.Repeat("t", 201))}, wantErr: errkind.Invalid},
		{name: "long commander", actor: "alice", give: incident.Patch{Commander: ptr(strings.Repeat("c", 201))}, wantErr: errkind.Invalid},
		{name: "no actor", actor: " ", give: incident.Patch{Commander: ptr("dave")}, wantErr: errkind.Invalid},
		{name: "unknown incident", id: incident.NewID(t0), actor: "alice", give: incident.Patch{Commander: ptr("dave")}, wantErr: errkind.NotFound},
		{name: "malformed id", id: "../etc", actor: "alice", give: incident.Patch{Commander: ptr("dave")}, wantErr: errkind.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			id := e.ingest(t, alarm()).IncidentID
			writes := e.store.Writes()
			_, err := e.svc.Update(context.Background(), cmpOr(tt.id, id), tt.actor, tt.give)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Update: got error %v, want %v", err, tt.wantErr)
			}
			if got := e.store.Writes(); got != writes {
				t.Errorf("store writes: got %d, want %d", got, writes)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestAddNote(t *testing.T) {
	tests := []struct {
		name     string
		resolved bool
		give     string
		want     string
	}{
		{name: "on an open incident", give: "rolling back 1.4.2", want: "rolling back 1.4.2"},
		{name: "on a resolved incident", resolved: true, give: "post-mortem on Thursday", want: "post-mortem on Thursday"},
		{name: "trimmed", give: "  \n checking the LB \t", want: "checking the LB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{}, incident.ServiceConfig{Name: "checkout", AutoResolve: true})
			id := e.ingest(t, alarm()).IncidentID
			if tt.resolved {
				e.ingest(t, with(alarm(), func(s *incident.Signal) { s.Kind = incident.Recover }))
			}
			before, _ := e.get(t, id)
			e.clock.Advance(time.Minute)
			got, err := e.svc.AddNote(context.Background(), id, "alice", tt.give)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != incident.EntryNote || got.Text != tt.want || got.Actor != "alice" || !got.At.Equal(t0.Add(time.Minute)) {
				t.Errorf("entry: got %+v, want a note %q by alice at %v", got, tt.want, t0.Add(time.Minute))
			}
			inc, tl := e.get(t, id)
			if last := tl[len(tl)-1]; !reflect.DeepEqual(last, got) {
				t.Errorf("last timeline entry: got %+v, want %+v", last, got)
			}
			if inc.Status != before.Status || inc.Version != before.Version+1 {
				t.Errorf("got status %q, version %d; want %q, %d", inc.Status, inc.Version, before.Status, before.Version+1)
			}
		})
	}
}

func TestAddNoteRejects(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		actor   string
		give    string
		wantErr error
	}{
		{name: "empty text", actor: "alice", give: "  ", wantErr: errkind.Invalid},
		{name: "long text", actor: "alice", give: strings.Repeat("n", 4001), wantErr: errkind.Invalid},
		{name: "no actor", give: "hello", wantErr: errkind.Invalid},
		{name: "unknown incident", id: incident.NewID(t0), actor: "alice", give: "hello", wantErr: errkind.NotFound},
		{name: "malformed id", id: "nope", actor: "alice", give: "hello", wantErr: errkind.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			id := e.ingest(t, alarm()).IncidentID
			if _, err := e.svc.AddNote(context.Background(), cmpOr(tt.id, id), tt.actor, tt.give); !errors.Is(err, tt.wantErr) {
				t.Errorf("AddNote: got error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestGetRejects(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{name: "unknown", give: incident.NewID(t0)},
		{name: "malformed", give: "1 OR 1=1"},
		{name: "empty", give: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			if _, _, _, err := e.svc.Get(context.Background(), tt.give); !errors.Is(err, errkind.NotFound) {
				t.Errorf("Get(%q): got error %v, want %v", tt.give, err, errkind.NotFound)
			}
		})
	}
}

func TestList(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	ctx := context.Background()
	// Five incidents a minute apart, newest last: a, b (payments), c (acknowledged), d (resolved), e.
	ids := map[string]string{}
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		e.clock.Set(t0.Add(time.Duration(i) * time.Minute))
		service := map[bool]string{true: "payments", false: "checkout"}[name == "b"]
		ids[name] = e.ingest(t, with(alarm(), func(s *incident.Signal) { s.Service, s.DedupKey, s.At = service, "alarm-"+name, e.clock.Now() })).IncidentID
	}
	if _, err := e.svc.Acknowledge(ctx, ids["c"], "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Resolve(ctx, ids["d"], "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		give incident.Query
		want []string
	}{
		{name: "all, newest first", give: incident.Query{}, want: []string{"e", "d", "c", "b", "a"}},
		{name: "all by name", give: incident.Query{Status: "all"}, want: []string{"e", "d", "c", "b", "a"}},
		{name: "open", give: incident.Query{Status: "open"}, want: []string{"e", "c", "b", "a"}},
		{name: "triggered", give: incident.Query{Status: "triggered"}, want: []string{"e", "b", "a"}},
		{name: "acknowledged", give: incident.Query{Status: "acknowledged"}, want: []string{"c"}},
		{name: "resolved", give: incident.Query{Status: "resolved"}, want: []string{"d"}},
		{name: "identified", give: incident.Query{Status: "identified"}, want: nil},
		{name: "service", give: incident.Query{Service: "payments"}, want: []string{"b"}},
		{name: "service and status", give: incident.Query{Service: "checkout", Status: "open"}, want: []string{"e", "c", "a"}},
		{name: "unknown service", give: incident.Query{Service: "search"}, want: nil},
		{name: "limit", give: incident.Query{Limit: 2}, want: []string{"e", "d"}},
	}
	name := map[string]string{}
	for n, id := range ids {
		name[id] = n
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := e.svc.List(ctx, tt.give)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, inc := range page.Items {
				got = append(got, name[inc.ID])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%+v): got %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

func TestListPages(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	ctx := context.Background()
	var want []string
	for i := range 7 {
		e.clock.Set(t0.Add(time.Duration(i) * time.Second))
		res := e.ingest(t, with(alarm(), func(s *incident.Signal) { s.DedupKey = fmt.Sprint("alarm-", i) }))
		want = append([]string{res.IncidentID}, want...)
	}
	var got []string
	q := incident.Query{Limit: 3}
	for pages := 0; ; pages++ {
		if pages > 7 {
			t.Fatalf("paging does not end: %d pages", pages)
		}
		page, err := e.svc.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range page.Items {
			got = append(got, inc.ID)
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages: got %v, want %v", got, want)
	}
}

func TestListRejects(t *testing.T) {
	tests := []struct {
		name    string
		give    incident.Query
		wantErr error
	}{
		{name: "unknown status", give: incident.Query{Status: "closed"}, wantErr: errkind.Invalid},
		{name: "upper-case status", give: incident.Query{Status: "OPEN"}, wantErr: errkind.Invalid},
		{name: "limit too large", give: incident.Query{Limit: 101}, wantErr: errkind.Invalid},
		{name: "negative limit", give: incident.Query{Limit: -1}, wantErr: errkind.Invalid},
		{name: "bad service", give: incident.Query{Service: "Check Out"}, wantErr: errkind.Invalid},
		{name: "garbage cursor", give: incident.Query{Cursor: "%%%"}, wantErr: errkind.Invalid},
		{name: "limit 100", give: incident.Query{Limit: 100}},
		{name: "limit 1", give: incident.Query{Limit: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			if _, err := e.svc.List(context.Background(), tt.give); !errors.Is(err, tt.wantErr) {
				t.Errorf("List(%+v): got error %v, want %v", tt.give, err, tt.wantErr)
			}
		})
	}
}

func TestServiceConfigs(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	ctx := context.Background()
	e.clock.Set(t0.Add(time.Hour))
	got, err := e.svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", DefaultSeverity: incident.SEV2, UpdatedAt: t0.AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("updated_at: got %v, want %v (the service's clock)", got.UpdatedAt, t0.Add(time.Hour))
	}
	stored, err := e.svc.ServiceConfig(ctx, "checkout")
	if err != nil || !reflect.DeepEqual(stored, got) {
		t.Errorf("ServiceConfig: got %+v, %v; want %+v", stored, err, got)
	}
	if _, err := e.svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "Bad"}); !errors.Is(err, errkind.Invalid) {
		t.Errorf("PutServiceConfig(Bad): got error %v, want %v", err, errkind.Invalid)
	}
	for _, name := range []string{"search", "Bad Name"} {
		if _, err := e.svc.ServiceConfig(ctx, name); !errors.Is(err, errkind.NotFound) {
			t.Errorf("ServiceConfig(%q): got error %v, want %v", name, err, errkind.NotFound)
		}
	}
	all, err := e.svc.Services(ctx)
	if err != nil || len(all) != 1 || all[0].Name != "checkout" {
		t.Errorf("Services: got %+v, %v; want checkout only", all, err)
	}
	// The new default applies to the next signal.
	res := e.ingest(t, alarm())
	if inc, _ := e.get(t, res.IncidentID); inc.Severity != incident.SEV2 {
		t.Errorf("severity after config: got %q, want SEV2", inc.Severity)
	}
}

func TestConcurrentDuplicates(t *testing.T) {
	const n = 100
	tests := []struct {
		name         string
		delivery     func(i int) string
		wantSignals  int
		wantOpened   int
		wantDup      int
		wantAppended int
	}{
		// 100 alarm deliveries at once (SNS fan-out, EventBridge and a direct
		// Lambda action for the same alarm): one incident counting them all.
		{name: "distinct deliveries", delivery: func(i int) string { return fmt.Sprint("msg-", i) },
			wantSignals: n, wantOpened: 1, wantAppended: n - 1},
		// The same message delivered 100 times: applied once.
		{name: "one delivery redelivered", delivery: func(int) string { return "msg-1" },
			wantSignals: 1, wantOpened: 1, wantDup: n - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			results := make([]incident.Result, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					results[i], errs[i] = e.svc.Ingest(context.Background(), with(alarm(), func(s *incident.Signal) { s.DeliveryID = tt.delivery(i) }))
				})
			}
			wg.Wait()
			outcomes := map[string]int{}
			ids := map[string]bool{}
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("Ingest %d: %v", i, errs[i])
				}
				ids[results[i].IncidentID] = true
				switch {
				case results[i].Duplicate:
					outcomes["duplicate"]++
				default:
					outcomes[string(results[i].Outcome)]++
				}
			}
			want := map[string]int{"opened": tt.wantOpened, "appended": tt.wantAppended, "duplicate": tt.wantDup}
			summary := func(m map[string]int) string {
				return fmt.Sprintf("%d opened, %d appended, %d duplicate", m["opened"], m["appended"], m["duplicate"])
			}
			if summary(outcomes) != summary(want) {
				t.Errorf("outcomes: got %s, want %s", summary(outcomes), summary(want))
			}
			if len(ids) != 1 || len(e.all(t)) != 1 {
				t.Fatalf("incidents: got %d ids in results and %d stored, want 1", len(ids), len(e.all(t)))
			}
			inc, tl := e.get(t, results[0].IncidentID)
			if inc.SignalCount != tt.wantSignals || len(tl) != tt.wantSignals {
				t.Errorf("got %d signals and %d entries, want %d of each", inc.SignalCount, len(tl), tt.wantSignals)
			}
		})
	}
}

func TestConcurrentSignalsAndAcknowledge(t *testing.T) {
	// Responders acknowledge while the alarm keeps firing: the status change
	// makes in-flight appends retry; no signal is lost and the ack stands.
	e := newEnv(t, incident.Rules{})
	id := e.ingest(t, alarm()).IncidentID
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 50 {
		wg.Go(func() {
			_, err := e.svc.Ingest(context.Background(), with(alarm(), func(s *incident.Signal) { s.DeliveryID = fmt.Sprint("m", i) }))
			errs <- err
		})
	}
	for range 10 {
		wg.Go(func() {
			_, err := e.svc.Acknowledge(context.Background(), id, "alice")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	inc, tl := e.get(t, id)
	if inc.SignalCount != 51 || inc.Status != incident.StatusAcknowledged || count(tl, incident.EntryAcknowledged) != 1 {
		t.Errorf("got %d signals, status %q, %d acknowledged entries; want 51, acknowledged, 1",
			inc.SignalCount, inc.Status, count(tl, incident.EntryAcknowledged))
	}
}

func TestConcurrentReports(t *testing.T) {
	// Twenty people report at once: one incident, every report kept, raised once.
	e := newEnv(t, incident.Rules{}, incident.ServiceConfig{Name: "checkout"})
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() {
			_, errs[i] = e.svc.Report(context.Background(), incident.ReportInput{
				Service: "checkout", Summary: "502s", ReporterEmail: fmt.Sprintf("user%d@example.com", i),
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all := e.all(t)
	if len(all) != 1 {
		t.Fatalf("incidents: got %d, want 1", len(all))
	}
	inc, tl := e.get(t, all[0].ID)
	if inc.Severity != incident.SEV2 || count(tl, incident.EntrySeverityChanged) != 1 || len(e.store.Reports(inc.ID)) != 20 || len(inc.Reporters) != 20 {
		t.Errorf("got %q, %d severity changes, %d reports, %d reporters; want SEV2, 1, 20, 20",
			inc.Severity, count(tl, incident.EntrySeverityChanged), len(e.store.Reports(inc.ID)), len(inc.Reporters))
	}
}

// racing wraps the store so that a competing writer gets in between the
// service's next read and its write: a lost race, on demand.
type racing struct {
	*incidenttest.Store
	mu   sync.Mutex
	hook func()
}

func (r *racing) after() {
	r.mu.Lock()
	h := r.hook
	r.hook = nil
	r.mu.Unlock()
	if h != nil {
		h()
	}
}

func (r *racing) Incident(ctx context.Context, id string) (incident.Incident, error) {
	inc, err := r.Store.Incident(ctx, id)
	r.after()
	return inc, err
}

func (r *racing) IncidentByDedupKey(ctx context.Context, key string) (incident.Incident, error) {
	inc, err := r.Store.IncidentByDedupKey(ctx, key)
	r.after()
	return inc, err
}

func (r *racing) Lookup(ctx context.Context, sig incident.Signal, hint string, withConfig bool) (incident.Lookup, error) {
	l, err := r.Store.Lookup(ctx, sig, hint, withConfig)
	r.after()
	return l, err
}

type op func(ctx context.Context, s *incident.Service, id string) error

func TestLostRaceIsRetried(t *testing.T) {
	var (
		signal = func(ctx context.Context, s *incident.Service, _ string) error {
			_, err := s.Ingest(ctx, alarm())
			return err
		}
		// freshSignal has no time of its own: it happened when it arrived.
		freshSignal = func(ctx context.Context, s *incident.Service, _ string) error {
			_, err := s.Ingest(ctx, with(alarm(), func(sig *incident.Signal) { sig.At = time.Time{} }))
			return err
		}
		acknowledge = func(ctx context.Context, s *incident.Service, id string) error {
			_, err := s.Acknowledge(ctx, id, "alice")
			return err
		}
		resolve = func(ctx context.Context, s *incident.Service, id string) error {
			_, err := s.Resolve(ctx, id, "alice", incident.Resolution{})
			return err
		}
		note = func(ctx context.Context, s *incident.Service, id string) error {
			_, err := s.AddNote(ctx, id, "bob", "looking")
			return err
		}
		raise = func(ctx context.Context, s *incident.Service, id string) error {
			_, err := s.Update(ctx, id, "bob", incident.Patch{Severity: ptr(incident.SEV1)})
			return err
		}
	)
	tests := []struct {
		name         string
		give, racer  op // give reads, racer writes, give writes
		want         incident.Status
		wantSignals  int
		wantSeverity incident.Severity
		wantEntries  map[incident.EntryKind]int
	}{
		{name: "signal during acknowledge", give: acknowledge, racer: signal,
			want: incident.StatusAcknowledged, wantSignals: 2, wantSeverity: incident.SEV3,
			wantEntries: map[incident.EntryKind]int{incident.EntrySignal: 1, incident.EntryAcknowledged: 1}},
		{name: "acknowledge during a signal", give: signal, racer: acknowledge,
			want: incident.StatusAcknowledged, wantSignals: 2, wantSeverity: incident.SEV3,
			wantEntries: map[incident.EntryKind]int{incident.EntrySignal: 1, incident.EntryAcknowledged: 1}},
		// The alarm's state change came before the person resolved but after
		// everything known of the alarm: the alarm fires, so the incident
		// reopens (README, event time: an alarm's state is the truth).
		{name: "resolve during an older alarm state change still reopens", give: signal, racer: resolve,
			want: incident.StatusTriggered, wantSignals: 2, wantSeverity: incident.SEV3,
			wantEntries: map[incident.EntryKind]int{incident.EntrySignal: 1, incident.EntryResolved: 1, incident.EntryReopened: 1}},
		{name: "resolve during a signal as new as it reopens", give: freshSignal, racer: resolve,
			want: incident.StatusTriggered, wantSignals: 2, wantSeverity: incident.SEV3,
			wantEntries: map[incident.EntryKind]int{incident.EntrySignal: 1, incident.EntryResolved: 1, incident.EntryReopened: 1}},
		{name: "note during a severity change", give: raise, racer: note,
			want: incident.StatusTriggered, wantSignals: 1, wantSeverity: incident.SEV1,
			wantEntries: map[incident.EntryKind]int{incident.EntryNote: 1, incident.EntrySeverityChanged: 1}},
		{name: "severity change during a resolve", give: resolve, racer: raise,
			want: incident.StatusResolved, wantSignals: 1, wantSeverity: incident.SEV1,
			wantEntries: map[incident.EntryKind]int{incident.EntryResolved: 1, incident.EntrySeverityChanged: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := clocktest.New(t0)
			st := &racing{Store: incidenttest.New(c.Now)}
			svc := incident.NewService(st, incident.Rules{}, incident.WithClock(c.Now))
			other := incident.NewService(st.Store, incident.Rules{}, incident.WithClock(c.Now))
			res, err := other.Ingest(ctx, alarm())
			if err != nil {
				t.Fatal(err)
			}
			id := res.IncidentID
			c.Advance(time.Minute)
			var racerErr error
			st.hook = func() { racerErr = tt.racer(ctx, other, id) }
			if err := tt.give(ctx, svc, id); err != nil {
				t.Fatalf("give: %v", err)
			}
			if racerErr != nil {
				t.Fatalf("racer: %v", racerErr)
			}
			if st.hook != nil {
				t.Fatal("the racer never ran")
			}
			incidenttest.CatchUp(t, svc, st)
			inc, tl, _, err := svc.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Status != tt.want || inc.SignalCount != tt.wantSignals || inc.Severity != tt.wantSeverity {
				t.Errorf("got %q with %d signals at %q, want %q with %d at %q",
					inc.Status, inc.SignalCount, inc.Severity, tt.want, tt.wantSignals, tt.wantSeverity)
			}
			got := map[incident.EntryKind]int{}
			for _, e := range tl {
				got[e.Kind]++
			}
			want := maps.Clone(tt.wantEntries)
			want[incident.EntryOpened] = 1
			if !reflect.DeepEqual(got, want) {
				t.Errorf("entries: got %v, want %v", got, want)
			}
		})
	}
}

func TestFirstSignalsRaceToOpen(t *testing.T) {
	// Two deliveries of one alarm both find no incident; the one that loses the
	// dedup claim retries and joins the winner's incident.
	ctx := context.Background()
	c := clocktest.New(t0)
	st := &racing{Store: incidenttest.New(c.Now)}
	svc := incident.NewService(st, incident.Rules{}, incident.WithClock(c.Now))
	other := incident.NewService(st.Store, incident.Rules{}, incident.WithClock(c.Now))
	var winner incident.Result
	var racerErr error
	st.hook = func() {
		winner, racerErr = other.Ingest(ctx, with(alarm(), func(s *incident.Signal) { s.DeliveryID = "m2" }))
	}
	res, err := svc.Ingest(ctx, with(alarm(), func(s *incident.Signal) { s.DeliveryID = "m1" }))
	if err != nil || racerErr != nil {
		t.Fatalf("Ingest: %v, racer: %v", err, racerErr)
	}
	if winner.Outcome != incident.Opened || res.Outcome != incident.Appended || res.IncidentID != winner.IncidentID {
		t.Errorf("got racer %q on %s, loser %q on %s; want opened, then appended to it",
			winner.Outcome, winner.IncidentID, res.Outcome, res.IncidentID)
	}
	incidenttest.CatchUp(t, svc, st)
	page, err := svc.List(ctx, incident.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].SignalCount != 2 {
		t.Errorf("got %d incidents, want 1 with 2 signals", len(page.Items))
	}
}

// failingUpdates fails the next Update-kind change: a store that goes away
// between a report's append and its raise.
type failingUpdates struct {
	*incidenttest.Store
	fail atomic.Bool
}

func (f *failingUpdates) Apply(ctx context.Context, ch incident.Change) error {
	if ch.Kind == incident.Update && f.fail.CompareAndSwap(true, false) {
		return fmt.Errorf("store down: %w", errkind.Unavailable)
	}
	return f.Store.Apply(ctx, ch)
}

func TestReportRaiseIsDecidedAgainOnRedelivery(t *testing.T) {
	// The third distinct reporter's append lands, its raise fails: the client
	// sends it again with its Idempotency-Key, and the redelivery raises.
	c := clocktest.New(t0)
	st := &failingUpdates{Store: incidenttest.New(c.Now)}
	svc := incident.NewService(st, incident.Rules{}, incident.WithClock(c.Now))
	ctx := context.Background()
	report := func(i int) (incident.Result, error) {
		return svc.Report(ctx, incident.ReportInput{Service: "checkout", Summary: "502s",
			ReporterEmail: fmt.Sprintf("user%d@example.com", i), DeliveryID: fmt.Sprintf("k-%d", i), Fingerprint: fmt.Sprintf("f-%d", i)})
	}
	for i := range 2 {
		if _, err := report(i); err != nil {
			t.Fatal(err)
		}
	}
	st.fail.Store(true)
	if _, err := report(2); !errors.Is(err, errkind.Unavailable) {
		t.Fatalf("third report with the store failing its raise: got %v, want unavailable", err)
	}
	res, err := report(2)
	if err != nil || !res.Duplicate {
		t.Fatalf("third report again: got %+v, %v; want the first result, duplicate", res, err)
	}
	inc, tl, _, err := svc.Get(ctx, res.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Severity != incident.SEV2 || count(tl, incident.EntrySeverityChanged) != 1 || count(tl, incident.EntryReport) != 3 || inc.SignalCount != 3 {
		t.Errorf("got %s, %d severity changes, %d reports, signal_count %d; want SEV2, 1, 3, 3",
			inc.Severity, count(tl, incident.EntrySeverityChanged), count(tl, incident.EntryReport), inc.SignalCount)
	}
}
