package oncall

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	ics "github.com/arran4/golang-ical"
)

// ICS returns the shifts of s within [from, to) as an iCalendar document: one
// VEVENT per shift, times in UTC, summary "On call: <user>". A shift's UID
// derives from the schedule's name, the user and the shift's start, so a
// calendar that polls the feed sees the same event under the same UID (a shift
// cut at to that grows later keeps its UID). DTSTAMP is from, not the clock, so
// the same window gives the same bytes.
func ICS(s *Schedule, from, to time.Time) ([]byte, error) {
	shifts, err := Shifts(s, from, to)
	if err != nil {
		return nil, err
	}
	name := ""
	if s != nil {
		name = s.Name
	}
	cal := ics.NewCalendarFor("incidentd")
	cal.SetMethod(ics.MethodPublish)
	cal.SetName(name)
	cal.SetXWRCalName(name)
	for _, sh := range shifts {
		ev := cal.AddEvent(shiftUID(name, sh))
		ev.SetDtStampTime(from)
		ev.SetStartAt(sh.Start)
		ev.SetEndAt(sh.End)
		ev.SetSummary("On call: " + sh.User)
		// Being on call is not being busy: keep free/busy lookups free.
		ev.SetTimeTransparency(ics.TransparencyTransparent)
	}
	// RFC 5545 lines end in CRLF; the library's default is the platform's.
	return []byte(cal.Serialize(ics.WithNewLineWindows)), nil
}

func shiftUID(schedule string, sh Shift) string {
	h := sha256.New()
	h.Write([]byte(schedule))
	h.Write([]byte{0})
	h.Write([]byte(sh.User))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(sh.Start.Unix(), 10)))
	return hex.EncodeToString(h.Sum(nil)[:16]) + "@incidentd"
}
