package incident

import (
	"testing"
	"time"
)

// TestRedecide: the fold counts a join on its incident unless the request
// path would have decided otherwise, had it seen the incident as it is now.
func TestRedecide(t *testing.T) {
	at := func(hhmm string) time.Time {
		v, err := time.Parse("15:04:05", hhmm)
		if err != nil {
			t.Fatal(err)
		}
		return v.AddDate(2026, 11, 2)
	}
	ptr := func(v time.Time) *time.Time { return &v }
	alarm := func(eventAt, acceptedAt string, sev Severity) PendingSignal {
		return PendingSignal{Signal: Signal{Source: SourceAlarm, Kind: Trigger, At: at(eventAt)}, AcceptedAt: at(acceptedAt), Severity: sev}
	}
	open := Incident{Status: StatusTriggered, Severity: SEV2, LastSignalAt: at("08:00:00")}
	// Auto-resolved by an OK of 08:10, processed at 08:30:00.
	autoResolved := Incident{Status: StatusResolved, Severity: SEV2, LastSignalAt: at("08:00:00"),
		RecoveredAt: ptr(at("08:10:00")), ResolvedAt: ptr(at("08:30:00")), AutoResolved: true}
	// Resolved by a person at 08:30 after an ALARM of 08:00, no OK.
	byPerson := Incident{Status: StatusResolved, Severity: SEV2, LastSignalAt: at("08:00:00"), ResolvedAt: ptr(at("08:30:00"))}
	tests := []struct {
		name string
		p    PendingSignal
		inc  Incident
		want bool
	}{
		{"open, as severe: counted", alarm("08:05:00", "08:05:01", SEV2), open, false},
		{"open, less severe than the join: raised", alarm("08:05:00", "08:05:01", SEV1), open, true},
		{"accepted after the resolve (the instance still saw it open)", alarm("08:05:00", "08:30:01", SEV2), autoResolved, true},
		// The race of review finding 2: the ALARM of 08:20 was put at
		// 08:29:59.999, the OK of 08:10 resolved at 08:30 without seeing it.
		{"an ALARM newer than the OK that resolved it, accepted just before", alarm("08:20:00", "08:29:59", SEV2), autoResolved, true},
		{"an ALARM older than the OK that resolved it", alarm("08:05:00", "08:29:59", SEV2), autoResolved, false},
		{"a person's resolve: an ALARM newer than all known of the alarm fires again", alarm("08:20:00", "08:29:59", SEV2), byPerson, true},
		{"a person's resolve: an ALARM older than the last known", alarm("07:59:00", "08:29:59", SEV2), byPerson, false},
	}
	for _, tt := range tests {
		if got := tt.p.Redecide(tt.inc); got != tt.want {
			t.Errorf("%s: Redecide = %v, want %v", tt.name, got, tt.want)
		}
	}
}
