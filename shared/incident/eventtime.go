package incident

import (
	"fmt"
	"time"
)

// Event time decides (README "Rules an on-call engineer can rely on"): CloudWatch,
// SNS and EventBridge deliver late, twice and out of order, so what a signal
// does depends on when its source says it happened (Signal.At, an alarm's
// state-change time), not on when it arrived. What is known of a dedup key's
// source is kept on its incident:
//
//   - LastSignalAt, the event time of the latest trigger (ALARM, an error
//     window of a log, a report), kept as a maximum;
//   - RecoveredAt, the event time of the latest recovery (OK) acted on;
//   - the resolution: a person's at the time they resolved (ResolvedAt), or
//     the monitor's at its recovery's time (AutoResolved).
//
// A delivery strictly older than that is stale: it is noted on the timeline
// (EntryStale) and answered with Outcome Stale, and it neither reopens nor
// resolves nor notes a recovery.

// Stale is the outcome of a signal older than what is known of its source.
const Stale Outcome = "stale"

// lastRecovery is the event time of the latest recovery acted on, or zero.
func (inc Incident) lastRecovery() time.Time {
	if inc.RecoveredAt == nil {
		return time.Time{}
	}
	return *inc.RecoveredAt
}

// resolvedAsOf is the event time a trigger from source must not be older than
// to reopen the resolved incident inc: the newest of its last trigger and its
// last recovery, and for logs and reports also a person's resolution. An
// alarm's state is the truth of its source: an ALARM state change newer than
// everything known of the alarm means it fires now, whoever resolved the
// incident meanwhile (a person who resolved at 10:00:02 after an OK, while the
// alarm fired again at 10:00:00, must be paged again). A resolution by the
// monitor (auto-resolve) counts at its recovery's state-change time, so an
// ALARM that came after the OK but was delivered after the resolution reopens.
func (inc Incident) resolvedAsOf(source Source) time.Time {
	t := inc.LastSignalAt
	if r := inc.lastRecovery(); r.After(t) {
		t = r
	}
	if source != SourceAlarm && !inc.AutoResolved && inc.ResolvedAt != nil && inc.ResolvedAt.After(t) {
		t = *inc.ResolvedAt
	}
	return t
}

// staleRecovery says why a recovery at t on the open incident inc is stale,
// or "": a recovery resolves only when it is not older than the last trigger
// (nor than the last recovery acted on). Equal times are not stale: two state
// changes of one alarm never share a time, and a source that gives no time
// gets the time of arrival.
func (inc Incident) staleRecovery(t time.Time) string {
	if t.Before(inc.LastSignalAt) {
		return "older than the last trigger at " + stamp(inc.LastSignalAt)
	}
	if r := inc.lastRecovery(); t.Before(r) {
		return "older than the last recovery at " + stamp(r)
	}
	return ""
}

// staleTrigger says why a trigger from source at t on the resolved incident
// inc is stale, or "".
func (inc Incident) staleTrigger(source Source, t time.Time) string {
	asOf := inc.resolvedAsOf(source)
	if !t.Before(asOf) {
		return ""
	}
	if !inc.AutoResolved && inc.ResolvedAt != nil && asOf.Equal(*inc.ResolvedAt) {
		return "older than the resolution at " + stamp(asOf)
	}
	return "older than what is known of its source (" + stamp(asOf) + ")"
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// staleSignal notes a stale signal on cur without acting on it.
func staleSignal(cur Incident, sig Signal, why string, now time.Time) Change {
	inc := cur
	inc.UpdatedAt = now
	e := signalEntry(EntryStale, sig)
	e.At = now
	e.Text = fmt.Sprintf("stale %s %s from %s (state changed at %s): %s; noted, not acted on\n%s",
		sig.Source, sig.Kind, sig.Actor, stamp(sig.At), why, e.Text)
	return Change{Kind: Touch, Incident: inc, Entries: []Entry{e}, Result: Result{Outcome: Stale, IncidentID: inc.ID}}
}

// noteReopen records a reopen at event time t, processed at now, on inc and
// marks it flapping when it reopened threshold times within window. It
// returns the flapping entry, if it started flapping.
func noteReopen(inc *Incident, t, now time.Time, threshold int, window time.Duration, actor string) []Entry {
	times := append(append([]time.Time(nil), inc.ReopenedAt...), t)
	if len(times) > threshold {
		times = times[len(times)-threshold:]
	}
	inc.ReopenedAt = times
	inc.ReopenProcessedAt = now
	if inc.Flapping || len(times) < threshold || t.Sub(times[0]) > window {
		return nil
	}
	inc.Flapping = true
	return []Entry{newEntry(now, EntryFlapping, actor, fmt.Sprintf(
		"flapping: reopened %d times within %s; auto-resolve is suspended until no trigger comes for %s, and no second escalation starts while one runs",
		threshold, window, window))}
}

// quietFor reports whether a flapping incident's source has had no trigger
// for window before t.
func (inc Incident) quietFor(t time.Time, window time.Duration) bool {
	return t.Sub(inc.LastSignalAt) >= window
}

// SettledFor reports whether inc's source settled in recovery and stayed
// quiet for window before now: its latest known state is a recovery (an OK
// not older than the last trigger) and no trigger came for window.
func (inc Incident) SettledFor(now time.Time, window time.Duration) bool {
	r := inc.lastRecovery()
	return inc.RecoveredAt != nil && !r.Before(inc.LastSignalAt) && inc.quietFor(now, window)
}
