package oncall

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/text"
)

// Limits of a schedule document. They keep every computation on a schedule
// small; real schedules sit far below them.
const (
	MaxRotations    = 20
	MaxParticipants = 100
	MaxOverrides    = 500
	MaxShiftHours   = 366 * 24
	MaxShiftDays    = 366
	MaxShiftWeeks   = 52
	MaxNameLength   = 200
	MaxIDLength     = 128
)

// Times in documents lie within these years: before 1970 no zone data is
// trustworthy, after 9999 RFC 3339 has no way to write them.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// Schedule says who is on call when: rotations stacked as layers (a later one
// wins where it has someone) and overrides above them all.
type Schedule struct {
	Name string `json:"name"`
	// TimeZone is the IANA zone whose wall clock the rotations follow, unless a
	// rotation names its own.
	TimeZone  string     `json:"time_zone"`
	Rotations []Rotation `json:"rotations"`
	Overrides []Override `json:"overrides,omitempty"`
}

// Rotation is one layer: participants take turns of one shift length, handing
// off at the wall-clock time of Start in the rotation's zone.
type Rotation struct {
	Name         string   `json:"name,omitempty"`
	Participants []string `json:"participants"`
	// Exactly one of the shift lengths is set. All of them count wall-clock
	// time: 24 hours and 1 day are the same shift.
	ShiftHours int `json:"shift_hours,omitempty"`
	ShiftDays  int `json:"shift_days,omitempty"`
	ShiftWeeks int `json:"shift_weeks,omitempty"`
	// Start is when the first participant's first shift begins; its local time
	// in the rotation's zone is the handoff time.
	Start time.Time `json:"start"`
	// End, if set, is when the layer stops covering (exclusive).
	End *time.Time `json:"end,omitempty"`
	// TimeZone overrides the schedule's zone for this rotation.
	TimeZone string `json:"time_zone,omitempty"`
}

// Override puts User on call within [Start, End), above every rotation.
type Override struct {
	User  string    `json:"user"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Shift is a stretch of time with one person on call.
type Shift struct {
	User  string    `json:"user"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Validate checks a schedule and says which field is wrong, as an *Error.
// Participants may repeat (they take more turns); a schedule with no rotation
// but only overrides is fine too (on call only when overridden).
func (s *Schedule) Validate() error {
	if err := checkName("name", s.Name, true); err != nil {
		return err
	}
	if s.TimeZone == "" {
		return invalid("time_zone", "required: an IANA time zone such as \"Europe/Berlin\"")
	}
	if _, err := loadZone(s.TimeZone); err != nil {
		return invalid("time_zone", "%q is not an IANA time zone", s.TimeZone)
	}
	if len(s.Rotations) > MaxRotations {
		return invalid("rotations", "at most %d rotations, got %d", MaxRotations, len(s.Rotations))
	}
	for i := range s.Rotations {
		if err := s.Rotations[i].validate(fmt.Sprintf("rotations[%d]", i)); err != nil {
			return err
		}
	}
	if len(s.Overrides) > MaxOverrides {
		return invalid("overrides", "at most %d overrides, got %d", MaxOverrides, len(s.Overrides))
	}
	for i, o := range s.Overrides {
		f := fmt.Sprintf("overrides[%d]", i)
		if err := checkID(f+".user", o.User); err != nil {
			return err
		}
		if err := checkTime(f+".start", o.Start); err != nil {
			return err
		}
		if err := checkTime(f+".end", o.End); err != nil {
			return err
		}
		if !o.End.After(o.Start) {
			return invalid(f+".end", "must be after start (%s), got %s", o.Start.Format(time.RFC3339), o.End.Format(time.RFC3339))
		}
	}
	return nil
}

func (r *Rotation) validate(f string) error {
	if err := checkName(f+".name", r.Name, false); err != nil {
		return err
	}
	if len(r.Participants) == 0 {
		return invalid(f+".participants", "must list at least one user")
	}
	if len(r.Participants) > MaxParticipants {
		return invalid(f+".participants", "at most %d users, got %d", MaxParticipants, len(r.Participants))
	}
	for j, p := range r.Participants {
		if err := checkID(fmt.Sprintf("%s.participants[%d]", f, j), p); err != nil {
			return err
		}
	}
	lengths := []struct {
		field string
		n     int
		max   int
	}{{"shift_hours", r.ShiftHours, MaxShiftHours}, {"shift_days", r.ShiftDays, MaxShiftDays}, {"shift_weeks", r.ShiftWeeks, MaxShiftWeeks}}
	set := 0
	for _, l := range lengths {
		if l.n < 0 || l.n > l.max {
			return invalid(f+"."+l.field, "must be between 1 and %d, got %d", l.max, l.n)
		}
		if l.n > 0 {
			set++
		}
	}
	if set != 1 {
		return invalid(f, "set exactly one of shift_hours, shift_days, shift_weeks to a positive number, got %d", set)
	}
	if err := checkTime(f+".start", r.Start); err != nil {
		return err
	}
	if r.End != nil {
		if err := checkTime(f+".end", *r.End); err != nil {
			return err
		}
		if !r.End.After(r.Start) {
			return invalid(f+".end", "must be after start (%s), got %s", r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339))
		}
	}
	if r.TimeZone != "" {
		if _, err := loadZone(r.TimeZone); err != nil {
			return invalid(f+".time_zone", "%q is not an IANA time zone", r.TimeZone)
		}
	}
	return nil
}

func checkName(field, s string, required bool) error {
	if s == "" {
		if required {
			return invalid(field, "required")
		}
		return nil
	}
	if len(s) > MaxNameLength || !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8 of at most %d bytes", MaxNameLength)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// checkID checks a user or schedule id: 1-128 bytes of UTF-8 with no white
// space or control characters. The users API may be stricter; this is what an
// id must be to travel in SNS attributes, Slack text and iCalendar lines.
func checkID(field, s string) error {
	if s == "" {
		return invalid(field, "required")
	}
	if len(s) > MaxIDLength || !utf8.ValidString(s) {
		return invalid(field, "%q must be valid UTF-8 of at most %d bytes", quoted(s), MaxIDLength)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return invalid(field, "%q must not contain white space or control characters", quoted(s))
		}
	}
	return nil
}

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return invalid(field, "required: an RFC 3339 time")
	}
	if t.Before(minTime) || t.After(maxTime) {
		return invalid(field, "must lie between 1970 and 9999, got %s", t.Format(time.RFC3339))
	}
	return nil
}

// maxQuoted bounds the bytes of a bad value quoted in an error message.
const maxQuoted = 40

// quoted is s as an error message quotes it: at most maxQuoted bytes, then "…".
func quoted(s string) string { return text.Clip(s, maxQuoted, "…", text.Bytes|text.MarkExtra) }
