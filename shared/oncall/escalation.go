package oncall

import "time"

// Phase is what an escalation does at its next step.
type Phase string

// Phases of an escalation, in the order they come.
const (
	PhaseLevel    Phase = "level"    // page a level of the policy
	PhaseFallback Phase = "fallback" // page the fallback
	PhaseDone     Phase = "done"     // nothing left to page
)

// Step is where an escalation stands: the level to page (Level, from 1) in which
// pass over the levels (Repeat: 0 for the first pass, up to Policy.Repeat), or
// the fallback, or done. Its JSON is {"phase":"level","level":2,"repeat":0}.
type Step struct {
	Phase  Phase `json:"phase"`
	Level  int   `json:"level"`
	Repeat int   `json:"repeat"`
}

// Escalation is the state that travels through the state machine: the policy
// as it was when the incident opened (later edits do not change a running
// escalation), the platform's fallback and the step to fire next. Its JSON is
//
//	{"policy": {...}, "fallback": {"user": "ops"}, "step": {"phase": "level", "level": 1, "repeat": 0}}
type Escalation struct {
	// Policy is the snapshot; nil when no policy applies to the service.
	Policy *Policy `json:"policy,omitempty"`
	// Fallback is the platform's own fallback target, paged when there is no
	// policy or the policy's fallback finds nobody, so no page is dropped.
	Fallback *Target `json:"fallback,omitempty"`
	Step     Step    `json:"step"`
	// Due is when Step is due to fire (set when a step waits); nil: when the
	// incident opened. A step that keeps failing long past it pages the
	// fallback (package escalation, OverdueFallback).
	Due *time.Time `json:"due,omitempty"`
}

// Page is what firing one step asks the caller to do: page Users now (none for
// a level with nobody on call, or when done), wait WaitSeconds for an
// acknowledgement, then fire Next.
type Page struct {
	// Step is the step fired. An impossible step (a level or repeat out of
	// range, an unknown phase) is fired as the fallback, so it reads "fallback".
	Step    Step     `json:"step"`
	Targets []Target `json:"targets"`
	Users   []string `json:"users"`
	// PlatformFallback is set when Users come from the platform's fallback.
	PlatformFallback bool `json:"platform_fallback,omitempty"`
	// WaitSeconds is the level's wait, or 0 when nobody was paged or the
	// escalation is over (a level with nobody on call does not wait).
	WaitSeconds int  `json:"wait_seconds"`
	Next        Step `json:"next"`
	// Done is true when nothing is left to page after this one.
	Done bool `json:"done"`
}

// Start returns the escalation of an incident that opens now under policy p
// (nil: no policy applies), with platform as the platform's fallback. The
// policy is copied, so later edits of p do not reach it.
func Start(p *Policy, platform *Target) Escalation {
	e := Escalation{Policy: clonePolicy(p), Fallback: cloneTarget(platform)}
	if e.Policy != nil && len(e.Policy.Levels) > 0 {
		e.Step = Step{Phase: PhaseLevel, Level: 1}
	} else {
		e.Step = Step{Phase: PhaseFallback}
	}
	return e
}

// ScheduleIDs returns the schedules Fire may need, each once: the policy's and
// the platform fallback's.
func (e Escalation) ScheduleIDs() []string {
	var ts []Target
	if e.Policy != nil {
		for _, l := range e.Policy.Levels {
			ts = append(ts, l.Targets...)
		}
		if e.Policy.Fallback != nil {
			ts = append(ts, *e.Policy.Fallback)
		}
	}
	if e.Fallback != nil {
		ts = append(ts, *e.Fallback)
	}
	return scheduleIDs(ts)
}

// Fire works out e's current step at t: who to page, how long to wait and the
// step after it. It is pure: checking for an acknowledgement before firing and
// sending the pages are the caller's. schedules holds the schedules named by
// ScheduleIDs (a missing one has nobody on call). Fire never fails: whatever
// the state says, it ends by paging a fallback and then reporting Done, after at
// most levels × (1 + repeat) + 1 steps.
func (e Escalation) Fire(schedules map[string]*Schedule, t time.Time) Page {
	p := e.Policy
	s := e.Step
	switch {
	case s.Phase == PhaseDone:
		return Page{Step: s, Targets: []Target{}, Users: []string{}, Next: s, Done: true}
	case s.Phase == PhaseLevel && p != nil && s.Level >= 1 && s.Level <= len(p.Levels) &&
		s.Repeat >= 0 && s.Repeat <= repeats(p):
		l := p.Levels[s.Level-1]
		pg := Page{Step: s, Targets: cloneTargets(l.Targets), Users: resolveTargets(l.Targets, schedules, t)}
		if len(pg.Users) > 0 {
			pg.WaitSeconds = min(max(l.WaitMinutes, 0), MaxWaitMinutes) * 60
		}
		switch {
		case s.Level < len(p.Levels):
			pg.Next = Step{Phase: PhaseLevel, Level: s.Level + 1, Repeat: s.Repeat}
		case s.Repeat < repeats(p):
			pg.Next = Step{Phase: PhaseLevel, Level: 1, Repeat: s.Repeat + 1}
		default:
			pg.Next = Step{Phase: PhaseFallback}
		}
		return pg
	}
	// The fallback, also for a step that cannot be fired as it says.
	pg := Page{Step: Step{Phase: PhaseFallback}, Targets: []Target{}, Users: []string{},
		Next: Step{Phase: PhaseDone}, Done: true}
	if p != nil && p.Fallback != nil {
		pg.Targets = []Target{*p.Fallback}
		pg.Users = resolveTargets(pg.Targets, schedules, t)
	}
	if len(pg.Users) == 0 && e.Fallback != nil {
		pg.Targets = []Target{*e.Fallback}
		pg.Users = resolveTargets(pg.Targets, schedules, t)
		pg.PlatformFallback = true
	}
	return pg
}

// repeats bounds a snapshot's repeat count, so even a tampered state ends.
func repeats(p *Policy) int {
	return min(max(p.Repeat, 0), MaxRepeat)
}

func clonePolicy(p *Policy) *Policy {
	if p == nil {
		return nil
	}
	c := *p
	c.Levels = make([]Level, len(p.Levels))
	for i, l := range p.Levels {
		c.Levels[i] = Level{Targets: cloneTargets(l.Targets), WaitMinutes: l.WaitMinutes}
	}
	c.Fallback = cloneTarget(p.Fallback)
	return &c
}

func cloneTarget(t *Target) *Target {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func cloneTargets(ts []Target) []Target {
	return append([]Target{}, ts...)
}
