package oncall

import (
	"testing"
	"time"
)

func TestInstantOf(t *testing.T) {
	tests := []struct {
		name string
		zone string
		wall string // a calendar time in the zone
		want string // the instant, with the offset in effect then
	}{
		{"New York ordinary", "America/New_York", "2026-01-15T09:00:00", "2026-01-15T09:00:00-05:00"},
		{"New York spring gap maps to the transition", "America/New_York", "2026-03-08T02:30:00", "2026-03-08T03:00:00-04:00"},
		{"New York gap start", "America/New_York", "2026-03-08T02:00:00", "2026-03-08T03:00:00-04:00"},
		{"New York just after the gap", "America/New_York", "2026-03-08T03:00:00", "2026-03-08T03:00:00-04:00"},
		{"New York fall back takes the first 01:30", "America/New_York", "2026-11-01T01:30:00", "2026-11-01T01:30:00-04:00"},
		{"New York 02:00 after fall back is standard time", "America/New_York", "2026-11-01T02:00:00", "2026-11-01T02:00:00-05:00"},
		{"Berlin spring gap", "Europe/Berlin", "2026-03-29T02:30:00", "2026-03-29T03:00:00+02:00"},
		{"Berlin fall back takes the first 02:30", "Europe/Berlin", "2026-10-25T02:30:00", "2026-10-25T02:30:00+02:00"},
		{"Sydney October gap", "Australia/Sydney", "2026-10-04T02:30:00", "2026-10-04T03:00:00+11:00"},
		{"Sydney April fall back takes the first 02:30", "Australia/Sydney", "2026-04-05T02:30:00", "2026-04-05T02:30:00+11:00"},
		{"Lord Howe half-hour gap", "Australia/Lord_Howe", "2026-10-04T02:15:00", "2026-10-04T02:30:00+11:00"},
		{"Lord Howe half-hour fall back", "Australia/Lord_Howe", "2026-04-05T01:45:00", "2026-04-05T01:45:00+11:00"},
		{"Samoa skipped a whole day", "Pacific/Apia", "2011-12-30T12:00:00", "2011-12-31T00:00:00+14:00"},
		{"Tokyo has no DST", "Asia/Tokyo", "2026-03-08T02:30:00", "2026-03-08T02:30:00+09:00"},
		{"UTC", "UTC", "2026-10-25T02:30:00", "2026-10-25T02:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := loadZone(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			w, err := time.Parse("2006-01-02T15:04:05", tt.wall)
			if err != nil {
				t.Fatal(err)
			}
			want, err := time.Parse(time.RFC3339, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			got := instantOf(w.Unix(), loc)
			if !got.Equal(want) {
				t.Errorf("instantOf(%s in %s): got %s, want %s", tt.wall, tt.zone, got.Format(time.RFC3339), tt.want)
			}
		})
	}
}

// TestInstantOfRoundTrip: for every instant of a year, in steps of 15 minutes,
// the wall clock it shows maps back to it, except for the second occurrence of
// a repeated hour, which maps to the first.
func TestInstantOfRoundTrip(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Tokyo", "Australia/Lord_Howe"} {
		loc, err := loadZone(zone)
		if err != nil {
			t.Fatal(err)
		}
		for x := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); x.Year() == 2026; x = x.Add(15 * time.Minute) {
			got := instantOf(wallSeconds(x, loc), loc)
			_, off := x.In(loc).Zone()
			_, offBefore := x.Add(-3 * time.Hour).In(loc).Zone()
			repeated := offBefore > off && x.Sub(got) == time.Duration(offBefore-off)*time.Second
			if !got.Equal(x) && !repeated {
				t.Fatalf("%s: instantOf(wall clock of %s): got %s, want it back", zone, x.In(loc).Format(time.RFC3339), got.Format(time.RFC3339))
			}
		}
	}
}

func TestLoadZone(t *testing.T) {
	tests := []struct {
		give string
		ok   bool
	}{
		{"Europe/Berlin", true},
		{"America/Argentina/Buenos_Aires", true},
		{"Etc/GMT+5", true},
		{"UTC", true},
		{"Local", false},
		{"", false},
		{"./UTC", false},
		{"America//New_York", false},
		{"../etc/passwd", false},
		{"/usr/share/zoneinfo/UTC", false},
		{"Mars/Olympus_Mons", false},
		{"America", false},
	}
	for _, tt := range tests {
		_, err := loadZone(tt.give)
		if got := err == nil; got != tt.ok {
			t.Errorf("loadZone(%q): got ok=%v (%v), want ok=%v", tt.give, got, err, tt.ok)
		}
	}
}
