package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// The rules of README "Event time decides" and "Flapping", on the real store.
func TestEventTimeOnTheStore(t *testing.T) {
	type change struct {
		kind incident.SignalKind
		at   time.Duration // event time, from the start; delivered later, in order
	}
	tests := []struct {
		name        string
		autoResolve bool
		changes     []change
		resolveFrom int // a person resolves after this change; -1: nobody
		want        incident.Outcome
		wantStatus  incident.Status
	}{
		{name: "stale ALARM after a person resolved does not reopen", resolveFrom: 1,
			changes: []change{{incident.Trigger, 0}, {incident.Recover, 15 * time.Minute}, {incident.Trigger, 10 * time.Minute}},
			want:    incident.Stale, wantStatus: incident.StatusResolved},
		{name: "OK older than the last ALARM does not resolve", autoResolve: true, resolveFrom: -1,
			changes: []change{{incident.Trigger, 0}, {incident.Trigger, 20 * time.Minute}, {incident.Recover, 10 * time.Minute}},
			want:    incident.Stale, wantStatus: incident.StatusTriggered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			start := clk.Now()
			svc, store := newService(t, clk, incident.Rules{ReopenWindow: 30 * time.Minute})
			ctx := context.Background()
			if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", AutoResolve: tt.autoResolve}); err != nil {
				t.Fatal(err)
			}
			var id string
			var res incident.Result
			for i, c := range tt.changes {
				clk.Set(start.Add(21*time.Minute + time.Duration(i)*time.Minute)) // all delivered late
				sig := incidenttest.Alarm("checkout", "checkout-cpu")
				sig.Kind, sig.At = c.kind, start.Add(c.at)
				var err error
				if res, err = svc.Ingest(ctx, sig); err != nil {
					t.Fatal(err)
				}
				if id == "" {
					id = res.IncidentID
				}
				if i == tt.resolveFrom {
					if _, err := svc.Resolve(ctx, id, "alice", incident.Resolution{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if res.Outcome != tt.want || res.IncidentID != id {
				t.Errorf("last delivery: got %q on %s, want %q on %s", res.Outcome, res.IncidentID, tt.want, id)
			}
			inc, err := store.Incident(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Status != tt.wantStatus || inc.ReopenCount != 0 {
				t.Errorf("got status %q, reopen_count %d; want %q, 0", inc.Status, inc.ReopenCount, tt.wantStatus)
			}
			_, tl, _, err := svc.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if kinds := incidenttest.CountKinds(tl); kinds[incident.EntryStale] != 1 {
				t.Errorf("got timeline %v, want one stale_signal entry", kinds)
			}
		})
	}
}

func TestFlappingIsStored(t *testing.T) {
	clk := newClock()
	start := clk.Now()
	svc, store := newService(t, clk, incident.Rules{ReopenWindow: 30 * time.Minute})
	ctx := context.Background()
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", AutoResolve: true}); err != nil {
		t.Fatal(err)
	}
	var id string
	for i := range 9 { // ALARM, OK, … : the third reopen (ALARM at 6 min) flaps; the OK at 7 min is suspended
		clk.Set(start.Add(time.Duration(i) * time.Minute))
		sig := incidenttest.Alarm("checkout", "checkout-cpu")
		sig.At = clk.Now()
		if i%2 == 1 {
			sig.Kind = incident.Recover
		}
		res, err := svc.Ingest(ctx, sig)
		if err != nil {
			t.Fatal(err)
		}
		id = res.IncidentID
	}
	inc, err := store.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !inc.Flapping || inc.Status != incident.StatusTriggered || inc.ReopenCount != 3 || len(inc.ReopenedAt) != 3 || inc.AutoResolved {
		t.Errorf("got flapping %v, status %q, reopen_count %d, reopened_at %v, auto_resolved %v; want true, triggered, 3, 3 times, false",
			inc.Flapping, inc.Status, inc.ReopenCount, inc.ReopenedAt, inc.AutoResolved)
	}
	_, tl, _, err := svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if kinds := incidenttest.CountKinds(tl); kinds[incident.EntryFlapping] != 1 {
		t.Errorf("got timeline %v, want one flapping entry", kinds)
	}
}
