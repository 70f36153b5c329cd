package oncall_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/oncall"
)

const designPolicy = `{"name": "Checkout", "levels": [{"targets": [{"schedule": "primary"}], "wait_minutes": 5},
                                {"targets": [{"user": "carol"}], "wait_minutes": 10}],
 "repeat": 1, "fallback": {"user": "dave"}}`

const designSchedule = `{"name": "Checkout primary", "time_zone": "Europe/Berlin",
 "rotations": [{"name": "weekly", "participants": ["alice", "bob"],
                "shift_hours": 168, "start": "2026-11-02T09:00:00+01:00"}],
 "overrides": [{"user": "carol", "start": "2026-11-24T18:00:00Z", "end": "2026-11-25T06:00:00Z"}]}`

func TestOnCall(t *testing.T) {
	p, err := oncall.ParsePolicy([]byte(designPolicy))
	if err != nil {
		t.Fatalf("ParsePolicy(the README's example policy): %v", err)
	}
	primary, err := oncall.ParseSchedule([]byte(designSchedule))
	if err != nil {
		t.Fatal(err)
	}
	schedules := map[string]*oncall.Schedule{"primary": primary}
	tests := []struct {
		name      string
		p         *oncall.Policy
		schedules map[string]*oncall.Schedule
		at        string
		want      string // JSON of the answer
	}{
		{"README example, first week", p, schedules, "2026-11-03T12:00:00Z",
			`[{"level":1,"on_call":["alice"]},{"level":2,"on_call":["carol"]}]`},
		{"override in the schedule", p, schedules, "2026-11-24T20:00:00Z",
			`[{"level":1,"on_call":["carol"]},{"level":2,"on_call":["carol"]}]`},
		{"before the rotation starts the schedule has nobody", p, schedules, "2026-11-01T00:00:00Z",
			`[{"level":1,"on_call":[]},{"level":2,"on_call":["carol"]}]`},
		{"a missing schedule has nobody", p, nil, "2026-11-03T12:00:00Z",
			`[{"level":1,"on_call":[]},{"level":2,"on_call":["carol"]}]`},
		{"targets of one level: union in order, each person once", &oncall.Policy{Name: "x", Levels: []oncall.Level{
			{Targets: []oncall.Target{{User: "zed"}, {Schedule: "primary"}, {User: "alice"}, {Schedule: "primary"}}}}},
			schedules, "2026-11-03T12:00:00Z", `[{"level":1,"on_call":["zed","alice"]}]`},
		{"no policy", nil, schedules, "2026-11-03T12:00:00Z", `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(oncall.OnCall(tt.p, tt.schedules, ts(tt.at)))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("OnCall(%s): got %s, want %s", tt.at, b, tt.want)
			}
		})
	}
}

func TestScheduleIDs(t *testing.T) {
	p := &oncall.Policy{Name: "x", Levels: []oncall.Level{
		{Targets: []oncall.Target{{Schedule: "a"}, {User: "u"}}},
		{Targets: []oncall.Target{{Schedule: "b"}, {Schedule: "a"}}},
	}, Fallback: &oncall.Target{Schedule: "c"}}
	if got, want := p.ScheduleIDs(), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ScheduleIDs: got %v, want %v", got, want)
	}
}

func TestPolicyValidation(t *testing.T) {
	pol := func(levels string, rest string) string {
		return `{"name":"p","levels":[` + levels + `]` + rest + `}`
	}
	const fb = `,"fallback":{"user":"dave"}`
	const lvl = `{"targets":[{"schedule":"primary"}],"wait_minutes":5}`
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"README example", designPolicy, ""},
		{"wait 0 and the same target twice are allowed", pol(`{"targets":[{"user":"a"},{"user":"a"}],"wait_minutes":0}`, fb), ""},
		{"repeat 9, schedule fallback", pol(lvl, `,"repeat":9,"fallback":{"schedule":"primary"}`), ""},
		{"missing name", `{"levels":[` + lvl + `]` + fb + `}`, "name: required"},
		{"no levels", pol(``, fb), "levels: must have at least one level"},
		{"levels missing", `{"name":"p"` + fb + `}`, "levels: must have at least one level"},
		{"level without targets", pol(`{"targets":[],"wait_minutes":5}`, fb), "levels[0].targets: must have at least one target"},
		{"target with both", pol(lvl+`,{"targets":[{"user":"a","schedule":"b"}],"wait_minutes":5}`, fb), "levels[1].targets[0]: set exactly one of schedule or user, got both"},
		{"target with neither", pol(`{"targets":[{"user":"a"},{}],"wait_minutes":5}`, fb), "levels[0].targets[1]: set exactly one of schedule or user, got neither"},
		{"bad user id", pol(`{"targets":[{"user":"a\tb"}],"wait_minutes":5}`, fb), `levels[0].targets[0].user: "a\tb" must not contain white space or control characters`},
		{"negative wait", pol(lvl+`,{"targets":[{"user":"a"}],"wait_minutes":-1}`, fb), "levels[1].wait_minutes: must be between 0 and 1440, got -1"},
		{"wait over a day", pol(`{"targets":[{"user":"a"}],"wait_minutes":1441}`, fb), "levels[0].wait_minutes: must be between 0 and 1440, got 1441"},
		{"negative repeat", pol(lvl, `,"repeat":-1`+fb), "repeat: must be between 0 and 9, got -1"},
		{"too many repeats", pol(lvl, `,"repeat":10`+fb), "repeat: must be between 0 and 9, got 10"},
		{"missing fallback", pol(lvl, ``), "fallback: required: a schedule or user paged when nobody acknowledges"},
		{"empty fallback", pol(lvl, `,"fallback":{}`), "fallback: set exactly one of schedule or user, got neither"},
		{"fallback with both", pol(lvl, `,"fallback":{"user":"a","schedule":"b"}`), "fallback: set exactly one of schedule or user, got both"},
		{"too many levels", pol(strings.Repeat(lvl+",", 20)+lvl, fb), "levels: at most 20 levels, got 21"},
		{"unknown target field", pol(`{"targets":[{"team":"a"}],"wait_minutes":5}`, fb), `the document is not valid JSON: json: unknown field "team"`},
		{"wait as a string", pol(`{"targets":[{"user":"a"}],"wait_minutes":"5"}`, fb), "levels.wait_minutes: must be a whole number, got a JSON string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := oncall.ParsePolicy([]byte(tt.doc))
			checkErr(t, err, tt.want)
		})
	}
}
