package oncall_test

import (
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/oncall"
)

// A rotation kind of the vectors. Every vector's participants are a, b, c (or
// a, b), so the expected shifts read as who takes which turn.
func daily(start string, users ...string) oncall.Rotation {
	return oncall.Rotation{Name: "daily", Participants: users, ShiftDays: 1, Start: ts(start)}
}
func halfDay(start string, users ...string) oncall.Rotation {
	return oncall.Rotation{Name: "12h", Participants: users, ShiftHours: 12, Start: ts(start)}
}
func hourly(start string, users ...string) oncall.Rotation {
	return oncall.Rotation{Name: "hourly", Participants: users, ShiftHours: 1, Start: ts(start)}
}
func weekly(start string, users ...string) oncall.Rotation {
	return oncall.Rotation{Name: "weekly", Participants: users, ShiftWeeks: 1, Start: ts(start)}
}

// ts parses an RFC 3339 time of a test table; a typo there is a bug in the test.
func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func override(user, start, end string) oncall.Override {
	return oncall.Override{User: user, Start: ts(start), End: ts(end)}
}

// TestDSTVectors: shifts across both DST transitions of 2026, written in local
// time with the offset in effect, so a wall-clock handoff reads as the same
// HH:MM on both sides. US: 8 Mar, 1 Nov; EU: 29 Mar, 25 Oct; Sydney (southern
// hemisphere): DST ends 5 Apr, starts 4 Oct; Tokyo has none.
func TestDSTVectors(t *testing.T) {
	tests := []struct {
		name      string
		zone      string
		rotations []oncall.Rotation
		overrides []oncall.Override
		from, to  string
		want      []string // "user start end"
	}{
		// America/New_York
		{
			name: "New York daily, spring forward: the 23-hour day keeps 09:00", zone: "America/New_York",
			rotations: []oncall.Rotation{daily("2026-03-06T09:00:00-05:00", "a", "b", "c")},
			from:      "2026-03-06T09:00:00-05:00", to: "2026-03-10T09:00:00-04:00",
			want: []string{
				"a 2026-03-06T09:00:00-05:00 2026-03-07T09:00:00-05:00",
				"b 2026-03-07T09:00:00-05:00 2026-03-08T09:00:00-04:00",
				"c 2026-03-08T09:00:00-04:00 2026-03-09T09:00:00-04:00",
				"a 2026-03-09T09:00:00-04:00 2026-03-10T09:00:00-04:00",
			},
		},
		{
			name: "New York daily, fall back: the 25-hour day keeps 09:00", zone: "America/New_York",
			rotations: []oncall.Rotation{daily("2026-10-30T09:00:00-04:00", "a", "b", "c")},
			from:      "2026-10-30T09:00:00-04:00", to: "2026-11-03T09:00:00-05:00",
			want: []string{
				"a 2026-10-30T09:00:00-04:00 2026-10-31T09:00:00-04:00",
				"b 2026-10-31T09:00:00-04:00 2026-11-01T09:00:00-05:00",
				"c 2026-11-01T09:00:00-05:00 2026-11-02T09:00:00-05:00",
				"a 2026-11-02T09:00:00-05:00 2026-11-03T09:00:00-05:00",
			},
		},
		{
			name: "New York 12-hour, spring forward: stays 09:00/21:00", zone: "America/New_York",
			rotations: []oncall.Rotation{halfDay("2026-03-07T09:00:00-05:00", "a", "b")},
			from:      "2026-03-07T09:00:00-05:00", to: "2026-03-09T09:00:00-04:00",
			want: []string{
				"a 2026-03-07T09:00:00-05:00 2026-03-07T21:00:00-05:00",
				"b 2026-03-07T21:00:00-05:00 2026-03-08T09:00:00-04:00",
				"a 2026-03-08T09:00:00-04:00 2026-03-08T21:00:00-04:00",
				"b 2026-03-08T21:00:00-04:00 2026-03-09T09:00:00-04:00",
			},
		},
		{
			name: "New York 12-hour, fall back: stays 09:00/21:00", zone: "America/New_York",
			rotations: []oncall.Rotation{halfDay("2026-10-31T09:00:00-04:00", "a", "b")},
			from:      "2026-10-31T09:00:00-04:00", to: "2026-11-02T09:00:00-05:00",
			want: []string{
				"a 2026-10-31T09:00:00-04:00 2026-10-31T21:00:00-04:00",
				"b 2026-10-31T21:00:00-04:00 2026-11-01T09:00:00-05:00",
				"a 2026-11-01T09:00:00-05:00 2026-11-01T21:00:00-05:00",
				"b 2026-11-01T21:00:00-05:00 2026-11-02T09:00:00-05:00",
			},
		},
		{
			name: "New York hourly, spring forward: c's 02:00 never happens, so c is skipped", zone: "America/New_York",
			rotations: []oncall.Rotation{hourly("2026-03-08T00:00:00-05:00", "a", "b", "c")},
			from:      "2026-03-08T00:00:00-05:00", to: "2026-03-08T05:00:00-04:00",
			want: []string{
				"a 2026-03-08T00:00:00-05:00 2026-03-08T01:00:00-05:00",
				"b 2026-03-08T01:00:00-05:00 2026-03-08T03:00:00-04:00",
				"a 2026-03-08T03:00:00-04:00 2026-03-08T04:00:00-04:00",
				"b 2026-03-08T04:00:00-04:00 2026-03-08T05:00:00-04:00",
			},
		},
		{
			name: "New York hourly, fall back: b's 01:00 happens twice, b keeps both", zone: "America/New_York",
			rotations: []oncall.Rotation{hourly("2026-11-01T00:00:00-04:00", "a", "b", "c")},
			from:      "2026-11-01T00:00:00-04:00", to: "2026-11-01T04:00:00-05:00",
			want: []string{
				"a 2026-11-01T00:00:00-04:00 2026-11-01T01:00:00-04:00",
				"b 2026-11-01T01:00:00-04:00 2026-11-01T02:00:00-05:00",
				"c 2026-11-01T02:00:00-05:00 2026-11-01T03:00:00-05:00",
				"a 2026-11-01T03:00:00-05:00 2026-11-01T04:00:00-05:00",
			},
		},
		{
			name: "New York weekly, spring forward: Monday 09:00 both sides", zone: "America/New_York",
			rotations: []oncall.Rotation{weekly("2026-03-02T09:00:00-05:00", "a", "b")},
			from:      "2026-03-02T09:00:00-05:00", to: "2026-03-23T09:00:00-04:00",
			want: []string{
				"a 2026-03-02T09:00:00-05:00 2026-03-09T09:00:00-04:00",
				"b 2026-03-09T09:00:00-04:00 2026-03-16T09:00:00-04:00",
				"a 2026-03-16T09:00:00-04:00 2026-03-23T09:00:00-04:00",
			},
		},
		{
			name: "New York weekly, fall back: Monday 09:00 both sides", zone: "America/New_York",
			rotations: []oncall.Rotation{weekly("2026-10-26T09:00:00-04:00", "a", "b")},
			from:      "2026-10-26T09:00:00-04:00", to: "2026-11-16T09:00:00-05:00",
			want: []string{
				"a 2026-10-26T09:00:00-04:00 2026-11-02T09:00:00-05:00",
				"b 2026-11-02T09:00:00-05:00 2026-11-09T09:00:00-05:00",
				"a 2026-11-09T09:00:00-05:00 2026-11-16T09:00:00-05:00",
			},
		},
		{
			name: "New York daily with an override across the spring gap", zone: "America/New_York",
			rotations: []oncall.Rotation{daily("2026-03-06T09:00:00-05:00", "a", "b", "c")},
			overrides: []oncall.Override{override("dave", "2026-03-08T01:00:00-05:00", "2026-03-08T04:00:00-04:00")},
			from:      "2026-03-07T09:00:00-05:00", to: "2026-03-09T09:00:00-04:00",
			want: []string{
				"b 2026-03-07T09:00:00-05:00 2026-03-08T01:00:00-05:00",
				"dave 2026-03-08T01:00:00-05:00 2026-03-08T04:00:00-04:00",
				"b 2026-03-08T04:00:00-04:00 2026-03-08T09:00:00-04:00",
				"c 2026-03-08T09:00:00-04:00 2026-03-09T09:00:00-04:00",
			},
		},
		{
			name: "New York hourly with an override of the second 01:00", zone: "America/New_York",
			rotations: []oncall.Rotation{hourly("2026-11-01T00:00:00-04:00", "a", "b", "c")},
			overrides: []oncall.Override{override("dave", "2026-11-01T01:00:00-05:00", "2026-11-01T02:30:00-05:00")},
			from:      "2026-11-01T00:00:00-04:00", to: "2026-11-01T04:00:00-05:00",
			want: []string{
				"a 2026-11-01T00:00:00-04:00 2026-11-01T01:00:00-04:00",
				"b 2026-11-01T01:00:00-04:00 2026-11-01T01:00:00-05:00",
				"dave 2026-11-01T01:00:00-05:00 2026-11-01T02:30:00-05:00",
				"c 2026-11-01T02:30:00-05:00 2026-11-01T03:00:00-05:00",
				"a 2026-11-01T03:00:00-05:00 2026-11-01T04:00:00-05:00",
			},
		},

		// Europe/Berlin
		{
			name: "Berlin daily, spring forward", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{daily("2026-03-27T09:00:00+01:00", "a", "b", "c")},
			from:      "2026-03-27T09:00:00+01:00", to: "2026-03-30T09:00:00+02:00",
			want: []string{
				"a 2026-03-27T09:00:00+01:00 2026-03-28T09:00:00+01:00",
				"b 2026-03-28T09:00:00+01:00 2026-03-29T09:00:00+02:00",
				"c 2026-03-29T09:00:00+02:00 2026-03-30T09:00:00+02:00",
			},
		},
		{
			name: "Berlin daily, fall back", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{daily("2026-10-23T09:00:00+02:00", "a", "b", "c")},
			from:      "2026-10-23T09:00:00+02:00", to: "2026-10-26T09:00:00+01:00",
			want: []string{
				"a 2026-10-23T09:00:00+02:00 2026-10-24T09:00:00+02:00",
				"b 2026-10-24T09:00:00+02:00 2026-10-25T09:00:00+01:00",
				"c 2026-10-25T09:00:00+01:00 2026-10-26T09:00:00+01:00",
			},
		},
		{
			name: "Berlin daily at 02:30, spring forward: the missing 02:30 becomes 03:00", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{daily("2026-03-27T02:30:00+01:00", "a", "b", "c")},
			from:      "2026-03-27T02:30:00+01:00", to: "2026-03-31T02:30:00+02:00",
			want: []string{
				"a 2026-03-27T02:30:00+01:00 2026-03-28T02:30:00+01:00",
				"b 2026-03-28T02:30:00+01:00 2026-03-29T03:00:00+02:00",
				"c 2026-03-29T03:00:00+02:00 2026-03-30T02:30:00+02:00",
				"a 2026-03-30T02:30:00+02:00 2026-03-31T02:30:00+02:00",
			},
		},
		{
			name: "Berlin daily at 02:30, fall back: the first 02:30", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{daily("2026-10-23T02:30:00+02:00", "a", "b", "c")},
			from:      "2026-10-23T02:30:00+02:00", to: "2026-10-26T02:30:00+01:00",
			want: []string{
				"a 2026-10-23T02:30:00+02:00 2026-10-24T02:30:00+02:00",
				"b 2026-10-24T02:30:00+02:00 2026-10-25T02:30:00+02:00",
				"c 2026-10-25T02:30:00+02:00 2026-10-26T02:30:00+01:00",
			},
		},
		{
			name: "Berlin 12-hour, spring forward", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{halfDay("2026-03-28T09:00:00+01:00", "a", "b")},
			from:      "2026-03-28T09:00:00+01:00", to: "2026-03-29T21:00:00+02:00",
			want: []string{
				"a 2026-03-28T09:00:00+01:00 2026-03-28T21:00:00+01:00",
				"b 2026-03-28T21:00:00+01:00 2026-03-29T09:00:00+02:00",
				"a 2026-03-29T09:00:00+02:00 2026-03-29T21:00:00+02:00",
			},
		},
		{
			name: "Berlin 12-hour, fall back", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{halfDay("2026-10-24T09:00:00+02:00", "a", "b")},
			from:      "2026-10-24T09:00:00+02:00", to: "2026-10-25T21:00:00+01:00",
			want: []string{
				"a 2026-10-24T09:00:00+02:00 2026-10-24T21:00:00+02:00",
				"b 2026-10-24T21:00:00+02:00 2026-10-25T09:00:00+01:00",
				"a 2026-10-25T09:00:00+01:00 2026-10-25T21:00:00+01:00",
			},
		},
		{
			name: "Berlin hourly, spring forward: c skipped", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{hourly("2026-03-29T00:00:00+01:00", "a", "b", "c")},
			from:      "2026-03-29T00:00:00+01:00", to: "2026-03-29T04:00:00+02:00",
			want: []string{
				"a 2026-03-29T00:00:00+01:00 2026-03-29T01:00:00+01:00",
				"b 2026-03-29T01:00:00+01:00 2026-03-29T03:00:00+02:00",
				"a 2026-03-29T03:00:00+02:00 2026-03-29T04:00:00+02:00",
			},
		},
		{
			name: "Berlin hourly, fall back: c's 02:00 lasts two hours", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{hourly("2026-10-25T00:00:00+02:00", "a", "b", "c")},
			from:      "2026-10-25T00:00:00+02:00", to: "2026-10-25T04:00:00+01:00",
			want: []string{
				"a 2026-10-25T00:00:00+02:00 2026-10-25T01:00:00+02:00",
				"b 2026-10-25T01:00:00+02:00 2026-10-25T02:00:00+02:00",
				"c 2026-10-25T02:00:00+02:00 2026-10-25T03:00:00+01:00",
				"a 2026-10-25T03:00:00+01:00 2026-10-25T04:00:00+01:00",
			},
		},
		{
			name: "Berlin weekly as shift_hours 168, spring forward", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{{Name: "weekly", Participants: []string{"a", "b"}, ShiftHours: 168, Start: ts("2026-03-23T09:00:00+01:00")}},
			from:      "2026-03-23T09:00:00+01:00", to: "2026-04-06T09:00:00+02:00",
			want: []string{
				"a 2026-03-23T09:00:00+01:00 2026-03-30T09:00:00+02:00",
				"b 2026-03-30T09:00:00+02:00 2026-04-06T09:00:00+02:00",
			},
		},
		{
			name: "Berlin weekly, fall back", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{weekly("2026-10-19T09:00:00+02:00", "a", "b")},
			from:      "2026-10-19T09:00:00+02:00", to: "2026-11-02T09:00:00+01:00",
			want: []string{
				"a 2026-10-19T09:00:00+02:00 2026-10-26T09:00:00+01:00",
				"b 2026-10-26T09:00:00+01:00 2026-11-02T09:00:00+01:00",
			},
		},
		{
			name: "Berlin hourly with an override of exactly the repeated hour", zone: "Europe/Berlin",
			rotations: []oncall.Rotation{hourly("2026-10-25T00:00:00+02:00", "a", "b", "c")},
			overrides: []oncall.Override{override("dave", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00")},
			from:      "2026-10-25T00:00:00+02:00", to: "2026-10-25T04:00:00+01:00",
			want: []string{
				"a 2026-10-25T00:00:00+02:00 2026-10-25T01:00:00+02:00",
				"b 2026-10-25T01:00:00+02:00 2026-10-25T02:00:00+02:00",
				"c 2026-10-25T02:00:00+02:00 2026-10-25T02:30:00+02:00",
				"dave 2026-10-25T02:30:00+02:00 2026-10-25T02:30:00+01:00",
				"c 2026-10-25T02:30:00+01:00 2026-10-25T03:00:00+01:00",
				"a 2026-10-25T03:00:00+01:00 2026-10-25T04:00:00+01:00",
			},
		},

		// Australia/Sydney: DST ends in April, starts in October.
		{
			name: "Sydney daily, April fall back", zone: "Australia/Sydney",
			rotations: []oncall.Rotation{daily("2026-04-03T09:00:00+11:00", "a", "b", "c")},
			from:      "2026-04-03T09:00:00+11:00", to: "2026-04-06T09:00:00+10:00",
			want: []string{
				"a 2026-04-03T09:00:00+11:00 2026-04-04T09:00:00+11:00",
				"b 2026-04-04T09:00:00+11:00 2026-04-05T09:00:00+10:00",
				"c 2026-04-05T09:00:00+10:00 2026-04-06T09:00:00+10:00",
			},
		},
		{
			name: "Sydney daily, October spring forward", zone: "Australia/Sydney",
			rotations: []oncall.Rotation{daily("2026-10-02T09:00:00+10:00", "a", "b", "c")},
			from:      "2026-10-02T09:00:00+10:00", to: "2026-10-05T09:00:00+11:00",
			want: []string{
				"a 2026-10-02T09:00:00+10:00 2026-10-03T09:00:00+10:00",
				"b 2026-10-03T09:00:00+10:00 2026-10-04T09:00:00+11:00",
				"c 2026-10-04T09:00:00+11:00 2026-10-05T09:00:00+11:00",
			},
		},
		{
			name: "Sydney 12-hour, April fall back", zone: "Australia/Sydney",
			rotations: []oncall.Rotation{halfDay("2026-04-04T09:00:00+11:00", "a", "b")},
			from:      "2026-04-04T09:00:00+11:00", to: "2026-04-05T21:00:00+10:00",
			want: []string{
				"a 2026-04-04T09:00:00+11:00 2026-04-04T21:00:00+11:00",
				"b 2026-04-04T21:00:00+11:00 2026-04-05T09:00:00+10:00",
				"a 2026-04-05T09:00:00+10:00 2026-04-05T21:00:00+10:00",
			},
		},
		{
			name: "Sydney 12-hour, October spring forward", zone: "Australia/Sydney",
			rotations: []oncall.Rotation{halfDay("2026-10-03T09:00:00+10:00", "a", "b")},
			from:      "2026-10-03T09:00:00+10:00", to: "2026-10-04T21:00:00+11:00",
			want: []string{
				"a 2026-10-03T09:00:00+10:00 2026-10-03T21:00:00+10:00",
				"b 2026-10-03T21:00:00+10:00 2026-10-04T09:00:00+11:00",
				"a 2026-10-04T09:00:00+11:00 2026-10-04T21:00:00+11:00",
			},
		},
		{
			name: "Sydney hourly, April fall back: c's 02:00 lasts two hours", zone: "Australia/Sydney",
			rotations: []oncall.Rotation{hourly("2026-04-05T00:00:00+11:00", "a", "b", "c")},
			from:      "2026-04-05T00:00:00+11:00", to: "2026-04-05T04:00:00+10:00",
			want: []string{
				"a 2026-04-05T00:00:00+11:00 2026-04-05T01:00:00+11:00",
				"b 2026-04-05T01:00:00+11:00 2026-04-05T02:00:00+11:00",
				"c 2026-04-05T02:00:00+11:00 2026-04-05T03:00:00+10:00",
				"a 2026-04-05T03:00:00+10:00 2026-04-05T04:00:00+10:00",
			},
		},
		{
			name: "Sydney hourly, October spring forward: c skipped", zone: "Australia/Sydney",
			rotations: []oncall.Rotation{hourly("2026-10-04T00:00:00+10:00", "a", "b", "c")},
			from:      "2026-10-04T00:00:00+10:00", to: "2026-10-04T04:00:00+11:00",
			want: []string{
				"a 2026-10-04T00:00:00+10:00 2026-10-04T01:00:00+10:00",
				"b 2026-10-04T01:00:00+10:00 2026-10-04T03:00:00+11:00",
				"a 2026-10-04T03:00:00+11:00 2026-10-04T04:00:00+11:00",
			},
		},
		{
			name: "Sydney weekly, April fall back", zone: "Australia/Sydney",
			rotations: []oncall.Rotation{weekly("2026-03-30T09:00:00+11:00", "a", "b")},
			from:      "2026-03-30T09:00:00+11:00", to: "2026-04-13T09:00:00+10:00",
			want: []string{
				"a 2026-03-30T09:00:00+11:00 2026-04-06T09:00:00+10:00",
				"b 2026-04-06T09:00:00+10:00 2026-04-13T09:00:00+10:00",
			},
		},
		{
			name: "Sydney weekly with an override across the October gap", zone: "Australia/Sydney",
			rotations: []oncall.Rotation{weekly("2026-09-28T09:00:00+10:00", "a", "b")},
			overrides: []oncall.Override{override("dave", "2026-10-04T01:00:00+10:00", "2026-10-04T04:00:00+11:00")},
			from:      "2026-09-28T09:00:00+10:00", to: "2026-10-12T09:00:00+11:00",
			want: []string{
				"a 2026-09-28T09:00:00+10:00 2026-10-04T01:00:00+10:00",
				"dave 2026-10-04T01:00:00+10:00 2026-10-04T04:00:00+11:00",
				"a 2026-10-04T04:00:00+11:00 2026-10-05T09:00:00+11:00",
				"b 2026-10-05T09:00:00+11:00 2026-10-12T09:00:00+11:00",
			},
		},

		// Asia/Tokyo has no DST: nothing moves on the dates the others change.
		{
			name: "Tokyo daily across the US spring date", zone: "Asia/Tokyo",
			rotations: []oncall.Rotation{daily("2026-03-06T09:00:00+09:00", "a", "b", "c")},
			from:      "2026-03-06T09:00:00+09:00", to: "2026-03-09T09:00:00+09:00",
			want: []string{
				"a 2026-03-06T09:00:00+09:00 2026-03-07T09:00:00+09:00",
				"b 2026-03-07T09:00:00+09:00 2026-03-08T09:00:00+09:00",
				"c 2026-03-08T09:00:00+09:00 2026-03-09T09:00:00+09:00",
			},
		},
		{
			name: "Tokyo 12-hour across the EU autumn date", zone: "Asia/Tokyo",
			rotations: []oncall.Rotation{halfDay("2026-10-24T09:00:00+09:00", "a", "b")},
			from:      "2026-10-24T21:00:00+09:00", to: "2026-10-25T21:00:00+09:00",
			want: []string{
				"b 2026-10-24T21:00:00+09:00 2026-10-25T09:00:00+09:00",
				"a 2026-10-25T09:00:00+09:00 2026-10-25T21:00:00+09:00",
			},
		},
		{
			name: "Tokyo hourly across the instant Berlin springs forward", zone: "Asia/Tokyo",
			rotations: []oncall.Rotation{hourly("2026-03-29T08:00:00+09:00", "a", "b", "c")},
			from:      "2026-03-29T08:00:00+09:00", to: "2026-03-29T12:00:00+09:00",
			want: []string{
				"a 2026-03-29T08:00:00+09:00 2026-03-29T09:00:00+09:00",
				"b 2026-03-29T09:00:00+09:00 2026-03-29T10:00:00+09:00",
				"c 2026-03-29T10:00:00+09:00 2026-03-29T11:00:00+09:00",
				"a 2026-03-29T11:00:00+09:00 2026-03-29T12:00:00+09:00",
			},
		},
		{
			name: "Tokyo weekly with an override across the US autumn date", zone: "Asia/Tokyo",
			rotations: []oncall.Rotation{weekly("2026-10-26T09:00:00+09:00", "a", "b")},
			overrides: []oncall.Override{override("dave", "2026-11-01T14:00:00+09:00", "2026-11-01T17:00:00+09:00")},
			from:      "2026-10-26T09:00:00+09:00", to: "2026-11-09T09:00:00+09:00",
			want: []string{
				"a 2026-10-26T09:00:00+09:00 2026-11-01T14:00:00+09:00",
				"dave 2026-11-01T14:00:00+09:00 2026-11-01T17:00:00+09:00",
				"a 2026-11-01T17:00:00+09:00 2026-11-02T09:00:00+09:00",
				"b 2026-11-02T09:00:00+09:00 2026-11-09T09:00:00+09:00",
			},
		},
		{
			name: "UTC schedule, rotation in New York time follows New York's clock", zone: "UTC",
			rotations: []oncall.Rotation{{Name: "ny", Participants: []string{"a", "b", "c"}, ShiftDays: 1,
				Start: ts("2026-03-07T14:00:00Z"), TimeZone: "America/New_York"}},
			from: "2026-03-07T14:00:00Z", to: "2026-03-09T13:00:00Z",
			want: []string{
				"a 2026-03-07T14:00:00Z 2026-03-08T13:00:00Z",
				"b 2026-03-08T13:00:00Z 2026-03-09T13:00:00Z",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &oncall.Schedule{Name: tt.name, TimeZone: tt.zone, Rotations: tt.rotations, Overrides: tt.overrides}
			if err := s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			got, err := oncall.Shifts(s, ts(tt.from), ts(tt.to))
			if err != nil {
				t.Fatalf("Shifts: %v", err)
			}
			if g, w := formatShifts(got, loc), normalise(t, tt.want, loc); g != w {
				t.Errorf("Shifts:\ngot\n%s\nwant\n%s", g, w)
			}
			checkAgrees(t, s, got)
		})
	}
}

// formatShifts writes shifts one a line in loc's local time.
func formatShifts(shifts []oncall.Shift, loc *time.Location) string {
	var b strings.Builder
	for _, sh := range shifts {
		b.WriteString(sh.User + " " + sh.Start.In(loc).Format(time.RFC3339) + " " + sh.End.In(loc).Format(time.RFC3339) + "\n")
	}
	return b.String()
}

// normalise rewrites expected "user start end" lines in loc's local time, so
// they compare as instants however they were written.
func normalise(t *testing.T, lines []string, loc *time.Location) string {
	t.Helper()
	var shifts []oncall.Shift
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 {
			t.Fatalf("bad expected shift %q", l)
		}
		shifts = append(shifts, oncall.Shift{User: f[0], Start: ts(f[1]), End: ts(f[2])})
	}
	return formatShifts(shifts, loc)
}

// checkAgrees asserts that WhoIsOnCall agrees with every shift at its first
// and last second.
func checkAgrees(t *testing.T, s *oncall.Schedule, shifts []oncall.Shift) {
	t.Helper()
	for _, sh := range shifts {
		for _, at := range []time.Time{sh.Start, sh.End.Add(-time.Second)} {
			if got := oncall.WhoIsOnCall(s, at); len(got) != 1 || got[0] != sh.User {
				t.Errorf("WhoIsOnCall(%s): got %v, want [%s] (shift %s–%s)", at.Format(time.RFC3339), got, sh.User,
					sh.Start.Format(time.RFC3339), sh.End.Format(time.RFC3339))
			}
		}
	}
}

// TestWhoIsOnCallInRepeatedAndMissingHours asks about single instants in the
// hours DST repeats or removes.
func TestWhoIsOnCallInRepeatedAndMissingHours(t *testing.T) {
	ny := &oncall.Schedule{Name: "ny", TimeZone: "America/New_York", Rotations: []oncall.Rotation{
		hourly("2026-11-01T00:00:00-04:00", "a", "b", "c"),
	}}
	nySpring := &oncall.Schedule{Name: "ny", TimeZone: "America/New_York", Rotations: []oncall.Rotation{
		hourly("2026-03-08T00:00:00-05:00", "a", "b", "c"),
	}}
	tests := []struct {
		name string
		s    *oncall.Schedule
		at   string
		want string
	}{
		{"first 01:30", ny, "2026-11-01T01:30:00-04:00", "b"},
		{"second 01:30 is still b's hour", ny, "2026-11-01T01:30:00-05:00", "b"},
		{"02:00 standard time", ny, "2026-11-01T02:00:00-05:00", "c"},
		{"before the rotation starts", ny, "2026-10-31T23:59:59-04:00", ""},
		{"last second before the gap", nySpring, "2026-03-08T01:59:59-05:00", "b"},
		{"first second after the gap skips c", nySpring, "2026-03-08T03:00:00-04:00", "a"},
		{"a day later: 03:00 is the 27th hour of the wall clock, a's", nySpring, "2026-03-09T03:30:00-04:00", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(oncall.WhoIsOnCall(tt.s, ts(tt.at)), ",")
			if got != tt.want {
				t.Errorf("WhoIsOnCall(%s): got %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}
