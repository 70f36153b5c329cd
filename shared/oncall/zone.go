package oncall

import (
	"errors"
	"regexp"
	"sync"
	"time"
)

// zoneName is the shape of an IANA zone name ("Europe/Berlin", "Etc/GMT+5",
// "UTC"). Checking it before time.LoadLocation keeps paths such as "./UTC" or
// "America//New_York" out: they would load from a zoneinfo directory but not
// from an embedded database, so a schedule would work in one place only.
var zoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$`)

var zones sync.Map // name → *time.Location; only names that loaded, so it stays as small as the tz database

var errZone = errors.New("not an IANA time zone")

// loadZone returns the location of an IANA zone name. "Local" is refused: it
// means whatever machine the code runs on.
func loadZone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	if len(name) > 64 || !zoneName.MatchString(name) || name == "Local" {
		return nil, errZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errZone
	}
	zones.Store(name, loc)
	return loc, nil
}

// wallSeconds returns the wall-clock time that t shows in loc, as seconds since
// 1970-01-01T00:00 of that wall clock (a calendar time with no zone).
func wallSeconds(t time.Time, loc *time.Location) int64 {
	_, off := t.In(loc).Zone()
	return t.Unix() + int64(off)
}

// instantOf returns the instant at which loc's wall clock shows the calendar
// time wall (seconds as from wallSeconds). A time shown twice (fall back) gives
// its first occurrence; a time never shown (spring forward) gives the
// transition instant, so 02:30 in a 02:00 → 03:00 gap is 03:00.
//
// time.Date does not promise either choice, hence the walk over zone periods:
// every instant showing wall lies within 26 hours of it (UTC offsets stay
// within ±16 hours), and the periods are visited in time order, so the first
// match is the first occurrence.
func instantOf(wall int64, loc *time.Location) time.Time {
	t := time.Unix(wall-26*3600, 0).In(loc)
	limit := wall + 26*3600
	havePrev := false
	prevOff := int64(0)
	for i := 0; i < 32 && t.Unix() <= limit; i++ {
		_, o := t.Zone()
		off := int64(o)
		start, end := t.ZoneBounds()
		if havePrev && wall >= start.Unix()+prevOff && wall < start.Unix()+off {
			return start // in the gap this period's start opened
		}
		if x := wall - off; (start.IsZero() || x >= start.Unix()) && (end.IsZero() || x < end.Unix()) {
			return time.Unix(x, 0).In(loc)
		}
		if end.IsZero() {
			break
		}
		havePrev, prevOff = true, off
		t = end
	}
	// Unreachable with real zone data; an answer beats a panic.
	w := time.Unix(wall, 0).UTC()
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
}
