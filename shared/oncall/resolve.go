package oncall

import (
	"sort"
	"time"
)

// MaxWindow is the longest span Shifts and ICS answer for.
const MaxWindow = 366 * 24 * time.Hour

// layer is a rotation ready for arithmetic.
type layer struct {
	loc          *time.Location
	anchor       int64 // wall-clock seconds of Start in loc
	step         int64 // shift length in wall-clock seconds
	start        time.Time
	end          time.Time // zero: open-ended
	participants []string
}

// compile returns the rotation as a layer, or false when it cannot cover
// anyone (a schedule that was never validated resolves what it can).
func (r *Rotation) compile(scheduleZone string) (layer, bool) {
	zone := r.TimeZone
	if zone == "" {
		zone = scheduleZone
	}
	loc, err := loadZone(zone)
	if err != nil || len(r.Participants) == 0 || r.Start.IsZero() {
		return layer{}, false
	}
	for _, p := range r.Participants {
		if p == "" {
			return layer{}, false
		}
	}
	if r.ShiftHours < 0 || r.ShiftDays < 0 || r.ShiftWeeks < 0 ||
		r.ShiftHours > MaxShiftHours || r.ShiftDays > MaxShiftDays || r.ShiftWeeks > MaxShiftWeeks {
		return layer{}, false
	}
	step := int64(r.ShiftHours)*3600 + int64(r.ShiftDays)*86400 + int64(r.ShiftWeeks)*7*86400
	if step <= 0 || r.Start.Before(minTime) || r.Start.After(maxTime) {
		return layer{}, false
	}
	l := layer{loc: loc, anchor: wallSeconds(r.Start, loc), step: step, start: r.Start, participants: r.Participants}
	if r.End != nil {
		if !r.End.After(r.Start) {
			return layer{}, false
		}
		l.end = *r.End
	}
	return l, true
}

// handoff returns the instant of the k-th handoff: the wall-clock time
// anchor + k × step, placed on the time line by the DST rules.
func (l *layer) handoff(k int64) time.Time {
	return instantOf(l.anchor+k*l.step, l.loc)
}

// active reports whether the layer covers t at all.
func (l *layer) active(t time.Time) bool {
	return !t.Before(l.start) && (l.end.IsZero() || t.Before(l.end))
}

// index returns the number of the shift in progress at t (t ≥ start): the
// largest k whose handoff is at or before t. A shift of no length (its hour
// never happened) is passed over, as the largest k wins.
func (l *layer) index(t time.Time) int64 {
	d := wallSeconds(t, l.loc) - l.anchor
	k := d / l.step
	if d < 0 && d%l.step != 0 {
		k--
	}
	// The wall clock at t is off by at most the size of a transition, so a few
	// steps settle it; the bound only guards against impossible zone data.
	for i := 0; i < 64 && !l.handoff(k+1).After(t); i++ {
		k++
	}
	for i := 0; i < 64 && k > 0 && l.handoff(k).After(t); i++ {
		k--
	}
	if k < 0 {
		k = 0
	}
	return k
}

func (l *layer) who(k int64) string {
	return l.participants[k%int64(len(l.participants))]
}

func (s *Schedule) layers() []layer {
	ls := make([]layer, 0, len(s.Rotations))
	for i := range s.Rotations {
		if l, ok := s.Rotations[i].compile(s.TimeZone); ok {
			ls = append(ls, l)
		}
	}
	return ls
}

// usable reports whether an override can put anyone on call.
func (o *Override) usable() bool {
	return o.User != "" && o.End.After(o.Start)
}

// WhoIsOnCall returns who is on call in s at t: the user of the last override
// covering t, or else the current participant of the last rotation covering t;
// nobody (an empty, non-nil slice) when neither covers it. It answers for an
// unvalidated schedule too, leaving out the parts that cannot cover anyone.
func WhoIsOnCall(s *Schedule, t time.Time) []string {
	if s == nil {
		return []string{}
	}
	for i := len(s.Overrides) - 1; i >= 0; i-- {
		o := &s.Overrides[i]
		if o.usable() && !t.Before(o.Start) && t.Before(o.End) {
			return []string{o.User}
		}
	}
	ls := s.layers()
	for i := len(ls) - 1; i >= 0; i-- {
		if ls[i].active(t) {
			return []string{ls[i].who(ls[i].index(t))}
		}
	}
	return []string{}
}

// Shifts returns the final shifts of s within [from, to): layers and overrides
// resolved, cut at from and to, a run of the same person merged into one shift,
// and stretches with nobody on call left out. The answer agrees with
// WhoIsOnCall at every instant.
func Shifts(s *Schedule, from, to time.Time) ([]Shift, error) {
	if to.Before(from) {
		return nil, invalid("to", "must not be before from")
	}
	if to.Sub(from) > MaxWindow {
		return nil, invalid("to", "the window is longer than %d days", int(MaxWindow/(24*time.Hour)))
	}
	if s == nil || !to.After(from) {
		return []Shift{}, nil
	}
	// Each layer's own shifts within the window, in time order.
	ls := s.layers()
	perLayer := make([][]Shift, len(ls))
	cuts := []time.Time{from, to}
	for i := range ls {
		perLayer[i] = ls[i].shifts(from, to)
		for _, sh := range perLayer[i] {
			cuts = append(cuts, sh.Start, sh.End)
		}
	}
	var overrides []Override
	for _, o := range s.Overrides {
		if o.usable() && o.End.After(from) && o.Start.Before(to) {
			overrides = append(overrides, o)
			cuts = append(cuts, clamp(o.Start, from, to), clamp(o.End, from, to))
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })

	out := []Shift{}
	next := make([]int, len(ls)) // per layer, the first of its shifts not yet behind us
	for c := 0; c+1 < len(cuts); c++ {
		a, b := cuts[c], cuts[c+1]
		if !b.After(a) {
			continue
		}
		user := ""
		for i := len(overrides) - 1; i >= 0 && user == ""; i-- {
			if !a.Before(overrides[i].Start) && a.Before(overrides[i].End) {
				user = overrides[i].User
			}
		}
		for i := len(ls) - 1; i >= 0; i-- {
			sh := perLayer[i]
			for next[i] < len(sh) && !sh[next[i]].End.After(a) {
				next[i]++
			}
			if user == "" && next[i] < len(sh) && !a.Before(sh[next[i]].Start) {
				user = sh[next[i]].User
			}
		}
		if user == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].User == user && out[n-1].End.Equal(a) {
			out[n-1].End = b
			continue
		}
		out = append(out, Shift{User: user, Start: a, End: b})
	}
	for i := range out {
		out[i].Start, out[i].End = out[i].Start.UTC(), out[i].End.UTC()
	}
	return out, nil
}

// shifts returns the layer's shifts within [from, to), cut to it, with shifts
// of no length left out.
func (l *layer) shifts(from, to time.Time) []Shift {
	lo, hi := from, to
	if lo.Before(l.start) {
		lo = l.start
	}
	if !l.end.IsZero() && l.end.Before(hi) {
		hi = l.end
	}
	if !hi.After(lo) {
		return nil
	}
	var out []Shift
	k := l.index(lo)
	begin := lo
	for begin.Before(hi) {
		end := l.handoff(k + 1)
		if end.After(hi) {
			end = hi
		}
		if end.After(begin) {
			out = append(out, Shift{User: l.who(k), Start: begin, End: end})
			begin = end
		}
		k++
	}
	return out
}

func clamp(t, lo, hi time.Time) time.Time {
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
}
