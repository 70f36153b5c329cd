// Package httpapi is the platform's HTTP API (README.md, "The API"): one
// http.Handler that serves API Gateway's requests in Lambda (through Lambda,
// the payload format 2.0 adapter in this package) and `make local`'s
// 127.0.0.1:3000 directly.
//
// # Routes and scopes
//
//	GET   /healthz                      no token
//	POST  /reports                      reports:write (or none, with PublicReports)
//	GET   /incidents                    incidents:read   ?status=&service=&limit=&cursor=
//	POST  /incidents                    incidents:write  → 201, Location
//	GET   /incidents/{id}               incidents:read   with "timeline" (see below)
//	PATCH /incidents/{id}               incidents:write  severity, title, commander, cause_deployment_id (a recorded deployment, else 400; null unlinks)
//	POST  /incidents/{id}/acknowledge   incidents:write  body optional ({})
//	POST  /incidents/{id}/identify      incidents:write  optional text
//	POST  /incidents/{id}/resolve       incidents:write  optional root_cause, fix
//	POST  /incidents/{id}/notes         incidents:write  text → 201 entry
//	GET   /services                     services:read
//	GET   /services/{name}              services:read
//	PUT   /services/{name}              services:write   the whole config (name from the path); its policy must exist (else 400 naming it)
//	DELETE /services/{name}             services:write   → 204; 404 when not configured
//	GET   /users, /schedules, /policies oncall:read      ?limit=&cursor= → {"items","next_cursor"}, by id (configlist.go)
//	PUT   /schedules/{id}               oncall:write     a schedule document (package oncall); every user it names must exist
//	GET   /schedules/{id}               oncall:read
//	GET   /schedules/{id}.ics           oncall:read      text/calendar ?from=&to= (RFC 3339; now, +28 days; at most 366)
//	DELETE /schedules/{id}              oncall:write     → 204; 409 naming the policies that name it
//	PUT   /policies/{id}                oncall:write     every schedule and user it names must exist (else 400 naming it)
//	GET   /policies/{id}                oncall:read
//	DELETE /policies/{id}               oncall:write     → 204; 409 naming the services that name it
//	PUT   /users/{id}                   oncall:write     name, email, phone (E.164), slack_user_id; optional id = the path's
//	GET   /users/{id}                   oncall:read
//	DELETE /users/{id}                  oncall:write     → 204; 409 naming the schedules and policies that name it
//	GET   /oncall                       oncall:read      ?service= or ?policy= (exactly one), &at= (default now)
//	POST  /slack/commands               Slack signature  the /incident command (see Slack below)
//	POST  /slack/interactions           Slack signature  Acknowledge and Resolve buttons
//	POST  /deployments                  deployments:write a deploy.Request → 202 stored record (written), 200 (nothing written: replay, older state)
//	POST  /webhooks/github              GitHub signature pull_request, deployment_status (deployments.go)
//
// The admin scope grants every other scope.
//
// # On-call configuration
//
// Schedules, policies and users have their own scopes rather than services:*:
// who may change a rota (a team lead swapping shifts) need not be able to
// change which severities page, and a calendar feed token (oncall:read) reads
// nothing else. Ids are 1-64 characters of a-z, 0-9, '.', '_', '-', starting
// with a letter or digit; a schedule id may not end in ".ics", which names its
// calendar (a ServeMux wildcard fills a whole segment, so GET /schedules/{file}
// serves both). PUT replaces the whole document and answers it; GET answers
// the same bytes, so a document can be read, edited and sent back. A field
// error of a document is 400 "invalid" whose message names the field
// ("rotations[0].time_zone: ..."). A Slack id already held by another user is
// 409.
//
// Configuration names somebody. A PUT of a schedule naming a user
// (participant or override) that does not exist, of a policy naming a
// schedule or user (target or fallback) that does not exist, or of a service
// naming a policy that does not exist, is 400 "invalid" naming each missing
// one, e.g.
//
//	user "erin" does not exist: create it with PUT /users/erin first
//
// and nothing is stored. A DELETE of a user still named by a schedule or
// policy, of a schedule named by a policy, or of a policy named by a service,
// is 409 "conflict" naming the referrers (in the message, and as the error's
// "referrers": [{"kind","id"}]), e.g.
//
//	user "carol" is still named by policy "checkout", schedule "primary": change or delete them first
//
// An unknown one is 404; a deleted one is 204 with no body. Nothing
// names a service, so its delete is refused only when absent. Ids are the
// keys, so a rename is a PUT of the new id, the referrers moved to it, then
// the DELETE of the old one, under the same rule. A deleted user's
// PagingTopic subscriptions are unsubscribed after the delete (a failure is
// logged, as for the endpoints a PUT removes). Both rules hold in the store's
// write itself, against concurrent writes (shared/dynamo, refs.go).
//
// GET /oncall answers {"service","policy","at","levels":[{"level",
// "on_call"}]}; a service without a policy is 404. These routes are absent
// (404) when Config.OnCall is nil. The handlers decode the request, call the
// on-call service (oncall.Service, which holds the rules) and encode its
// answer.
//
// With a Subscriber in the on-call service (PAGING_TOPIC_ARN in AWS), PUT
// /users/{id} also subscribes the user's email (protocol email) and
// phone (protocol sms) to the PagingTopic with the filter policy
// {"responder":["<id>"]}, so that each gets that responder's pages only. New
// endpoints are subscribed before the user is stored and removed or changed
// ones unsubscribed after. If an endpoint fails the user is unchanged: one SNS
// rejects is 400 "invalid"; one subscribed already by something else, or an
// e-mail whose subscription still waits for confirmation, 409 "conflict"; any
// other SNS failure 502 "subscription_failed". The subscriptions' ARNs are
// stored beside the user, not in its document: GET answers the document as
// put. An e-mail subscription delivers only once its recipient follows the
// link in SNS's confirmation mail; SMS needs the account out of the SMS
// sandbox (or the number verified in it).
//
// # Deployments
//
// POST /deployments records a deployment with deploy.Merge's redelivery rule
// (Config.Deployments, the store). POST /webhooks/github verifies
// X-Hub-Signature-256 with Config.GitHubSecret before anything is parsed (401
// otherwise, the reason logged), answers a delivery id it recorded before
// (X-GitHub-Delivery, kept 7 days) as a duplicate, records deployment_status
// deliveries as deployments and ships merged pull requests onto the
// deployments of their merge commit (Deployments.ShipChange). Without
// Deployments both routes are absent, and the webhook without a secret or a
// repository mapping (Config.GitHubServices).
//
// # Slack
//
// POST /slack/commands and /slack/interactions take no token: Slack cannot
// send one. Their body (form-encoded, at most 1 MiB, since a button click
// carries its whole message) is read raw and slack.Verify checks the v0
// signature with Config.SlackSigningSecret before anything is parsed; any
// failure is 401 "unauthorized", and the log says which check failed
// (missing or malformed header, stale timestamp, signature mismatch). With no
// signing secret configured (SLACK_SIGNING_SECRET empty, the local default)
// both routes are absent (404), like the on-call routes without a store:
// Slack is simply not set up, which a 503 would misreport as an outage.
//
// The Slack user is mapped to a responder by Config.SlackUsers
// (UserBySlackID; by default the on-call service, Config.OnCall). An unlinked user
// gets an ephemeral reply saying how to link the account (PUT /users/{id} with
// slack_user_id) and nothing is done; only help works without a link. The
// actor of the timeline entries is the responder's user id, never the Slack
// name. Commands: ack [id], resolve [id] [summary] (the summary is recorded as
// the resolution's fix; the root cause can follow through the API), note [id]
// text, status [service] (open incidents, at most 100, read from the open
// index: a service's are one key range of it), help. Without an id a command
// means the incident whose war room the channel it was typed in is, open or
// resolved, found with one GetItem of the channel's item (written with the
// war room). Buttons incident_ack and incident_resolve do the same as the
// commands.
//
// Slack wants an answer within 3 s, so these handlers only do store work: no
// Slack Web API call, no response_url post. Every answer Slack should show is
// 200 {"response_type":"ephemeral","text":…,"replace_original":false}: the
// confirmation, a usage error, an unknown incident, acknowledging a resolved
// one (Slack shows any non-200 as a bare failure). Acknowledging twice (a
// double click) changes nothing and answers the same confirmation. A body
// that is no Slack payload is 400 malformed_payload; a well-formed interaction
// that is not ours (another app's button, a modal) is 200 with an empty body.
// A store failure is a 500, as elsewhere.
//
// # Timeline
//
// GET /incidents/{id} answers the timeline oldest first, bounded: the first
// entry ("opened") and the newest incident.TimelineLimit (500) entries. When
// entries between them were left out, "timeline_truncated": true says so (the
// field is absent otherwise). A days-long log incident collects thousands of
// entries, and Lambda cannot answer more than 6 MB.
//
// # Tokens and actors
//
// Every route but /healthz and /slack/* takes `Authorization: Bearer ink_<id>_<secret>`
// (package auth). A missing or invalid token is 401 with WWW-Authenticate:
// Bearer; a token without the route's scope is 403 (error="insufficient_scope").
// The actor written to the timeline is the token's name; X-Actor headers or
// body fields are not honoured, since they would let any token holder write
// any name into the audit trail. Give each person or integration its own token.
//
// # Errors
//
// Every error is {"error":{"code","message"}}. classify (errors.go) is the
// one place mapping errors to statuses:
//
//	400 any bad input, told apart by code: invalid_json (with line and column),
//	    unknown_field (naming it), invalid_field (wrong JSON type), trailing_data,
//	    empty_body, invalid (a rule of the domain, errkind.Invalid: its message
//	    says which). 422 is not used: one status means "fix the request".
//	401 unauthorized, 403 forbidden, 404 not_found (route, incident, service),
//	405 method_not_allowed (with Allow), 409 conflict (errkind.Conflict, e.g.
//	acknowledging a resolved incident), 413 body_too_large (64 KiB),
//	415 unsupported_media_type (not application/json or application/*+json),
//	422 idempotency_key_reused (POST /reports: the Idempotency-Key was used
//	    before with another body; errkind.KeyReused),
//	429 rate_limited (public reports, with Retry-After),
//	502 subscription_failed (PUT /users: SNS failed, oncall.SubscriptionError;
//	    the user is unchanged, SNS's error is in the log only),
//	503 unavailable (errkind.Unavailable: the store cannot be reached, times
//	    out, answers 5xx, or still throttles after the SDK's and the store's
//	    retries), with Retry-After: 5; the request may succeed unchanged later,
//	500 internal: anything else; logged with the request id, which the message
//	    repeats, and nothing about the cause. A panic is recovered into one.
//
// Times are RFC 3339 in UTC. Paths must be clean: "//x" and "/a/../x" are 404,
// not redirects.
//
// # Reports
//
// POST /reports answers 202 {report_id, incident_id, deduplicated}. An
// Idempotency-Key header (1-255 visible ASCII characters) makes a retry safe:
// the same key from the same token (without a token: for the same reporter,
// the e-mail address case-folded, else the name) with the same body returns
// the first answer with Idempotent-Replayed: true, and the report is counted
// once. The same key with another body is 422 idempotency_key_reused naming
// the key, and nothing is recorded: the key's record keeps the SHA-256 of the
// body as decoded and encoded again (so key order and white space do not
// matter, a changed value does). A report sent with a token and no reporter is
// reported by the token's name.
//
// With PublicReports (PUBLIC_REPORTS=true), POST /reports also takes requests
// without a token (a token given is still checked). Those must name a reporter
// (reporter.email or reporter.name) and are limited per source IP (IPv6: per
// /64) to PublicReportsPerMinute (default 10, also the burst) by a token bucket
// in the instance. Lambda instances do not share it, so in AWS it is a second
// line: the stage throttling of the API Gateway is the real limit. The source
// IP is API Gateway's sourceIp (or the TCP peer locally); X-Forwarded-For is
// never read.
package httpapi
