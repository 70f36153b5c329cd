package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// flapSteps are 8 alternating changes a minute apart, from ALARM: the
// incident flaps from its third reopen; with last OK, it ends in OK, else in
// ALARM (the 9th change).
func flapSteps(endInAlarm bool) []delivery {
	n := 8
	if endInAlarm {
		n = 9
	}
	var steps []delivery
	for i := range n {
		kind := incident.Trigger
		if i%2 == 1 {
			kind = incident.Recover
		}
		steps = append(steps, delivery{kind: kind, at: time.Duration(i) * time.Minute})
	}
	return steps
}

// TestSettleFlapping: a flapping incident whose alarm settled in OK is
// resolved once its alarm stayed quiet for the reopen window, once; one whose
// alarm still fires, or of a service that does not auto-resolve, is not.
func TestSettleFlapping(t *testing.T) {
	const window = 30 * time.Minute
	tests := []struct {
		name        string
		autoResolve bool
		endInAlarm  bool
		after       time.Duration // since the last change
		want        bool
	}{
		{name: "settled in OK, quiet for the window", autoResolve: true, after: window, want: true},
		{name: "settled in OK, not quiet long enough", autoResolve: true, after: window - time.Minute - time.Second},
		{name: "still alarming", autoResolve: true, endInAlarm: true, after: 2 * window},
		{name: "service does not auto-resolve", after: 2 * window},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{ReopenWindow: window}, incident.ServiceConfig{Name: "checkout", AutoResolve: tt.autoResolve})
			steps := flapSteps(tt.endInAlarm)
			_, id := play(t, e, steps)
			if inc, _ := e.get(t, id); !inc.Flapping || !inc.Status.Open() {
				if tt.autoResolve {
					t.Fatalf("after flapping: got status %q, flapping %v; want open and flapping", inc.Status, inc.Flapping)
				}
			}
			e.clock.Set(t0.Add(steps[len(steps)-1].at + tt.after))
			for attempt := range 2 {
				_, resolved, err := e.svc.SettleFlapping(context.Background(), id, "watchdog")
				if err != nil {
					t.Fatal(err)
				}
				if want := tt.want && attempt == 0; resolved != want {
					t.Errorf("attempt %d: got resolved %v, want %v", attempt+1, resolved, want)
				}
			}
			inc, tl := e.get(t, id)
			if got := inc.Status == incident.StatusResolved; got != tt.want {
				t.Errorf("got status %q, want resolved %v", inc.Status, tt.want)
			}
			if !tt.want {
				return
			}
			byWatchdog := 0
			for _, en := range tl {
				if en.Actor == "watchdog" && en.Kind == incident.EntryResolved {
					byWatchdog++
				}
			}
			if inc.Flapping || !inc.AutoResolved || count(tl, incident.EntryFlapping) != 2 || byWatchdog != 1 {
				t.Errorf("got flapping %v, auto_resolved %v, %d flapping entries, %d resolved by the watchdog; want false, true, 2 (started, stopped), 1",
					inc.Flapping, inc.AutoResolved, count(tl, incident.EntryFlapping), byWatchdog)
			}
			if last := tl[len(tl)-1]; last.Actor != "watchdog" || last.Kind != incident.EntryResolved {
				t.Errorf("last entry: got %s by %q, want resolved by watchdog", last.Kind, last.Actor)
			}
		})
	}
}
