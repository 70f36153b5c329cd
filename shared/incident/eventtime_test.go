package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// delivery is one delivery: a signal of kind whose source says it happened at
// t0+at, delivered at t0+deliver (its At when deliver is zero).
type delivery struct {
	kind        incident.SignalKind
	source      incident.Source
	at, deliver time.Duration
}

// personResolves marks a person resolving the incident at t0+at.
const personResolves incident.SignalKind = "person resolves"

func play(t *testing.T, e env, steps []delivery) (last incident.Result, id string) {
	t.Helper()
	for i, s := range steps {
		deliver := s.deliver
		if deliver == 0 {
			deliver = s.at
		}
		e.clock.Set(t0.Add(deliver))
		if s.kind == personResolves {
			if _, err := e.svc.Resolve(context.Background(), id, "alice", incident.Resolution{}); err != nil {
				t.Fatalf("delivery %d: resolve: %v", i, err)
			}
			continue
		}
		sig := with(alarm(), func(sig *incident.Signal) {
			sig.Kind, sig.At = s.kind, t0.Add(s.at)
			if s.source != "" {
				sig.Source = s.source
			}
		})
		last = e.ingest(t, sig)
		if id == "" {
			id = last.IncidentID
		}
	}
	return last, id
}

func TestEventTimeDecides(t *testing.T) {
	const window = 30 * time.Minute
	tests := []struct {
		name        string
		autoResolve bool
		steps       []delivery // the last one is the delivery under test
		want        incident.Outcome
		wantStatus  incident.Status
		wantReopens int
		wantStale   int // stale_signal entries
	}{
		{name: "stale ALARM after a person resolved: no reopen",
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Recover, at: 8 * time.Minute}, {kind: personResolves, at: 10 * time.Minute},
				{kind: incident.Trigger, at: 5 * time.Minute, deliver: 11 * time.Minute}},
			want: incident.Stale, wantStatus: incident.StatusResolved, wantStale: 1},
		// An alarm's state is the truth of its source: an ALARM newer than all
		// that is known of the alarm fires now, though a person resolved the
		// incident (say, after an OK) before it was delivered.
		{name: "ALARM newer than the alarm's known state, older than a person's resolve: reopens",
			steps: []delivery{{kind: incident.Trigger}, {kind: personResolves, at: 10 * time.Minute},
				{kind: incident.Trigger, at: 5 * time.Minute, deliver: 11 * time.Minute}},
			want: incident.Reopened, wantStatus: incident.StatusTriggered, wantReopens: 1},
		{name: "stale ALARM after an auto-resolve: no reopen", autoResolve: true,
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Recover, at: 10 * time.Minute},
				{kind: incident.Trigger, at: 5 * time.Minute, deliver: 11 * time.Minute}},
			want: incident.Stale, wantStatus: incident.StatusResolved, wantStale: 1},
		{name: "stale log window after resolve: no reopen",
			steps: []delivery{{kind: incident.Trigger}, {kind: personResolves, at: 10 * time.Minute},
				{kind: incident.Trigger, source: incident.SourceLog, at: 9 * time.Minute, deliver: 12 * time.Minute}},
			want: incident.Stale, wantStatus: incident.StatusResolved, wantStale: 1},
		{name: "ALARM after the OK, delivered after the auto-resolve: reopens", autoResolve: true,
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Recover, at: 10 * time.Minute, deliver: 12 * time.Minute},
				{kind: incident.Trigger, at: 11 * time.Minute, deliver: 13 * time.Minute}},
			want: incident.Reopened, wantStatus: incident.StatusTriggered, wantReopens: 1},
		{name: "ALARM after a person resolved: reopens",
			steps: []delivery{{kind: incident.Trigger}, {kind: personResolves, at: 10 * time.Minute},
				{kind: incident.Trigger, at: 15 * time.Minute}},
			want: incident.Reopened, wantStatus: incident.StatusTriggered, wantReopens: 1},
		{name: "OK older than the last ALARM: no resolve", autoResolve: true,
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Trigger, at: 20 * time.Minute},
				{kind: incident.Recover, at: 10 * time.Minute, deliver: 21 * time.Minute}},
			want: incident.Stale, wantStatus: incident.StatusTriggered, wantStale: 1},
		{name: "OK older than the last ALARM, no auto-resolve: no recovery noted",
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Trigger, at: 20 * time.Minute},
				{kind: incident.Recover, at: 10 * time.Minute, deliver: 21 * time.Minute}},
			want: incident.Stale, wantStatus: incident.StatusTriggered, wantStale: 1},
		{name: "OK newer than the last ALARM: resolves", autoResolve: true,
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Trigger, at: 20 * time.Minute},
				{kind: incident.Recover, at: 10 * time.Minute, deliver: 21 * time.Minute}, {kind: incident.Recover, at: 25 * time.Minute}},
			want: incident.Resolved, wantStatus: incident.StatusResolved, wantStale: 1},
		{name: "OK older than a recovery already noted: stale",
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Recover, at: 10 * time.Minute},
				{kind: incident.Recover, at: 5 * time.Minute, deliver: 11 * time.Minute}},
			want: incident.Stale, wantStatus: incident.StatusTriggered, wantStale: 1},
		// OK 10, (ALARM 20), OK 30, the ALARM at 20 delivered last: the alarm
		// is OK since 30, which the resolved incident keeps, so no reopen.
		{name: "OK delivered to the resolved incident, then an older ALARM: stale", autoResolve: true,
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Recover, at: 10 * time.Minute},
				{kind: incident.Recover, at: 30 * time.Minute}, {kind: incident.Trigger, at: 20 * time.Minute, deliver: 31 * time.Minute}},
			want: incident.Stale, wantStatus: incident.StatusResolved, wantStale: 1},
		{name: "ALARM, OK in order: resolves (unchanged)", autoResolve: true,
			steps: []delivery{{kind: incident.Trigger}, {kind: incident.Recover, at: 10 * time.Minute}},
			want:  incident.Resolved, wantStatus: incident.StatusResolved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{ReopenWindow: window}, incident.ServiceConfig{Name: "checkout", AutoResolve: tt.autoResolve})
			res, id := play(t, e, tt.steps)
			if res.Outcome != tt.want || res.IncidentID != id {
				t.Errorf("last delivery: got %q on %s, want %q on %s", res.Outcome, res.IncidentID, tt.want, id)
			}
			if n := len(e.all(t)); n != 1 {
				t.Errorf("incidents: got %d, want 1", n)
			}
			inc, tl := e.get(t, id)
			if inc.Status != tt.wantStatus || inc.ReopenCount != tt.wantReopens {
				t.Errorf("got status %q, reopen_count %d; want %q, %d", inc.Status, inc.ReopenCount, tt.wantStatus, tt.wantReopens)
			}
			if got := count(tl, incident.EntryStale); got != tt.wantStale {
				t.Errorf("stale_signal entries: got %d, want %d (timeline %v)", got, tt.wantStale, kinds(tl))
			}
		})
	}
}

