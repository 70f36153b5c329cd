package incident

import (
	"context"
	"fmt"
	"time"
)

// SettleFlapping resolves the open, flapping incident id of an auto-resolving
// service whose monitor settled in recovery: its latest known state is an OK
// (not older than its last trigger) and no trigger came for the reopen window
// before now. A flapping incident's OK does not resolve it while triggers are
// recent (README, flapping), and an alarm that stays OK sends nothing more, so
// without this it would wait for a person. It resolves as the monitor would
// have (auto-resolved, as of the OK's state-change time: eventtime.go), ends
// the flapping (a "stopped flapping" entry) and lets the dedup record expire.
// resolved is false, and nothing is written, when the incident is not (or no
// longer) such an incident: a second call changes nothing. The write is
// conditioned on the version and on signal_count, so a trigger appended
// between the read and the write makes it decide again.
func (s *Service) SettleFlapping(ctx context.Context, id, actor string) (inc Incident, resolved bool, err error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, false, err
	}
	if !ValidID(id) {
		return Incident{}, false, fmt.Errorf("settle incident %q: not an incident id", id)
	}
	type outcome struct {
		inc      Incident
		resolved bool
	}
	window := s.rules.ReopenWindow
	o, err := retry(ctx, "settle flapping incident "+id, func() (outcome, error) {
		cur, err := s.store.Incident(ctx, id)
		if err != nil {
			return outcome{}, err
		}
		now := s.now()
		if !cur.Status.Open() || !cur.Flapping || !cur.SettledFor(now, window) {
			return outcome{inc: cur}, nil
		}
		// Triggers that joined and are not folded in yet (the stream's
		// delay: README, "The signal path") count as the source's state too.
		latest, ok, err := s.store.LatestSignal(ctx, cur.ID, cur.LastSignalAt)
		if err != nil {
			return outcome{}, fmt.Errorf("read pending signals of incident %s: %w", cur.ID, err)
		}
		if ok {
			cur.LastSignalAt = latest
			if !cur.SettledFor(now, window) {
				return outcome{inc: cur}, nil
			}
		}
		cfg, err := s.serviceConfig(ctx, cur.Service)
		if err != nil {
			return outcome{}, err
		}
		if !cfg.AutoResolve {
			return outcome{inc: cur}, nil
		}
		inc := cur
		inc.Flapping = false
		if _, err := inc.transition(StatusResolved, now); err != nil {
			return outcome{}, err
		}
		inc.AutoResolved = true
		inc.UpdatedAt = now
		inc.Version = cur.Version + 1
		quiet := now.Sub(cur.LastSignalAt).Round(time.Second)
		entries := []Entry{
			newEntry(now, EntryFlapping, actor, fmt.Sprintf("stopped flapping: no trigger for %s, the monitor OK since %s", quiet, stamp(*cur.RecoveredAt))),
			newEntry(now, EntryResolved, actor, fmt.Sprintf(
				"auto-resolved by the %s: the monitor settled in OK and stayed quiet for the reopen window (%s); service auto_resolve is on", actor, window)),
		}
		ch := Change{Kind: Update, Incident: inc, ExpectVersion: cur.Version, ExpectSignalCount: cur.SignalCount,
			Entries: entries, Dedup: s.expireDedup(inc, now), Result: Result{Outcome: Resolved, IncidentID: inc.ID}}
		if err := s.store.Apply(ctx, ch); err != nil {
			return outcome{}, err // a lost race is retried by retry
		}
		return outcome{inc: inc, resolved: true}, nil
	})
	return o.inc, o.resolved, err
}
