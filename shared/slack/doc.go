// Package slack adapts Slack: it verifies and parses what Slack sends to the
// API (slash commands, button clicks) and posts pages, war-room channels and
// timeline updates through Slack's Web API. It knows nothing of the store or
// the escalation state machine.
//
// # Inbound: POST /slack/commands and POST /slack/interactions
//
// The API handler reads the raw body (size-limited), calls Verify before
// anything else and answers 401 on any error from it; then ParseCommand or
// ParseInteraction turns the body into a Request (action, incident id, text,
// Slack user, channel, response_url) that names no Slack type. The handler
// maps Request.UserID to a responder and calls the incident service. Errors:
// ErrMalformed → 400; a *UsageError (errors.Is ErrUsage) → 200 with its
// Message as an ephemeral reply, since Slack shows a non-200 to the user as a
// bare failure; ErrUnsupported (another app's button, a modal) → 200, nothing
// done.
//
// Verify implements Slack's v0 signing: HMAC-SHA256 of "v0:<ts>:<body>" with
// the signing secret, compared in constant time, with the timestamp within
// MaxSkew (5 minutes) of now in either direction; its errors tell a missing
// header, a malformed one, a stale timestamp and a wrong signature apart.
//
// The /incident command grammar (see ParseCommand):
//
//	/incident [help]
//	/incident ack [incident-id]
//	/incident resolve [incident-id] [summary…]
//	/incident note [incident-id] <text…>
//	/incident status [service]
//
// Without an id the command means the incident whose war-room channel it was
// typed in (the API layer looks it up). Buttons carry action_id incident_ack
// or incident_resolve and the incident id as value.
//
// # Outbound: Messenger
//
// Messenger is what escalate, warroom and stream need: PostMessage,
// PostMessageIn (PostMessage saying which conversation the message went to:
// a page posted to a user id lands in a DM, whose id chat.update needs),
// UpdateMessage, CreateChannel (name_taken → name-2, name-3 …), SetTopic and
// Invite (members already in the channel are not an error; one user who
// cannot be invited does not keep the others out). Client implements it over
// the Web API; Recorder, the local sink of `make local`, logs each call as a
// JSON line and keeps it for tests (Fail simulates Slack being down).
//
// Client is plain net/http rather than github.com/slack-go/slack (see "Why
// not github.com/slack-go/slack" below), and owning the loop lets Client honour
// 429 Retry-After with bounds the paging path relies on (a few attempts, a
// maximum wait, and never a wait past the caller's context deadline), with an
// injectable sleeper for fast tests. Only 429s are retried, because any other
// failure may have taken effect. Pages never wait behind Slack: callers send
// SNS pages first and give Slack calls a context with a deadline.
//
// Notifier is what the use cases call (escalation.Slack, escalation.WarRoomSlack,
// lifecycle.Slack, which speak of incidents, pages and entries, never of
// Block Kit): it renders the messages below and sends them through a
// Messenger. A permanent refusal (an *APIError whose Permanent is true: an
// error code a retry gets again) lets the stream function drop the post
// without naming this package.
//
// PageMessage, PageClosedMessage (a page once answered, without buttons),
// SummaryMessage and EntryMessage build the Block Kit messages;
// Topic and ChannelName (inc-<yyyymmdd>-<short id>-<service>) the war room's
// topic and name. Text from incidents is escaped, so a title such as
// "<!channel>" cannot notify a whole workspace.
//
// # Why not github.com/slack-go/slack
//
// Measured 2026-12-03 (go1.26.8, slack-go v0.35.0, the linux/arm64 release
// build of `make build`). Importing slack-go at all adds about 10 KB to every
// bootstrap that links this package (api, escalate, stream, warroom), since its
// package also brings gorilla/websocket. Its Web API client, for the five calls
// made here, adds 291 to 315 KB to escalate, stream and warroom (+262,144 bytes
// to the escalate and stream bootstraps, +327,680 to warroom's, +94 to +100 KB
// zipped), mostly to decode its full Message and Block Kit types; its Block Kit
// types alone add about 114 KB (+65,536 or +131,072 bytes); SecretsVerifier
// alone adds 10 to 12 KB (+0 bytes to api's bootstrap: sizes move in 64 KiB
// steps). Little code would go: a working Client on slack-go came to 357 lines
// against 394, since name_taken suffixing, the per-user invite fallback and the
// retry bounds stay here either way, and Verify is some 70 lines. Each part
// would also lose something relied on here. slack-go retries 429s only if
// asked; then, unless given a RetryHandler of ours, it starts a wait of any
// length, even one past the context's deadline, on a timer tests cannot skip;
// it does not retry an ok:false "ratelimited" answer; and it sends the token in
// the form body. SecretsVerifier reads the clock itself, so Slack's documented
// signing example cannot be a test; it finds headers by canonical name only,
// takes the first of two, and returns untyped parse errors. slacktest has no
// chat.update, no DM ids and no 429s, and is no local sink, so Recorder stays.
// Revisit if this package needs many more Web API methods, Socket Mode or
// modals.
package slack