func TestStaleDeliveryIsNotedOnce(t *testing.T) {
	// A stale delivery redelivered (same delivery id) changes nothing more.
	e := newEnv(t, incident.Rules{}, incident.ServiceConfig{Name: "checkout", AutoResolve: true})
	_, id := play(t, e, []delivery{{kind: incident.Trigger}, {kind: incident.Trigger, at: 20 * time.Minute}})
	late := with(alarm(), func(s *incident.Signal) {
		s.Kind, s.At, s.DeliveryID = incident.Recover, t0.Add(10*time.Minute), "msg-ok"
	})
	first := e.ingest(t, late)
	again := e.ingest(t, late)
	if first.Outcome != incident.Stale || !again.Duplicate || again.Outcome != incident.Stale {
		t.Errorf("got %+v then %+v, want stale then a duplicate of it", first, again)
	}
	inc, tl := e.get(t, id)
	if inc.Status != incident.StatusTriggered || inc.RecoveredAt != nil || count(tl, incident.EntryStale) != 1 {
		t.Errorf("got status %q, recovered_at %v, %d stale entries; want triggered, none, 1", inc.Status, fmtTime(inc.RecoveredAt), count(tl, incident.EntryStale))
	}
}

// TestReopenKeepsItsProcessingTime: a reopen records its event time
// (reopened_at) and when the platform processed it (reopen_processed_at),
// which a late ALARM puts minutes apart; the processing time is kept
// through the changes after it, moved by the next reopen only, and zero on
// an incident that never reopened. (The watchdog measures an earlier
// escalation against it: README, "Failure modes".)
func TestReopenKeepsItsProcessingTime(t *testing.T) {
	const window = 30 * time.Minute
	tests := []struct {
		name          string
		steps         []delivery
		wantEvent     time.Duration // the latest reopened_at, from t0; -1: none
		wantProcessed time.Duration // reopen_processed_at, from t0; -1: zero
	}{
		{name: "never reopened",
			steps:     []delivery{{kind: incident.Trigger}, {kind: incident.Trigger, at: 5 * time.Minute}},
			wantEvent: -1, wantProcessed: -1},
		{name: "ALARM delivered on time",
			steps:     []delivery{{kind: incident.Trigger}, {kind: personResolves, at: 10 * time.Minute}, {kind: incident.Trigger, at: 15 * time.Minute}},
			wantEvent: 15 * time.Minute, wantProcessed: 15 * time.Minute},
		{name: "ALARM delivered 10 minutes late",
			steps:     []delivery{{kind: incident.Trigger}, {kind: personResolves, at: 10 * time.Minute}, {kind: incident.Trigger, at: 15 * time.Minute, deliver: 25 * time.Minute}},
			wantEvent: 15 * time.Minute, wantProcessed: 25 * time.Minute},
		{name: "kept through a recovery, a join and a stale delivery",
			steps: []delivery{{kind: incident.Trigger}, {kind: personResolves, at: 10 * time.Minute}, {kind: incident.Trigger, at: 15 * time.Minute, deliver: 25 * time.Minute},
				{kind: incident.Recover, at: 26 * time.Minute}, {kind: incident.Trigger, at: 27 * time.Minute}, {kind: incident.Recover, at: 20 * time.Minute, deliver: 28 * time.Minute}},
			wantEvent: 15 * time.Minute, wantProcessed: 25 * time.Minute},
		{name: "moved by the next reopen",
			steps: []delivery{{kind: incident.Trigger}, {kind: personResolves, at: 10 * time.Minute}, {kind: incident.Trigger, at: 15 * time.Minute, deliver: 25 * time.Minute},
				{kind: personResolves, at: 30 * time.Minute}, {kind: incident.Trigger, at: 32 * time.Minute, deliver: 33 * time.Minute}},
			wantEvent: 32 * time.Minute, wantProcessed: 33 * time.Minute},
	}
	at := func(d time.Duration) time.Time {
		if d < 0 {
			return time.Time{}
		}
		return t0.Add(d)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{ReopenWindow: window}, incident.ServiceConfig{Name: "checkout"})
			_, id := play(t, e, tt.steps)
			inc, _ := e.get(t, id)
			var event time.Time
			if n := len(inc.ReopenedAt); n > 0 {
				event = inc.ReopenedAt[n-1]
			}
			if !event.Equal(at(tt.wantEvent)) || !inc.ReopenProcessedAt.Equal(at(tt.wantProcessed)) {
				t.Errorf("got reopened at %s, processed at %s; want %s, %s", fmtTime(&event), fmtTime(&inc.ReopenProcessedAt),
					at(tt.wantEvent).Format(time.RFC3339), at(tt.wantProcessed).Format(time.RFC3339))
			}
		})
	}
}

