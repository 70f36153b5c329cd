package oncall_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

var scheduleSeeds = []string{
	designSchedule,
	`{"name":"s","time_zone":"America/New_York","rotations":[{"participants":["a","b","c"],"shift_hours":1,"start":"2026-03-08T00:00:00-05:00"},
	  {"participants":["x"],"shift_days":1,"start":"2026-03-07T09:00:00-05:00","end":"2026-03-09T09:00:00-04:00","time_zone":"Europe/Berlin"}],
	  "overrides":[{"user":"dave","start":"2026-03-08T01:00:00-05:00","end":"2026-03-08T04:00:00-04:00"}]}`,
	`{"name":"s","time_zone":"Australia/Sydney","rotations":[{"participants":["a","b"],"shift_weeks":1,"start":"2026-09-28T09:00:00+10:00"}]}`,
	`{"name":"s","time_zone":"Australia/Lord_Howe","rotations":[{"participants":["a","a","b"],"shift_hours":5,"start":"2026-10-03T22:30:00+10:30"}]}`,
	`{"name":"s","time_zone":"UTC","overrides":[{"user":"a","start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}]}`,
	`{"name":"s","time_zone":"Mars/Olympus_Mons"}`,
	`{"name":"s","time_zone":"UTC","rotations":[{"participants":[],"shift_hours":-1,"start":"1969-01-01T00:00:00Z"}]}`,
	`{"name":"s","time_zone":"Local","rotations":[{"participants":[""],"shift_hours":0}]}`,
	`[]`, `{`, `{"name":"s"}{}`,
}

// FuzzParseSchedule: any document is refused as invalid or gives a schedule
// whose shifts are ordered, disjoint, inside the window, agree with
// WhoIsOnCall and survive the iCalendar round trip. A document that decodes
// but does not validate is resolved too, without a panic.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range scheduleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := oncall.ParseSchedule(data)
		if err != nil {
			var oe *oncall.Error
			if !errors.Is(err, errkind.Invalid) || !errors.As(err, &oe) || err.Error() == "" {
				t.Fatalf("got error %v (%T), want an *oncall.Error that is errkind.Invalid", err, err)
			}
			var raw oncall.Schedule
			if json.Unmarshal(data, &raw) == nil {
				checkSchedule(t, &raw, false)
			}
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if _, err := oncall.ParseSchedule(again); err != nil {
			t.Fatalf("a valid schedule does not read back: %v\n%s", err, again)
		}
		checkSchedule(t, s, true)
	})
}

func checkSchedule(t *testing.T, s *oncall.Schedule, valid bool) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if len(s.Rotations) > 0 && s.Rotations[0].Start.Year() > 1970 && s.Rotations[0].Start.Year() < 9000 {
		from = s.Rotations[0].Start.Add(-24 * time.Hour)
	}
	to := from.Add(10 * 24 * time.Hour)
	shifts, err := oncall.Shifts(s, from, to)
	if err != nil {
		t.Fatalf("Shifts: %v", err)
	}
	users := map[string]bool{}
	for _, r := range s.Rotations {
		for _, p := range r.Participants {
			users[p] = true
		}
	}
	for _, o := range s.Overrides {
		users[o.User] = true
	}
	prevEnd := from
	for i, sh := range shifts {
		if !sh.End.After(sh.Start) || sh.Start.Before(from) || sh.End.After(to) {
			t.Fatalf("shift %d %s–%s: empty or outside %s–%s", i, sh.Start, sh.End, from, to)
		}
		if sh.Start.Before(prevEnd) {
			t.Fatalf("shift %d starts at %s before the previous ends at %s", i, sh.Start, prevEnd)
		}
		if i > 0 && shifts[i-1].End.Equal(sh.Start) && shifts[i-1].User == sh.User {
			t.Fatalf("shifts %d and %d of %q are adjacent but not merged", i-1, i, sh.User)
		}
		if sh.User == "" || !users[sh.User] {
			t.Fatalf("shift %d: user %q is nobody in the schedule", i, sh.User)
		}
		if sh.Start.After(prevEnd) {
			if got := oncall.WhoIsOnCall(s, prevEnd); len(got) != 0 {
				t.Fatalf("WhoIsOnCall(%s) in a gap: got %v, want nobody", prevEnd, got)
			}
		}
		for _, at := range []time.Time{sh.Start, sh.End.Add(-time.Nanosecond)} {
			if got := oncall.WhoIsOnCall(s, at); len(got) != 1 || got[0] != sh.User {
				t.Fatalf("WhoIsOnCall(%s): got %v, want [%s]", at, got, sh.User)
			}
		}
		prevEnd = sh.End
	}
	if !valid {
		return
	}
	b, err := oncall.ICS(s, from, to)
	if err != nil {
		t.Fatalf("ICS: %v", err)
	}
	got, _ := parseICS(t, b)
	if g, w := times(got), times(shifts); len(g) != len(w) || (len(g) > 0 && !bytes.Equal(mustJSON(t, g), mustJSON(t, w))) {
		t.Fatalf("ICS parsed back:\ngot  %v\nwant %v", g, w)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var policySeeds = []string{
	designPolicy,
	`{"name":"p","levels":[{"targets":[{"schedule":"primary"},{"user":"a"}],"wait_minutes":0},{"targets":[{"schedule":"gone"}],"wait_minutes":1440}],"repeat":9,"fallback":{"schedule":"primary"}}`,
	`{"name":"p","levels":[],"fallback":{}}`,
	`{"name":"p","levels":[{"targets":[{"user":"a","schedule":"b"}],"wait_minutes":-1}],"repeat":10}`,
	`{"name":"p","levels":[{"targets":[{"user":"a"}],"wait_minutes":"5"}]}`,
	`null`, `{"name":"p","levels":[{"targets":[{"team":"a"}]}]}`,
}

// FuzzParsePolicy: any document is refused as invalid or gives a policy whose
// OnCall answers every level and whose escalation pages the levels in order,
// then the fallback, and ends.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range policySeeds {
		f.Add([]byte(s))
	}
	primary, err := oncall.ParseSchedule([]byte(designSchedule))
	if err != nil {
		f.Fatal(err)
	}
	schedules := map[string]*oncall.Schedule{"primary": primary}
	at := time.Date(2026, 11, 24, 20, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := oncall.ParsePolicy(data)
		if err != nil {
			var oe *oncall.Error
			if !errors.Is(err, errkind.Invalid) || !errors.As(err, &oe) || err.Error() == "" {
				t.Fatalf("got error %v (%T), want an *oncall.Error that is errkind.Invalid", err, err)
			}
			var raw oncall.Policy
			if json.Unmarshal(data, &raw) == nil {
				runToEnd(t, oncall.Start(&raw, &oncall.Target{User: "ops"}), schedules, at)
			}
			return
		}
		levels := oncall.OnCall(p, schedules, at)
		if len(levels) != len(p.Levels) {
			t.Fatalf("OnCall: got %d levels, want %d", len(levels), len(p.Levels))
		}
		for i, l := range levels {
			seen := map[string]bool{}
			for _, u := range l.OnCall {
				if seen[u] || u == "" {
					t.Fatalf("level %d: %q empty or twice in %v", l.Level, u, l.OnCall)
				}
				seen[u] = true
			}
			if l.Level != i+1 {
				t.Fatalf("OnCall[%d].Level: got %d, want %d", i, l.Level, i+1)
			}
		}
		pages := runToEnd(t, oncall.Start(p, &oncall.Target{User: "ops"}), schedules, at)
		if want := len(p.Levels)*(p.Repeat+1) + 1; len(pages) != want {
			t.Fatalf("got %d pages, want %d", len(pages), want)
		}
		for i, pg := range pages[:len(pages)-1] {
			if want := (oncall.Step{Phase: oncall.PhaseLevel, Level: i%len(p.Levels) + 1, Repeat: i / len(p.Levels)}); pg.Step != want {
				t.Fatalf("page %d: got step %+v, want %+v", i, pg.Step, want)
			}
		}
		if last := pages[len(pages)-1]; last.Step.Phase != oncall.PhaseFallback || len(last.Users) == 0 {
			t.Fatalf("last page: got %+v, want the fallback paging someone", last)
		}
	})
}

