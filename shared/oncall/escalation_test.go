package oncall_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/oncall"
)

// escalationFixture: level 1 pages the hourly "primary" (alice 09:00, bob
// 10:00, ...), level 2 the "empty" schedule (nobody until December), level 3
// carol; one repeat; dave as the fallback.
func escalationFixture() (*oncall.Policy, map[string]*oncall.Schedule) {
	p := &oncall.Policy{
		Name: "checkout",
		Levels: []oncall.Level{
			{Targets: []oncall.Target{{Schedule: "primary"}}, WaitMinutes: 30},
			{Targets: []oncall.Target{{Schedule: "empty"}}, WaitMinutes: 10},
			{Targets: []oncall.Target{{User: "carol"}}, WaitMinutes: 30},
		},
		Repeat:   1,
		Fallback: &oncall.Target{User: "dave"},
	}
	schedules := map[string]*oncall.Schedule{
		"primary": {Name: "primary", TimeZone: "UTC", Rotations: []oncall.Rotation{
			{Participants: []string{"alice", "bob"}, ShiftHours: 1, Start: ts("2026-11-02T09:00:00Z")}}},
		"empty": {Name: "empty", TimeZone: "UTC", Overrides: []oncall.Override{
			override("zoe", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z")}},
		"nobody": {Name: "nobody", TimeZone: "UTC"},
	}
	return p, schedules
}

// describe writes a page as "phase level/repeat users wait → next".
func describe(pg oncall.Page) string {
	s := fmt.Sprintf("%s %d/%d [%s] wait %ds → %s %d/%d", pg.Step.Phase, pg.Step.Level, pg.Step.Repeat,
		strings.Join(pg.Users, ","), pg.WaitSeconds, pg.Next.Phase, pg.Next.Level, pg.Next.Repeat)
	if pg.PlatformFallback {
		s += " (platform)"
	}
	if pg.Done {
		s += " done"
	}
	return s
}

// run fires e from t until it is done, as the state machine would: the state
// goes through JSON between steps and time moves on by each wait.
func run(t *testing.T, e oncall.Escalation, schedules map[string]*oncall.Schedule, at time.Time) []string {
	t.Helper()
	var got []string
	for i := 0; i < 1000; i++ {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var next oncall.Escalation
		if err := json.Unmarshal(b, &next); err != nil {
			t.Fatal(err)
		}
		pg := next.Fire(schedules, at)
		got = append(got, describe(pg))
		if pg.Done {
			return got
		}
		at = at.Add(time.Duration(pg.WaitSeconds) * time.Second)
		next.Step = pg.Next
		e = next
	}
	t.Fatalf("no end after 1000 steps: %v", got[len(got)-5:])
	return nil
}

func TestEscalationRun(t *testing.T) {
	p, schedules := escalationFixture()
	tests := []struct {
		name      string
		e         oncall.Escalation
		schedules map[string]*oncall.Schedule
		want      []string
	}{
		{
			name: "nobody acknowledges: levels in order, an empty level skipped at once, the repeat resolves anew, then the fallback",
			e:    oncall.Start(p, &oncall.Target{User: "ops"}), schedules: schedules,
			want: []string{
				"level 1/0 [alice] wait 1800s → level 2/0",
				"level 2/0 [] wait 0s → level 3/0",
				"level 3/0 [carol] wait 1800s → level 1/1",
				"level 1/1 [bob] wait 1800s → level 2/1", // an hour later: bob's turn
				"level 2/1 [] wait 0s → level 3/1",
				"level 3/1 [carol] wait 1800s → fallback 0/0",
				"fallback 0/0 [dave] wait 0s → done 0/0 done",
			},
		},
		{
			name: "no policy applies: the platform fallback is paged",
			e:    oncall.Start(nil, &oncall.Target{User: "ops"}), schedules: schedules,
			want: []string{"fallback 0/0 [ops] wait 0s → done 0/0 (platform) done"},
		},
		{
			name: "a policy fallback with nobody on call falls through to the platform's",
			e: oncall.Start(&oncall.Policy{Name: "x", Levels: []oncall.Level{{Targets: []oncall.Target{{Schedule: "nobody"}}, WaitMinutes: 5}},
				Fallback: &oncall.Target{Schedule: "nobody"}}, &oncall.Target{Schedule: "primary"}),
			schedules: schedules,
			want: []string{
				"level 1/0 [] wait 0s → fallback 0/0",
				"fallback 0/0 [alice] wait 0s → done 0/0 (platform) done",
			},
		},
		{
			name: "nobody anywhere: the escalation still ends",
			e:    oncall.Start(&oncall.Policy{Name: "x", Levels: []oncall.Level{{Targets: []oncall.Target{{Schedule: "gone"}}, WaitMinutes: 5}}, Repeat: 2}, nil),
			want: []string{
				"level 1/0 [] wait 0s → level 1/1",
				"level 1/1 [] wait 0s → level 1/2",
				"level 1/2 [] wait 0s → fallback 0/0",
				"fallback 0/0 [] wait 0s → done 0/0 done",
			},
		},
		{
			name: "a level that waits 0 minutes pages and moves on at once",
			e: oncall.Start(&oncall.Policy{Name: "x", Levels: []oncall.Level{
				{Targets: []oncall.Target{{User: "a"}}}, {Targets: []oncall.Target{{User: "b"}}, WaitMinutes: 1}},
				Fallback: &oncall.Target{User: "c"}}, nil),
			want: []string{
				"level 1/0 [a] wait 0s → level 2/0",
				"level 2/0 [b] wait 60s → fallback 0/0",
				"fallback 0/0 [c] wait 0s → done 0/0 done",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.e, tt.schedules, ts("2026-11-02T09:00:00Z"))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pages:\ngot\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestFireImpossibleStepPagesTheFallback(t *testing.T) {
	p, schedules := escalationFixture()
	at := ts("2026-11-02T09:00:00Z")
	tests := []struct {
		name string
		step oncall.Step
		want string
	}{
		{"level 0", oncall.Step{Phase: oncall.PhaseLevel, Level: 0}, "fallback 0/0 [dave] wait 0s → done 0/0 done"},
		{"level past the last", oncall.Step{Phase: oncall.PhaseLevel, Level: 4}, "fallback 0/0 [dave] wait 0s → done 0/0 done"},
		{"repeat past the policy's", oncall.Step{Phase: oncall.PhaseLevel, Level: 1, Repeat: 2}, "fallback 0/0 [dave] wait 0s → done 0/0 done"},
		{"negative repeat", oncall.Step{Phase: oncall.PhaseLevel, Level: 1, Repeat: -1}, "fallback 0/0 [dave] wait 0s → done 0/0 done"},
		{"unknown phase", oncall.Step{Phase: "paging"}, "fallback 0/0 [dave] wait 0s → done 0/0 done"},
		{"no step at all", oncall.Step{}, "fallback 0/0 [dave] wait 0s → done 0/0 done"},
		{"done stays done", oncall.Step{Phase: oncall.PhaseDone}, "done 0/0 [] wait 0s → done 0/0 done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := oncall.Escalation{Policy: p, Step: tt.step}
			if got := describe(e.Fire(schedules, at)); got != tt.want {
				t.Errorf("Fire(%+v): got %q, want %q", tt.step, got, tt.want)
			}
		})
	}
}

// TestTamperedSnapshotEnds: a state whose policy says more than Validate
// allows still ends, within the bounds Validate sets.
func TestTamperedSnapshotEnds(t *testing.T) {
	e := oncall.Start(&oncall.Policy{Name: "x", Levels: []oncall.Level{
		{Targets: []oncall.Target{{User: "a"}}, WaitMinutes: 1 << 40},
		{Targets: []oncall.Target{{User: "b"}}, WaitMinutes: -5},
	}, Repeat: 1 << 30}, nil)
	got := run(t, e, nil, ts("2026-11-02T09:00:00Z"))
	if want := 2*(oncall.MaxRepeat+1) + 1; len(got) != want {
		t.Errorf("got %d steps, want %d", len(got), want)
	}
	if got[0] != "level 1/0 [a] wait 86400s → level 2/0" || got[1] != "level 2/0 [b] wait 0s → level 1/1" {
		t.Errorf("got %q, %q; want waits bounded to 0..1440 minutes", got[0], got[1])
	}
}

func TestStartSnapshotsThePolicy(t *testing.T) {
	p, schedules := escalationFixture()
	e := oncall.Start(p, nil)
	p.Levels[0].Targets[0] = oncall.Target{User: "mallory"}
	p.Levels = p.Levels[:1]
	p.Fallback.User = "mallory"
	if got := e.Fire(schedules, ts("2026-11-02T09:00:00Z")).Users; !reflect.DeepEqual(got, []string{"alice"}) {
		t.Errorf("after editing the policy: got %v, want [alice]", got)
	}
	if got := len(e.Policy.Levels); got != 3 {
		t.Errorf("snapshot levels: got %d, want 3", got)
	}
	if got := e.Policy.Fallback.User; got != "dave" {
		t.Errorf("snapshot fallback: got %q, want dave", got)
	}
}

func TestEscalationJSON(t *testing.T) {
	p, schedules := escalationFixture()
	e := oncall.Start(p, &oncall.Target{User: "ops"})
	wantState := `{"policy":{"name":"checkout","levels":[
		{"targets":[{"schedule":"primary"}],"wait_minutes":30},
		{"targets":[{"schedule":"empty"}],"wait_minutes":10},
		{"targets":[{"user":"carol"}],"wait_minutes":30}],"repeat":1,"fallback":{"user":"dave"}},
		"fallback":{"user":"ops"},"step":{"phase":"level","level":1,"repeat":0}}`
	sameJSON(t, "Start", e, wantState)

	wantPage := `{"step":{"phase":"level","level":1,"repeat":0},"targets":[{"schedule":"primary"}],
		"users":["alice"],"wait_seconds":1800,"next":{"phase":"level","level":2,"repeat":0},"done":false}`
	sameJSON(t, "Fire", e.Fire(schedules, ts("2026-11-02T09:00:00Z")), wantPage)

	if got, want := e.ScheduleIDs(), []string{"primary", "empty"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ScheduleIDs: got %v, want %v", got, want)
	}
}

// sameJSON compares v's JSON with want by meaning, not bytes.
func sameJSON(t *testing.T, what string, v any, want string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s JSON: got %s, want %s", what, b, want)
	}
}
