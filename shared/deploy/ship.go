package deploy

import (
	"slices"
)

// Ship records that r shipped the change c, a merged pull request read on
// its own (from a GitHub webhook), and reports whether r changed. A
// deployment ships a pull request when its commit_sha is the pull request's
// merge commit: the SHAs are compared exactly (so both should be full; an
// abbreviated SHA on either side never matches), and a change without a SHA
// or of another commit leaves r as it is. A change of the same commit that
// r lists already is completed (its missing pr_created_at or pr_merged_at
// taken from c), never overwritten; otherwise c is added. c must have
// passed ValidateChange; the result is valid if r was.
//
// The store calls it from both sides: when a merged pull request arrives,
// for the deployments of its service whose commit_sha is its merge commit;
// when a deployment arrives, with the merged pull requests of its service
// whose merge commit is its commit_sha, after Merge (a later state that
// lists changes of its own replaces the stored ones). Either order gives
// the same record, and a replay changes nothing.
func Ship(r Record, c Change) (Record, bool) {
	if c.CommitSHA == "" || c.CommitSHA != r.CommitSHA {
		return r, false
	}
	i := slices.IndexFunc(r.Changes, func(x Change) bool { return x.CommitSHA == c.CommitSHA })
	if i < 0 {
		if len(r.Changes) >= MaxChanges {
			return r, false
		}
		out := r
		out.Changes = append(slices.Clone(r.Changes), c)
		sortChanges(out.Changes)
		return out, true
	}
	have := r.Changes[i]
	filled := have
	if filled.PRCreatedAt.IsZero() {
		filled.PRCreatedAt = c.PRCreatedAt
	}
	if filled.PRMergedAt.IsZero() {
		filled.PRMergedAt = c.PRMergedAt
	}
	if changeEqual(filled, have) {
		return r, false
	}
	out := r
	out.Changes = slices.Clone(r.Changes)
	out.Changes[i] = filled
	return out, true
}