// FuzzEscalationState: whatever state comes back from the state machine,
// firing it never panics, waits within bounds and ends.
func FuzzEscalationState(f *testing.F) {
	p, schedules := escalationFixture()
	for _, e := range []oncall.Escalation{
		oncall.Start(p, &oncall.Target{User: "ops"}),
		oncall.Start(nil, &oncall.Target{Schedule: "primary"}),
		{Policy: p, Step: oncall.Step{Phase: oncall.PhaseLevel, Level: 3, Repeat: 1}},
		{Policy: p, Step: oncall.Step{Phase: "bogus", Level: -1}},
	} {
		b, _ := json.Marshal(e)
		f.Add(b)
	}
	f.Add([]byte(`{"policy":{"levels":[{"targets":[{}],"wait_minutes":99999999999}],"repeat":1000000},"step":{"phase":"level","level":1}}`))
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		var e oncall.Escalation
		if json.Unmarshal(data, &e) != nil {
			return
		}
		runToEnd(t, e, schedules, at)
	})
}

// runToEnd fires e until done, through JSON as the state machine carries it,
// and fails if it pages past the bound or waits out of bounds.
func runToEnd(t *testing.T, e oncall.Escalation, schedules map[string]*oncall.Schedule, at time.Time) []oncall.Page {
	levels := 0
	if e.Policy != nil {
		levels = len(e.Policy.Levels)
	}
	bound := levels*(oncall.MaxRepeat+1) + 2
	var pages []oncall.Page
	for i := 0; i <= bound; i++ {
		pg := e.Fire(schedules, at)
		if pg.WaitSeconds < 0 || pg.WaitSeconds > oncall.MaxWaitMinutes*60 {
			t.Fatalf("step %+v: wait %ds out of bounds", pg.Step, pg.WaitSeconds)
		}
		if len(pg.Users) == 0 && pg.WaitSeconds != 0 {
			t.Fatalf("step %+v pages nobody yet waits %ds", pg.Step, pg.WaitSeconds)
		}
		if pg.Done {
			if pg.Step.Phase != oncall.PhaseDone {
				pages = append(pages, pg)
			}
			return pages
		}
		pages = append(pages, pg)
		b, err := json.Marshal(oncall.Escalation{Policy: e.Policy, Fallback: e.Fallback, Step: pg.Next})
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		e = oncall.Escalation{}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("the state does not read back: %v\n%s", err, b)
		}
		at = at.Add(time.Duration(pg.WaitSeconds) * time.Second)
	}
	t.Fatalf("no end after %d steps", bound)
	return nil
}
