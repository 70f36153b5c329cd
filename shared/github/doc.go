// Package github reads GitHub webhook deliveries for the DORA metrics: it
// verifies their signature (Verify) and turns pull_request and
// deployment_status events into domain values (Parse): a pull request's
// creation, merge and merge commit, which start its lead time, and a
// deployment's state as a deploy.Record. POST /webhooks/github is the thin
// handler around the two.
//
// # Signature
//
// GitHub signs each delivery with the webhook's secret: X-Hub-Signature-256
// is "sha256=" and the hex HMAC-SHA256 of the raw body. Verify recomputes it
// and compares in constant time (hmac.Equal). No secret configured, no
// header, a malformed one (not sha256=<64 hex digits>, or given twice) and a
// mismatch are distinct errors, all ErrUnauthenticated: the API answers 401
// and logs which. GitHub's own example verifies (secret "It's a Secret to
// Everybody", body "Hello, World!"), and a body changed after signing does
// not. The signature has no timestamp, so a captured delivery can be
// replayed; the delivery id makes that harmless (below).
//
// # Deliveries
//
// X-GitHub-Event says what the body is; X-GitHub-Delivery is a GUID GitHub
// keeps when it redelivers, so it is the idempotency key (a delivery id seen
// before changes nothing; deploy.Merge makes a replay harmless anyway).
// Both headers are required.
//
//   - pull_request, action opened: the pull request's created_at; closed
//     with merged true: created_at, merged_at and merge_commit_sha, the
//     commit a deployment must ship to ship the change (the
//     merge_commit_sha of an open pull request is GitHub's test merge and is
//     not read). Other actions, and a close without merge, are ignored.
//   - deployment_status: pending, queued and in_progress are started;
//     success succeeded; failure and error failed; inactive (a newer
//     deployment to the environment took over, this one's outcome stands)
//     is ignored. The record id is "github:" + the deployment id (one
//     record however many statuses); version is the deployment's ref,
//     commit_sha its sha, started_at its created_at, finished_at the
//     status's created_at.
//   - ping (sent when the webhook is created) and every other event are
//     ignored.
//
// An ignored delivery is a deploy.ErrIgnored with the reason (the API
// answers 202 and says why); a malformed one is an errkind.Invalid.
//
// # Services and environments
//
// A repository maps to a service through a deploy.ServiceResolver, asked
// for "owner/name@environment" first (a monorepo deploying one service per
// GitHub environment) and then "owner/name"; a repository that maps to
// nothing is ignored, named in the reason. A deployment's environment is
// the one the mapping gives, else GitHub's, lower-cased with each run of
// other characters than letters, digits, '.', '_' and '-' made one '-'
// ("Production" is production).
package github