func TestFlapping(t *testing.T) {
	const window = 30 * time.Minute
	tests := []struct {
		name          string
		threshold     int
		changes       int // alternating ALARM, OK, one a minute, from ALARM
		wantReopens   int
		wantStatus    incident.Status
		wantFlapping  bool
		wantFlapEntry int
	}{
		{name: "40 changes, default threshold", changes: 40, wantReopens: 3, wantStatus: incident.StatusTriggered, wantFlapping: true, wantFlapEntry: 1},
		{name: "40 changes, threshold 5", threshold: 5, changes: 40, wantReopens: 5, wantStatus: incident.StatusTriggered, wantFlapping: true, wantFlapEntry: 1},
		{name: "below the threshold", changes: 6, wantReopens: 2, wantStatus: incident.StatusResolved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{ReopenWindow: window, FlapThreshold: tt.threshold},
				incident.ServiceConfig{Name: "checkout", AutoResolve: true})
			var steps []delivery
			for i := range tt.changes {
				kind := incident.Trigger
				if i%2 == 1 {
					kind = incident.Recover
				}
				steps = append(steps, delivery{kind: kind, at: time.Duration(i) * time.Minute})
			}
			_, id := play(t, e, steps)
			if n := len(e.all(t)); n != 1 {
				t.Errorf("incidents: got %d, want 1", n)
			}
			inc, tl := e.get(t, id)
			if inc.ReopenCount != tt.wantReopens || inc.Status != tt.wantStatus || inc.Flapping != tt.wantFlapping {
				t.Errorf("got reopen_count %d, status %q, flapping %v; want %d, %q, %v",
					inc.ReopenCount, inc.Status, inc.Flapping, tt.wantReopens, tt.wantStatus, tt.wantFlapping)
			}
			if got := count(tl, incident.EntryFlapping); got != tt.wantFlapEntry {
				t.Errorf("flapping entries: got %d, want %d", got, tt.wantFlapEntry)
			}
			if got := incident.NewView(inc).Flapping; got != tt.wantFlapping {
				t.Errorf("view flapping: got %v, want %v", got, tt.wantFlapping)
			}
		})
	}
}

