// Package deploy holds the rules of an ingested deployment record: what a
// valid one is (Validate, Request.Record for the body of POST /deployments)
// and what a redelivery or a later state of the same deployment does to the
// stored one (Merge). It is pure, like package dora next to it, whose
// Deployment a Record becomes (Record.DORA); the adapters that read
// CodePipeline, CodeDeploy and GitHub events produce Records and are checked
// by the same Validate.
//
// # A record
//
//   - id: required; 1 to 128 bytes of printable text without spaces,
//     refused (not cleaned) otherwise, since it is the key. The adapters
//     prefix theirs with their source ("codepipeline:", "codedeploy:",
//     "github:") so that sources cannot collide.
//   - service: required, a service name (lower-case letters, digits, '.',
//     '_', '-'; 1-63 characters). environment: the same rule, default
//     production.
//   - version: free text, cleaned (control and bidi characters removed) and
//     clipped to 128 bytes. commit_sha: 7 to 64 hexadecimal digits, stored
//     in lower case.
//   - status: started, succeeded, failed or rolled_back; anything else is
//     refused, naming it. started needs started_at and no finished_at; the
//     three others need finished_at (started_at is optional: a CodeDeploy
//     SUCCESS carries only its own time).
//   - finished_at before started_at is Invalid, naming both fields and
//     times. Times are RFC 3339, stored in UTC, and must lie in the years
//     2000 to 9999 (earlier is a unit mistake).
//   - changes: the pull requests shipped, each {pr_created_at,
//     pr_merged_at, commit_sha}, at most 1000; POST /deployments may give
//     the flat pr_created_at and pr_merged_at instead, read as one change
//     with the deployment's commit_sha (both forms at once is Invalid). A
//     change with none of the three is Invalid. Their spans are not
//     checked: dora drops and counts a negative one. They are stored sorted,
//     exact duplicates once, so that the order a sender lists them in does
//     not make a replay look different.
//   - rework: "", hotfix or rollback (the deployment patches or undoes an
//     earlier one; dora's rework rate counts them).
//
// Every broken rule is an errkind.Invalid whose message names the field, so
// the API answers 400 with it.
//
// # Redelivery and later states
//
// Deliveries repeat (EventBridge and GitHub deliver at least once, CI
// retries a POST) and arrive out of order. One record is kept per id, and
// Merge(stored, incoming) decides what it becomes:
//
//   - a state is later by status rank first: started < succeeded = failed
//     < rolled_back. So started → succeeded, failed or rolled_back updates;
//     succeeded or failed → rolled_back updates (a deployment is rolled back
//     after it finished); rolled_back → succeeded is a stale report and is
//     ignored, as is started after any end;
//   - between succeeded and failed (the same rank: GitHub lets a
//     deployment's status go from failure to success on a retry, and a
//     verification step can turn a success into a failure), the one that
//     finished later wins; at the same instant failed wins, so the outcome
//     does not depend on which arrived first;
//   - two records of the same status and finished_at are the same state:
//     the stored one stays. An identical replay therefore changes nothing.
//
// The record that is not the later state is not thrown away: it fills in
// what the later one leaves empty (version, commit_sha, started_at, the
// changes as a whole, rework). A START delivered after its SUCCESS still
// gives the start time; nothing it says overrides what is stored.
//
// Merge reports whether the result differs from what was stored, so that
// the store writes (and the idempotency record is kept) only on a change.
//
// # Pull requests shipped
//
// A pull request read on its own (a GitHub pull_request webhook) is shipped
// by the deployment whose commit_sha is its merge commit, compared exactly.
// Ship adds it to that deployment's changes, or completes the change of the
// same commit the deployment already lists (never overwriting a time), so
// that its lead time starts at the pull request's creation. Ship runs after
// Merge, in whichever order the pull request and the deployment arrived.
//
// # Service mapping and ignored deliveries
//
// ServiceResolver maps what a source names (a pipeline, a CodeDeploy
// application or deployment group, a GitHub repository) to a service and,
// optionally, an environment; StaticServices is the one built from
// configuration. A delivery that is well-formed but not about a deployment
// (or about an unmapped resource) is an ErrIgnored with its reason: it is
// acknowledged and logged, never retried.
package deploy
