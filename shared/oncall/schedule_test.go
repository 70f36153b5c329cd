package oncall_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

func end(s string) *time.Time {
	t := ts(s)
	return &t
}

// layered: a weekly base, a holiday layer on top for two days, and two
// overlapping overrides above both.
func layered() *oncall.Schedule {
	return &oncall.Schedule{
		Name: "layered", TimeZone: "UTC",
		Rotations: []oncall.Rotation{
			{Name: "base", Participants: []string{"alice", "bob"}, ShiftWeeks: 1, Start: ts("2026-11-02T09:00:00Z")},
			{Name: "holiday", Participants: []string{"carol"}, ShiftDays: 1, Start: ts("2026-11-04T00:00:00Z"), End: end("2026-11-06T00:00:00Z")},
		},
		Overrides: []oncall.Override{
			override("dave", "2026-11-05T10:00:00Z", "2026-11-05T12:00:00Z"),
			override("erin", "2026-11-05T11:00:00Z", "2026-11-05T13:00:00Z"),
		},
	}
}

func TestLayers(t *testing.T) {
	reversed := layered()
	reversed.Rotations[0], reversed.Rotations[1] = reversed.Rotations[1], reversed.Rotations[0]
	tests := []struct {
		name string
		s    *oncall.Schedule
		at   string
		want string
	}{
		{"before any rotation starts: nobody", layered(), "2026-11-01T00:00:00Z", ""},
		{"base layer alone", layered(), "2026-11-03T12:00:00Z", "alice"},
		{"the later layer wins where it has someone", layered(), "2026-11-04T12:00:00Z", "carol"},
		{"an override beats every layer", layered(), "2026-11-05T10:30:00Z", "dave"},
		{"overlapping overrides: the later one wins", layered(), "2026-11-05T11:30:00Z", "erin"},
		{"an override's end is exclusive", layered(), "2026-11-05T13:00:00Z", "carol"},
		{"after the top layer ends the base shows again", layered(), "2026-11-06T00:00:00Z", "alice"},
		{"the base rotates on", layered(), "2026-11-09T09:00:00Z", "bob"},
		{"an earlier layer never shows above a later one", reversed, "2026-11-04T12:00:00Z", "alice"},
		{"overrides beat the reversed layers too", reversed, "2026-11-05T10:30:00Z", "dave"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got := strings.Join(oncall.WhoIsOnCall(tt.s, ts(tt.at)), ",")
			if got != tt.want {
				t.Errorf("WhoIsOnCall(%s): got %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}

func TestShifts(t *testing.T) {
	tests := []struct {
		name     string
		s        *oncall.Schedule
		from, to string
		want     []string
	}{
		{
			name: "layers and overrides resolved", s: layered(),
			from: "2026-11-02T09:00:00Z", to: "2026-11-10T09:00:00Z",
			want: []string{
				"alice 2026-11-02T09:00:00Z 2026-11-04T00:00:00Z",
				"carol 2026-11-04T00:00:00Z 2026-11-05T10:00:00Z",
				"dave 2026-11-05T10:00:00Z 2026-11-05T11:00:00Z",
				"erin 2026-11-05T11:00:00Z 2026-11-05T13:00:00Z",
				"carol 2026-11-05T13:00:00Z 2026-11-06T00:00:00Z",
				"alice 2026-11-06T00:00:00Z 2026-11-09T09:00:00Z",
				"bob 2026-11-09T09:00:00Z 2026-11-10T09:00:00Z",
			},
		},
		{
			name: "cut at the window, nobody before the start left out", s: layered(),
			from: "2026-11-01T00:00:00Z", to: "2026-11-03T00:00:00Z",
			want: []string{"alice 2026-11-02T09:00:00Z 2026-11-03T00:00:00Z"},
		},
		{
			name: "a duplicate participant takes two turns, merged into one shift",
			s: &oncall.Schedule{Name: "dup", TimeZone: "UTC", Rotations: []oncall.Rotation{
				{Participants: []string{"alice", "alice", "bob"}, ShiftDays: 1, Start: ts("2026-01-01T00:00:00Z")}}},
			from: "2026-01-01T00:00:00Z", to: "2026-01-05T00:00:00Z",
			want: []string{
				"alice 2026-01-01T00:00:00Z 2026-01-03T00:00:00Z",
				"bob 2026-01-03T00:00:00Z 2026-01-04T00:00:00Z",
				"alice 2026-01-04T00:00:00Z 2026-01-05T00:00:00Z",
			},
		},
		{
			name: "an override of the person already on call merges",
			s: &oncall.Schedule{Name: "same", TimeZone: "UTC",
				Rotations: []oncall.Rotation{{Participants: []string{"alice", "bob"}, ShiftDays: 1, Start: ts("2026-01-01T00:00:00Z")}},
				Overrides: []oncall.Override{override("alice", "2026-01-01T20:00:00Z", "2026-01-02T04:00:00Z")}},
			from: "2026-01-01T00:00:00Z", to: "2026-01-03T00:00:00Z",
			want: []string{
				"alice 2026-01-01T00:00:00Z 2026-01-02T04:00:00Z",
				"bob 2026-01-02T04:00:00Z 2026-01-03T00:00:00Z",
			},
		},
		{
			name: "overrides only",
			s: &oncall.Schedule{Name: "only", TimeZone: "UTC",
				Overrides: []oncall.Override{override("zoe", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z")}},
			from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z",
			want: []string{"zoe 2026-01-01T10:00:00Z 2026-01-01T11:00:00Z"},
		},
		{
			name: "the rotation began long ago: the cycle is counted from its start",
			s: &oncall.Schedule{Name: "old", TimeZone: "Europe/Berlin", Rotations: []oncall.Rotation{
				weekly("2001-01-01T09:00:00+01:00", "a", "b", "c")}},
			from: "2026-03-23T09:00:00+01:00", to: "2026-04-06T09:00:00+02:00",
			// 2001-01-01 to 2026-03-23 is 9212 days, 1316 weeks; 1316 mod 3 = 2.
			want: []string{
				"c 2026-03-23T09:00:00+01:00 2026-03-30T09:00:00+02:00",
				"a 2026-03-30T09:00:00+02:00 2026-04-06T09:00:00+02:00",
			},
		},
		{
			name: "an empty window", s: layered(),
			from: "2026-11-03T00:00:00Z", to: "2026-11-03T00:00:00Z",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got, err := oncall.Shifts(tt.s, ts(tt.from), ts(tt.to))
			if err != nil {
				t.Fatalf("Shifts: %v", err)
			}
			loc, _ := time.LoadLocation(tt.s.TimeZone)
			if g, w := formatShifts(got, loc), normalise(t, tt.want, loc); g != w {
				t.Errorf("Shifts:\ngot\n%s\nwant\n%s", g, w)
			}
			checkAgrees(t, tt.s, got)
		})
	}
}

func TestShiftsWindow(t *testing.T) {
	s := layered()
	from := ts("2026-01-01T00:00:00Z")
	tests := []struct {
		name string
		to   time.Time
		ok   bool
	}{
		{"a year", from.Add(oncall.MaxWindow), true},
		{"longer than MaxWindow", from.Add(oncall.MaxWindow + time.Second), false},
		{"to before from", from.Add(-time.Second), false},
	}
	for _, tt := range tests {
		_, err := oncall.Shifts(s, from, tt.to)
		if got := err == nil; got != tt.ok {
			t.Errorf("%s: got ok=%v (%v), want ok=%v", tt.name, got, err, tt.ok)
		}
		if err != nil && !errors.Is(err, errkind.Invalid) {
			t.Errorf("%s: got %v, want an errkind.Invalid", tt.name, err)
		}
	}
}

// TestShiftsYearOfHourly bounds the cost of the longest answer: a year of an
// hourly rotation under a daily layer, checked against WhoIsOnCall each hour.
func TestShiftsYearOfHourly(t *testing.T) {
	s := &oncall.Schedule{Name: "busy", TimeZone: "America/New_York", Rotations: []oncall.Rotation{
		daily("2026-01-01T09:00:00-05:00", "x", "y"),
		{Participants: []string{"a", "b", "c"}, ShiftHours: 1, Start: ts("2026-01-01T00:00:00-05:00"), End: end("2026-12-31T00:00:00-05:00")},
	}}
	from := ts("2026-01-01T00:00:00Z")
	got, err := oncall.Shifts(s, from, from.Add(oncall.MaxWindow))
	if err != nil {
		t.Fatal(err)
	}
	// 8760 hours, less the one spring removes, plus the last day's daily layer.
	if len(got) < 8700 || len(got) > 8800 {
		t.Errorf("got %d shifts, want about 8760", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Start.Before(got[i-1].End) {
			t.Fatalf("shift %d starts at %s before the previous one ends at %s", i, got[i].Start, got[i-1].End)
		}
	}
	for i := 0; i < len(got); i += 97 {
		checkAgrees(t, s, got[i:i+1])
	}
}

func TestScheduleJSONShape(t *testing.T) {
	doc := `{"name": "Checkout primary", "time_zone": "Europe/Berlin",
 "rotations": [{"name": "weekly", "participants": ["alice", "bob"],
                "shift_hours": 168, "start": "2026-11-02T09:00:00+01:00"}],
 "overrides": [{"user": "carol", "start": "2026-11-24T18:00:00Z", "end": "2026-11-25T06:00:00Z"}]}`
	s, err := oncall.ParseSchedule([]byte(doc))
	if err != nil {
		t.Fatalf("ParseSchedule(the README's example schedule): %v", err)
	}
	tests := []struct {
		at   string
		want string
	}{
		{"2026-11-02T09:00:00+01:00", "alice"},
		{"2026-11-09T08:59:59+01:00", "alice"},
		{"2026-11-09T09:00:00+01:00", "bob"},
		{"2026-11-24T12:00:00Z", "bob"}, // the fourth week
		{"2026-11-24T18:00:00Z", "carol"},
		{"2026-11-25T06:00:00Z", "bob"},
	}
	for _, tt := range tests {
		if got := strings.Join(oncall.WhoIsOnCall(s, ts(tt.at)), ","); got != tt.want {
			t.Errorf("WhoIsOnCall(%s): got %q, want %q", tt.at, got, tt.want)
		}
	}
}

func TestScheduleValidation(t *testing.T) {
	rot := func(fields string) string {
		return `{"name":"s","time_zone":"Europe/Berlin","rotations":[{` + fields + `}]}`
	}
	const okRot = `"participants":["alice"],"shift_days":1,"start":"2026-01-05T09:00:00+01:00"`
	tests := []struct {
		name string
		doc  string
		want string // "" for valid, else the whole message
	}{
		{"valid", rot(okRot), ""},
		{"duplicate participants are allowed", rot(`"participants":["a","b","a"],"shift_hours":8,"start":"2026-01-05T09:00:00Z"`), ""},
		{"overrides only", `{"name":"s","time_zone":"UTC","overrides":[{"user":"a","start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}]}`, ""},
		{"per-rotation zone", rot(okRot + `,"time_zone":"Australia/Sydney"`), ""},
		{"missing name", `{"time_zone":"UTC","rotations":[]}`, "name: required"},
		{"missing zone", `{"name":"s","rotations":[]}`, `time_zone: required: an IANA time zone such as "Europe/Berlin"`},
		{"unknown zone", `{"name":"s","time_zone":"Mars/Olympus_Mons"}`, `time_zone: "Mars/Olympus_Mons" is not an IANA time zone`},
		{"Local is not a zone", `{"name":"s","time_zone":"Local"}`, `time_zone: "Local" is not an IANA time zone`},
		{"unknown rotation zone", rot(okRot + `,"time_zone":"Europe/Atlantis"`), `rotations[0].time_zone: "Europe/Atlantis" is not an IANA time zone`},
		{"empty participants", rot(`"participants":[],"shift_days":1,"start":"2026-01-05T09:00:00Z"`), "rotations[0].participants: must list at least one user"},
		{"no participants", rot(`"shift_days":1,"start":"2026-01-05T09:00:00Z"`), "rotations[0].participants: must list at least one user"},
		{"empty participant", rot(`"participants":["a",""],"shift_days":1,"start":"2026-01-05T09:00:00Z"`), "rotations[0].participants[1]: required"},
		{"participant with a space", rot(`"participants":["al ice"],"shift_days":1,"start":"2026-01-05T09:00:00Z"`), `rotations[0].participants[0]: "al ice" must not contain white space or control characters`},
		{"no shift length", rot(`"participants":["a"],"start":"2026-01-05T09:00:00Z"`), "rotations[0]: set exactly one of shift_hours, shift_days, shift_weeks to a positive number, got 0"},
		{"zero shift", rot(`"participants":["a"],"shift_hours":0,"start":"2026-01-05T09:00:00Z"`), "rotations[0]: set exactly one of shift_hours, shift_days, shift_weeks to a positive number, got 0"},
		{"negative shift", rot(`"participants":["a"],"shift_hours":-8,"start":"2026-01-05T09:00:00Z"`), "rotations[0].shift_hours: must be between 1 and 8784, got -8"},
		{"two shift lengths", rot(`"participants":["a"],"shift_hours":12,"shift_days":1,"start":"2026-01-05T09:00:00Z"`), "rotations[0]: set exactly one of shift_hours, shift_days, shift_weeks to a positive number, got 2"},
		{"shift too long", rot(`"participants":["a"],"shift_weeks":53,"start":"2026-01-05T09:00:00Z"`), "rotations[0].shift_weeks: must be between 1 and 52, got 53"},
		{"missing start", rot(`"participants":["a"],"shift_days":1`), "rotations[0].start: required: an RFC 3339 time"},
		{"start before 1970", rot(`"participants":["a"],"shift_days":1,"start":"1969-12-31T09:00:00Z"`), "rotations[0].start: must lie between 1970 and 9999, got 1969-12-31T09:00:00Z"},
		{"rotation end before start", rot(okRot + `,"end":"2026-01-05T08:00:00+01:00"`), "rotations[0].end: must be after start (2026-01-05T09:00:00+01:00), got 2026-01-05T08:00:00+01:00"},
		{"override end before start", `{"name":"s","time_zone":"UTC","overrides":[{"user":"a","start":"2026-01-02T00:00:00Z","end":"2026-01-01T00:00:00Z"}]}`, "overrides[0].end: must be after start (2026-01-02T00:00:00Z), got 2026-01-01T00:00:00Z"},
		{"override of no length", `{"name":"s","time_zone":"UTC","overrides":[{"user":"a","start":"2026-01-02T00:00:00Z","end":"2026-01-02T00:00:00Z"}]}`, "overrides[0].end: must be after start (2026-01-02T00:00:00Z), got 2026-01-02T00:00:00Z"},
		{"override without user", `{"name":"s","time_zone":"UTC","overrides":[{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}]}`, "overrides[0].user: required"},
		{"override without end", `{"name":"s","time_zone":"UTC","overrides":[{"user":"a","start":"2026-01-01T00:00:00Z"}]}`, "overrides[0].end: required: an RFC 3339 time"},
		{"unknown field", `{"name":"s","time_zone":"UTC","rotation":[]}`, `the document is not valid JSON: json: unknown field "rotation"`},
		{"wrong type", rot(`"participants":["a"],"shift_hours":"12","start":"2026-01-05T09:00:00Z"`), "rotations.shift_hours: must be a whole number, got a JSON string"},
		{"bad time", rot(`"participants":["a"],"shift_hours":12,"start":"next monday"`), `times are RFC 3339 (e.g. "2026-11-02T09:00:00+01:00"), got "next monday"`},
		{"trailing data", rot(okRot) + `{}`, "unexpected data after the JSON object"},
		{"not an object", `[]`, "the document must be a JSON object"},
		{"too many rotations", `{"name":"s","time_zone":"UTC","rotations":[` + strings.Repeat(`{"participants":["a"],"shift_days":1,"start":"2026-01-05T09:00:00Z"},`, 20) + `{"participants":["a"],"shift_days":1,"start":"2026-01-05T09:00:00Z"}]}`, "rotations: at most 20 rotations, got 21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := oncall.ParseSchedule([]byte(tt.doc))
			checkErr(t, err, tt.want)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got error %q, want none", err)
	case want != "" && err == nil:
		t.Errorf("got no error, want %q", want)
	case want != "" && err.Error() != want:
		t.Errorf("got error %q, want %q", err, want)
	case want != "" && !errors.Is(err, errkind.Invalid):
		t.Errorf("got error %v that is not errkind.Invalid", err)
	}
}