func TestFlappingResolvesAfterAQuietWindow(t *testing.T) {
	const window = 30 * time.Minute
	e := newEnv(t, incident.Rules{ReopenWindow: window}, incident.ServiceConfig{Name: "checkout", AutoResolve: true})
	var steps []delivery
	for i := range 8 { // ALARM, OK, … : flapping from the third reopen, ends in OK
		kind := incident.Trigger
		if i%2 == 1 {
			kind = incident.Recover
		}
		steps = append(steps, delivery{kind: kind, at: time.Duration(i) * time.Minute})
	}
	_, id := play(t, e, steps)
	if inc, _ := e.get(t, id); inc.Status == incident.StatusResolved || !inc.Flapping {
		t.Fatalf("after flapping: got status %q, flapping %v; want open and flapping", inc.Status, inc.Flapping)
	}
	// The alarm fires again and holds for the whole window, then recovers.
	tests := []struct {
		name string
		give delivery
		want incident.Outcome
	}{
		{name: "ALARM", give: delivery{kind: incident.Trigger, at: 10 * time.Minute}, want: incident.Appended},
		{name: "OK before the window is quiet: still suspended", give: delivery{kind: incident.Recover, at: 20 * time.Minute}, want: incident.Recovered},
		{name: "ALARM again", give: delivery{kind: incident.Trigger, at: 21 * time.Minute}, want: incident.Appended},
		{name: "OK after a quiet window: resolves", give: delivery{kind: incident.Recover, at: 21*time.Minute + window}, want: incident.Resolved},
	}
	for _, tt := range tests {
		if res, _ := play(t, e, []delivery{tt.give}); res.Outcome != tt.want {
			t.Fatalf("%s: got %q, want %q", tt.name, res.Outcome, tt.want)
		}
	}
	inc, tl := e.get(t, id)
	if inc.Status != incident.StatusResolved || inc.Flapping || count(tl, incident.EntryFlapping) != 2 {
		t.Errorf("got status %q, flapping %v, %d flapping entries; want resolved, false, 2 (started, stopped)",
			inc.Status, inc.Flapping, count(tl, incident.EntryFlapping))
	}
}
