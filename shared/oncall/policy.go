package oncall

import (
	"fmt"
	"time"
)

// Limits of a policy document.
const (
	MaxLevels      = 20
	MaxTargets     = 10
	MaxWaitMinutes = 24 * 60
	MaxRepeat      = 9
)

// Policy is an escalation policy: levels paged in order until someone
// acknowledges, the whole list run 1 + Repeat times, then the fallback.
type Policy struct {
	Name   string  `json:"name"`
	Levels []Level `json:"levels"`
	// Repeat is how many more passes over the levels follow the first one.
	Repeat int `json:"repeat"`
	// Fallback is paged when every level and repeat has been paged unanswered.
	Fallback *Target `json:"fallback"`
}

// Level is one step of a policy: its targets are paged together, then the
// escalation waits WaitMinutes for an acknowledgement before the next level.
type Level struct {
	Targets     []Target `json:"targets"`
	WaitMinutes int      `json:"wait_minutes"`
}

// Target is whom a level pages: exactly one of a schedule (whoever is on call
// in it) or a user.
type Target struct {
	Schedule string `json:"schedule,omitempty"`
	User     string `json:"user,omitempty"`
}

// LevelOnCall says who a level of a policy pages at some instant.
type LevelOnCall struct {
	Level  int      `json:"level"` // 1 for the first level
	OnCall []string `json:"on_call"`
}

// Validate checks a policy and says which field is wrong, as an *Error. It does
// not check that the schedules it names exist: that needs the store (see
// ScheduleIDs). A level may wait 0 minutes (the next one is paged at once), and
// a level may name the same target twice (its people are paged once).
func (p *Policy) Validate() error {
	if err := checkName("name", p.Name, true); err != nil {
		return err
	}
	if len(p.Levels) == 0 {
		return invalid("levels", "must have at least one level")
	}
	if len(p.Levels) > MaxLevels {
		return invalid("levels", "at most %d levels, got %d", MaxLevels, len(p.Levels))
	}
	for i, l := range p.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		if len(l.Targets) == 0 {
			return invalid(f+".targets", "must have at least one target")
		}
		if len(l.Targets) > MaxTargets {
			return invalid(f+".targets", "at most %d targets, got %d", MaxTargets, len(l.Targets))
		}
		for j, t := range l.Targets {
			if err := t.validate(fmt.Sprintf("%s.targets[%d]", f, j)); err != nil {
				return err
			}
		}
		if l.WaitMinutes < 0 || l.WaitMinutes > MaxWaitMinutes {
			return invalid(f+".wait_minutes", "must be between 0 and %d, got %d", MaxWaitMinutes, l.WaitMinutes)
		}
	}
	if p.Repeat < 0 || p.Repeat > MaxRepeat {
		return invalid("repeat", "must be between 0 and %d, got %d", MaxRepeat, p.Repeat)
	}
	if p.Fallback == nil {
		return invalid("fallback", "required: a schedule or user paged when nobody acknowledges")
	}
	return p.Fallback.validate("fallback")
}

func (t Target) validate(f string) error {
	switch {
	case t.Schedule != "" && t.User != "":
		return invalid(f, "set exactly one of schedule or user, got both")
	case t.Schedule != "":
		return checkID(f+".schedule", t.Schedule)
	case t.User != "":
		return checkID(f+".user", t.User)
	default:
		return invalid(f, "set exactly one of schedule or user, got neither")
	}
}

// ScheduleIDs returns the schedules the policy names, each once, in order of
// appearance: what a caller loads before OnCall or Fire, and what the API
// checks exists.
func (p *Policy) ScheduleIDs() []string {
	if p == nil {
		return nil
	}
	var ts []Target
	for _, l := range p.Levels {
		ts = append(ts, l.Targets...)
	}
	if p.Fallback != nil {
		ts = append(ts, *p.Fallback)
	}
	return scheduleIDs(ts)
}

func scheduleIDs(ts []Target) []string {
	var ids []string
	seen := map[string]bool{}
	for _, t := range ts {
		if t.Schedule != "" && t.User == "" && !seen[t.Schedule] {
			seen[t.Schedule] = true
			ids = append(ids, t.Schedule)
		}
	}
	return ids
}

// OnCall returns who each level of p pages at t, in level order. schedules
// holds the schedules the policy names by id; a missing one has nobody on call.
func OnCall(p *Policy, schedules map[string]*Schedule, t time.Time) []LevelOnCall {
	out := []LevelOnCall{}
	if p == nil {
		return out
	}
	for i, l := range p.Levels {
		out = append(out, LevelOnCall{Level: i + 1, OnCall: resolveTargets(l.Targets, schedules, t)})
	}
	return out
}

// resolveTargets returns the people targets page at t, each once, in target
// order. A target with both or neither of schedule and user pages nobody.
func resolveTargets(ts []Target, schedules map[string]*Schedule, t time.Time) []string {
	users := []string{}
	seen := map[string]bool{}
	add := func(u string) {
		if u != "" && !seen[u] {
			seen[u] = true
			users = append(users, u)
		}
	}
	for _, tg := range ts {
		switch {
		case tg.Schedule != "" && tg.User != "":
		case tg.User != "":
			add(tg.User)
		case tg.Schedule != "":
			for _, u := range WhoIsOnCall(schedules[tg.Schedule], t) {
				add(u)
			}
		}
	}
	return users
}
