package oncall_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/oncall"
)

// Zones with every kind of transition: northern and southern DST, half-hour
// DST (Lord Howe), a 2-hour DST (Troll), whole days skipped (Apia 2011,
// Kiritimati 1994), odd offsets (Kathmandu, Chatham), none (Tokyo, UTC).
var fuzzZones = []string{"America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Tokyo", "UTC",
	"Australia/Lord_Howe", "Antarctica/Troll", "Pacific/Apia", "Pacific/Kiritimati", "Asia/Kathmandu",
	"Pacific/Chatham", "America/Santiago", "Asia/Tehran", "Europe/London", "America/St_Johns"}

// FuzzRotationWallClock builds valid one-rotation schedules in those zones and
// checks each shift against the wall-clock rule worked out here on its own:
// the person on call at an instant is participant (slot mod n), where slot
// counts shift lengths of wall-clock time from the start's wall clock; the one
// exception is the second pass of a repeated hour, which belongs to whoever
// took over at the first.
func FuzzRotationWallClock(f *testing.F) {
	// Seeds: the DST vectors' shapes (zone index, seconds after 2020, kind, length, users, window offset).
	f.Add(uint8(0), uint32(194_227_200), uint8(0), uint16(0), uint8(2), uint32(0))      // New York hourly, 2026-02-25
	f.Add(uint8(1), uint32(195_778_800), uint8(1), uint16(0), uint8(2), uint32(86400))  // Berlin daily
	f.Add(uint8(2), uint32(197_420_400), uint8(2), uint16(0), uint8(1), uint32(604800)) // Sydney weekly
	f.Add(uint8(5), uint32(197_000_000), uint8(0), uint16(11), uint8(3), uint32(3600))  // Lord Howe 12-hour
	f.Add(uint8(7), uint32(0), uint8(1), uint16(0), uint8(2), uint32(0))                // Apia
	f.Add(uint8(6), uint32(100_000_000), uint8(0), uint16(4), uint8(4), uint32(12345))  // Troll 5-hour
	f.Fuzz(func(t *testing.T, zi uint8, startSec uint32, kind uint8, length uint16, users uint8, winOffset uint32) {
		zone := fuzzZones[int(zi)%len(fuzzZones)]
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		if zone == "Pacific/Apia" || zone == "Pacific/Kiritimati" {
			base = time.Date(1994, 12, 1, 0, 0, 0, 0, time.UTC) // reach their skipped days
			if zone == "Pacific/Apia" {
				base = time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC)
			}
			startSec %= 90 * 86400
		}
		start := base.Add(time.Duration(startSec%(10*365*86400)) * time.Second)
		n := 1 + int(users)%5
		participants := make([]string, n)
		for i := range participants {
			participants[i] = fmt.Sprintf("u%d", i)
		}
		r := oncall.Rotation{Participants: participants, Start: start}
		var step int64
		switch kind % 3 {
		case 0:
			r.ShiftHours = 1 + int(length)%48
			step = int64(r.ShiftHours) * 3600
		case 1:
			r.ShiftDays = 1 + int(length)%14
			step = int64(r.ShiftDays) * 86400
		default:
			r.ShiftWeeks = 1 + int(length)%4
			step = int64(r.ShiftWeeks) * 7 * 86400
		}
		s := &oncall.Schedule{Name: "fuzz", TimeZone: zone, Rotations: []oncall.Rotation{r}}
		if err := s.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		from := start.Add(time.Duration(winOffset%(120*86400))*time.Second - 48*time.Hour)
		to := from.Add(10 * 24 * time.Hour)
		shifts, err := oncall.Shifts(s, from, to)
		if err != nil {
			t.Fatal(err)
		}
		checkSchedule(t, s, true)

		wall := func(x time.Time) int64 {
			_, off := x.In(loc).Zone()
			return x.Unix() + int64(off)
		}
		anchor := wall(start)
		// Seconds are whole in handoffs; a start with a fraction begins the rotation within its first second.
		expect := func(x time.Time) (string, bool) {
			if secondPass(x, loc) {
				return "", false
			}
			d := wall(x) - anchor
			if d < 0 {
				return "", false // the first second of a start in a repeated hour
			}
			return participants[(d/step)%int64(n)], true
		}
		for _, sh := range shifts {
			for _, x := range []time.Time{sh.Start, sh.Start.Add(sh.End.Sub(sh.Start) / 2), sh.End.Add(-time.Second)} {
				if x.Before(sh.Start) {
					continue
				}
				want, ok := expect(x)
				if ok && want != sh.User {
					t.Fatalf("%s, rotation %+v: at %s (wall %s) got %s, want %s", zone, r, x.In(loc).Format(time.RFC3339),
						time.Unix(wall(x), 0).UTC().Format("2006-01-02 15:04:05"), sh.User, want)
				}
			}
			// Every shift after the rotation's start begins at a handoff: on the
			// handoff's wall-clock time, or at the transition instant of a gap
			// that swallowed it.
			if sh.Start.Equal(from) || sh.Start.Equal(start) {
				continue
			}
			w := wall(sh.Start)
			_, offBefore := sh.Start.Add(-time.Second).In(loc).Zone()
			wBefore := sh.Start.Unix() + int64(offBefore)
			onTime := (w-anchor)%step == 0
			// The first handoff wall time at or after the gap's start lies before its end.
			inGap := wBefore < w && anchor+ceilDiv(wBefore-anchor, step)*step < w
			if !onTime && !inGap {
				t.Fatalf("%s, rotation %+v: shift of %s starts at %s, neither a handoff time nor a gap", zone, r, sh.User,
					sh.Start.In(loc).Format(time.RFC3339))
			}
		}
	})
}

// secondPass reports whether an earlier instant showed the same wall clock as
// x (x is in the second pass of a repeated stretch).
func secondPass(x time.Time, loc *time.Location) bool {
	_, off := x.In(loc).Zone()
	w := x.Unix() + int64(off)
	for _, back := range []time.Duration{26 * time.Hour, 12 * time.Hour, 6 * time.Hour, 3 * time.Hour, time.Hour, 30 * time.Minute, time.Second} {
		_, o := x.Add(-back).In(loc).Zone()
		y := time.Unix(w-int64(o), 0)
		if _, oy := y.In(loc).Zone(); oy == o && y.Before(x.Truncate(time.Second)) {
			return true
		}
	}
	return false
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}
