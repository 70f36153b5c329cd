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
// Client is plain net/http rather than github.com/slack-go/slack: five JSON
// POSTs do not need the library, and owning the loop lets Client honour
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
package slack
