package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// integration is a trigger of a PagerDuty-compatible sender.
func integration(kind incident.SignalKind, delivery string, at time.Time) incident.Signal {
	return incident.Signal{
		Source: incident.SourceIntegration, Kind: kind, Service: "checkout", DedupKey: "pagerduty:checkout:disk",
		Title: "Disk full", At: at, Actor: "pagerduty:alertmanager", DeliveryID: delivery,
	}
}

// An Acknowledge signal acknowledges as a person does; a resolving Recover
// resolves whatever auto_resolve says; neither opens anything.
func TestSignalsThatAcknowledgeAndResolve(t *testing.T) {
	tests := []struct {
		name       string
		signals    []incident.Signal
		wantStatus incident.Status
		wantLast   incident.EntryKind
		wantCount  int
	}{
		{"acknowledge", []incident.Signal{integration(incident.Trigger, "d1", t0), integration(incident.Acknowledge, "d2", t0.Add(time.Minute))},
			incident.StatusAcknowledged, incident.EntryAcknowledged, 1},
		{"resolve without auto_resolve", []incident.Signal{integration(incident.Trigger, "d1", t0),
			with(integration(incident.Recover, "d2", t0.Add(time.Minute)), func(s *incident.Signal) { s.Resolves = true })},
			incident.StatusResolved, incident.EntryResolved, 1},
		{"a recovery that does not ask to resolve only notes", []incident.Signal{integration(incident.Trigger, "d1", t0), integration(incident.Recover, "d2", t0.Add(time.Minute))},
			incident.StatusTriggered, incident.EntryRecovered, 1},
		{"acknowledge with nothing open opens nothing", []incident.Signal{integration(incident.Acknowledge, "d1", t0)}, "", "", 0},
		{"acknowledge twice writes once", []incident.Signal{integration(incident.Trigger, "d1", t0),
			integration(incident.Acknowledge, "d2", t0.Add(time.Minute)), integration(incident.Acknowledge, "d3", t0.Add(2*time.Minute))},
			incident.StatusAcknowledged, incident.EntryAcknowledged, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{}, incident.ServiceConfig{Name: "checkout"})
			for _, s := range tt.signals {
				e.clock.Set(s.At)
				e.ingest(t, s)
			}
			page, err := e.svc.List(context.Background(), incident.Query{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != tt.wantCount {
				t.Fatalf("got %d incidents, want %d", len(page.Items), tt.wantCount)
			}
			if tt.wantCount == 0 {
				return
			}
			inc, tl, _, err := e.svc.Get(context.Background(), page.Items[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			last := tl[len(tl)-1]
			if inc.Status != tt.wantStatus || last.Kind != tt.wantLast || last.Actor != "pagerduty:alertmanager" {
				t.Errorf("got %s, last entry %s by %q; want %s, %s by pagerduty:alertmanager", inc.Status, last.Kind, last.Actor, tt.wantStatus, tt.wantLast)
			}
			if n := len(tl); tt.name == "acknowledge twice writes once" && n != 2 {
				t.Errorf("got %d entries, want 2 (opened, acknowledged)", n)
			}
		})
	}
}
