package slack

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/incidentd/incidentd/shared/incident"
)

// Action is what a Slack user asked for, by command or button.
type Action string

// Actions.
const (
	ActionAcknowledge Action = "acknowledge"
	ActionResolve     Action = "resolve"
	ActionNote        Action = "note"
	ActionStatus      Action = "status"
	ActionHelp        Action = "help"
)

// Action ids of the buttons on page and summary messages. The button's value
// is the incident id.
const (
	ActionIDAcknowledge = "incident_ack"
	ActionIDResolve     = "incident_resolve"
)

// Request is a verified Slack command or button click, reduced to what the API
// layer needs: it maps UserID to a responder and calls the incident service.
type Request struct {
	Action Action
	// IncidentID is a canonical (lower-case) incident id, or empty when the
	// command named none: the API layer then uses the incident whose war-room
	// channel ChannelID is, or answers with Usage.
	IncidentID string
	// Text is the note, or the resolution summary; Slack's &amp; &lt; &gt;
	// escapes are undone, mentions (<@U123>) are kept.
	Text string
	// Service filters a status request; empty means all services.
	Service string
	// UserID is the Slack user (U…/W…), UserName their handle, for display.
	UserID   string
	UserName string
	TeamID   string
	// ChannelID is where the command was typed or the button clicked.
	ChannelID string
	// ResponseURL is Slack's URL for a delayed answer; empty unless it is an
	// https URL on a Slack host (it is never followed anywhere else).
	ResponseURL string
	// MessageTS is the message whose button was clicked (interactions only),
	// for chat.update.
	MessageTS string
}

// Parsing errors. ErrMalformed means the body is not a Slack payload this
// package reads (answer 400); ErrUsage that a person typed a command wrong
// (answer 200 with the *UsageError's message, as an ephemeral reply: Slack
// shows any non-200 as "failed"); ErrUnsupported a well-formed interaction
// this platform does not handle (answer 200, do nothing).
var (
	ErrMalformed   = errors.New("slack: malformed payload")
	ErrUsage       = errors.New("slack: command not understood")
	ErrUnsupported = errors.New("slack: unsupported interaction")
)

// UsageError tells the person who typed a command what was wrong.
type UsageError struct {
	// Message is mrkdwn, ready to send as the ephemeral reply: what was wrong
	// (what they typed escaped), then Usage.
	Message string
}

func (e *UsageError) Error() string { return "slack: " + e.Message }

// Is makes errors.Is(err, ErrUsage) true.
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return &UsageError{Message: escape(fmt.Sprintf(format, args...)) + "\n" + Usage}
}

func malformedf(format string, args ...any) error {
	return wrapf(ErrMalformed, format, args...)
}

func wrapf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// Bounds on what a payload may carry: Slack's own limits with room to spare.
const (
	maxBody = 1 << 20 // a block_actions payload carries the whole message
	maxText = 4000    // a note or a summary
	maxName = 128     // a user name
)

// slackID matches Slack's user, team and channel ids (U2CERLKJA, T1DC2JH3J, C012AB3CD).
var slackID = regexp.MustCompile(`^[A-Z0-9]{2,40}$`)

// canonicalID returns the incident id s names (ids are case-insensitive; a
// person may type it in capitals), and whether it is one.
func canonicalID(s string) (string, bool) {
	id := strings.ToLower(s)
	return id, incident.ValidID(id)
}

// looksLikeID reports whether s was probably meant as an incident id: as long
// as one and all letters and digits. A mistyped id must not turn into text (or
// worse, into "the incident of this channel").
func looksLikeID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(s[i] >= '0' && s[i] <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// responseURL keeps u only if it is an https URL on a Slack host, so that a
// delayed answer can never be steered at an internal address.
func responseURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.User != nil || p.Port() != "" {
		return ""
	}
	host := strings.ToLower(p.Hostname())
	for _, d := range []string{"slack.com", "slack-gov.com"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return u
		}
	}
	return ""
}

// unescape undoes the three escapes Slack applies to typed text.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
