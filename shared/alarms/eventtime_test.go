package alarms

import (
	"testing"

	"github.com/incidentd/incidentd/shared/incident"
)

// Out-of-order alarm deliveries through SNS, as README "Event time decides"
// promises, on an auto-resolving service.
func TestOutOfOrderAlarmStates(t *testing.T) {
	type delivery struct{ state, ts string }
	tests := []struct {
		name       string
		give       []delivery // delivered in this order
		want       incident.Outcome
		wantStatus incident.Status
		wantReopen int
	}{
		{name: "OK older than the last ALARM does not resolve",
			give: []delivery{{StateAlarm, "2026-11-23T08:00:00.000+0000"}, {StateAlarm, "2026-11-23T08:20:00.000+0000"},
				{StateOK, "2026-11-23T08:10:00.000+0000"}},
			want: incident.Stale, wantStatus: incident.StatusTriggered},
		{name: "stale ALARM after the auto-resolve does not reopen",
			give: []delivery{{StateAlarm, "2026-11-23T08:00:00.000+0000"}, {StateOK, "2026-11-23T08:10:00.000+0000"},
				{StateAlarm, "2026-11-23T08:05:00.000+0000"}},
			want: incident.Stale, wantStatus: incident.StatusResolved},
		{name: "ALARM after the OK reopens",
			give: []delivery{{StateAlarm, "2026-11-23T08:00:00.000+0000"}, {StateOK, "2026-11-23T08:10:00.000+0000"},
				{StateAlarm, "2026-11-23T08:12:00.000+0000"}},
			want: incident.Reopened, wantStatus: incident.StatusTriggered, wantReopen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.configure(t, incident.ServiceConfig{Name: "checkout", AutoResolve: true})
			var last Item
			for _, d := range tt.give {
				last = e.invoke(t, snsEvent(t, alarmMessage("checkout-cpu", d.state, d.ts, "incidentd:service=checkout"))).Items[0]
			}
			if last.Outcome != string(tt.want) {
				t.Errorf("last delivery: got %+v, want outcome %q", last, tt.want)
			}
			incs := e.incidents(t)
			if len(incs) != 1 {
				t.Fatalf("got %d incidents, want 1", len(incs))
			}
			if incs[0].Status != tt.wantStatus || incs[0].ReopenCount != tt.wantReopen {
				t.Errorf("got status %q, reopen_count %d; want %q, %d", incs[0].Status, incs[0].ReopenCount, tt.wantStatus, tt.wantReopen)
			}
		})
	}
}
