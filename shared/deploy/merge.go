package deploy

import (
	"cmp"
	"slices"
)

// Merge returns what the store holds for a deployment once incoming arrived
// on top of stored, and whether that differs from stored. Both must have
// passed Validate. A zero stored (no ID: nothing stored yet) gives incoming;
// records of two different ids are not merged (stored, false).
//
// The later state wins (Later); the other may only fill in what the winner
// leaves empty: version, commit_sha, started_at, changes (as a whole), rework.
// So an identical replay changes nothing, a later state updates the record,
// and an older or equal one is ignored as a state but still gives what it
// alone knew, such as the start time of a START that arrived after the
// SUCCESS (EventBridge does not keep order). A started_at filled in that way
// is dropped if it is after the winner's finished_at (clocks of two sources
// disagreeing), so that the result is valid.
func Merge(stored, incoming Record) (Record, bool) {
	if stored.ID == "" {
		return incoming, true
	}
	if stored.ID != incoming.ID {
		return stored, false
	}
	winner, other := stored, incoming
	if Later(incoming, stored) {
		winner, other = incoming, stored
	}
	out := winner
	out.Changes = slices.Clone(winner.Changes)
	if out.Version == "" {
		out.Version = other.Version
	}
	if out.CommitSHA == "" {
		out.CommitSHA = other.CommitSHA
	}
	if out.StartedAt.IsZero() && (out.FinishedAt.IsZero() || !other.StartedAt.After(out.FinishedAt)) {
		out.StartedAt = other.StartedAt
	}
	if len(out.Changes) == 0 {
		out.Changes = slices.Clone(other.Changes)
	}
	if out.Rework == "" {
		out.Rework = other.Rework
	}
	return out, !out.Equal(stored)
}

// Later reports whether a is a later state of a deployment than b:
//  1. by status rank: started < succeeded = failed < rolled_back (a
//     deployment can be rolled back after it succeeded, never the reverse;
//     a success reported after a rollback is a stale report);
//  2. between two of the same rank, by finished_at (a failure reported
//     after a success of the same deployment, or the reverse, as GitHub
//     deployment statuses can be, is the newer word);
//  3. at the same rank and instant, failed over succeeded: the outcome
//     does not then depend on the order of delivery.
//
// Two records neither of which is later are the same state.
func Later(a, b Record) bool {
	return cmp.Or(
		cmp.Compare(rank(a.Status), rank(b.Status)),
		a.FinishedAt.Compare(b.FinishedAt),
		cmp.Compare(tieBreak(a.Status), tieBreak(b.Status)),
	) > 0
}

func rank(s Status) int {
	switch s {
	case Succeeded, Failed:
		return 1
	case RolledBack:
		return 2
	}
	return 0
}

func tieBreak(s Status) int {
	if s == Failed {
		return 1
	}
	return 0
}
