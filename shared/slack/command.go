package slack

import (
	"net/url"
	"strings"
	"unicode"

	"github.com/incidentd/incidentd/shared/incident"
	textpkg "github.com/incidentd/incidentd/shared/text"
)

// Usage is the help text of the /incident command, answered to "help", to an
// empty command and after every usage error. It is mrkdwn (hence &lt;).
const Usage = "Usage:\n" +
	"• `/incident ack [incident-id]`: acknowledge (stops further pages)\n" +
	"• `/incident resolve [incident-id] [summary]`: resolve\n" +
	"• `/incident note [incident-id] &lt;text&gt;`: add a note to the timeline\n" +
	"• `/incident status [service]`: open incidents and service status\n" +
	"Without an incident id, the command acts on the incident of the war-room channel it is typed in."

// ParseCommand reads a slash command request body (Slack posts it as
// application/x-www-form-urlencoded). The grammar of its text field:
//
//	(empty) | help                    → ActionHelp
//	ack | acknowledge [ID]            → ActionAcknowledge
//	resolve [ID] [summary…]           → ActionResolve
//	note [ID] text…                   → ActionNote (text required)
//	status [service]                  → ActionStatus
//
// Verbs are case-insensitive. ID is an incident id in any letter case; when
// the first word after the verb is not one, the request carries no id (the
// channel's incident is meant), except that a word shaped like an id (26
// letters and digits) but not valid is a usage error, so that a typo never
// acts on another incident. Text keeps its line breaks. The command's name is
// not checked: a workspace may install it under another name than /incident.
func ParseCommand(body []byte) (Request, error) {
	if len(body) > maxBody {
		return Request{}, malformedf("body of %d bytes", len(body))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Request{}, malformedf("form: %v", err)
	}
	cmd := form.Get("command")
	if !strings.HasPrefix(cmd, "/") {
		return Request{}, malformedf("no command")
	}
	req := Request{
		UserID:      form.Get("user_id"),
		UserName:    textpkg.Clip(form.Get("user_name"), maxName, "", textpkg.Bytes|textpkg.Valid),
		TeamID:      form.Get("team_id"),
		ChannelID:   form.Get("channel_id"),
		ResponseURL: responseURL(form.Get("response_url")),
	}
	if err := checkIDs(&req); err != nil {
		return Request{}, err
	}
	text := strings.ToValidUTF8(unescape(form.Get("text")), "\uFFFD")
	if len(text) > maxText {
		return Request{}, usagef("The command is %d characters long; at most %d fit.", len(text), maxText)
	}
	verb, rest := cutWord(text)
	switch strings.ToLower(verb) {
	case "", "help":
		req.Action = ActionHelp
	case "ack", "acknowledge":
		req.Action = ActionAcknowledge
		id, extra, err := leadingID(rest)
		if err != nil {
			return Request{}, err
		}
		if extra != "" {
			return Request{}, usagef("`ack` takes an incident id and nothing else; %q is not an incident id.", firstWord(extra))
		}
		req.IncidentID = id
	case "resolve":
		req.Action = ActionResolve
		id, summary, err := leadingID(rest)
		if err != nil {
			return Request{}, err
		}
		req.IncidentID, req.Text = id, summary
	case "note":
		req.Action = ActionNote
		id, note, err := leadingID(rest)
		if err != nil {
			return Request{}, err
		}
		if note == "" {
			return Request{}, usagef("`note` needs the text of the note.")
		}
		req.IncidentID, req.Text = id, note
	case "status":
		req.Action = ActionStatus
		service, extra := cutWord(rest)
		if extra != "" {
			return Request{}, usagef("`status` takes at most one service name.")
		}
		service = strings.ToLower(service)
		if service != "" && incident.ValidateServiceName(service) != nil {
			return Request{}, usagef("%q is not a service name.", textpkg.Clip(service, 64, "", textpkg.Bytes|textpkg.Valid))
		}
		req.Service = service
	default:
		return Request{}, usagef("Unknown command %q.", textpkg.Clip(verb, 32, "", textpkg.Bytes|textpkg.Valid))
	}
	return req, nil
}

// checkIDs requires a well-formed user and channel id; the team id is optional.
func checkIDs(req *Request) error {
	if !slackID.MatchString(req.UserID) {
		return malformedf("user id %q", textpkg.Clip(req.UserID, 64, "", textpkg.Bytes|textpkg.Valid))
	}
	if !slackID.MatchString(req.ChannelID) {
		return malformedf("channel id %q", textpkg.Clip(req.ChannelID, 64, "", textpkg.Bytes|textpkg.Valid))
	}
	if req.TeamID != "" && !slackID.MatchString(req.TeamID) {
		req.TeamID = ""
	}
	return nil
}

// leadingID splits an optional incident id off the front of s.
func leadingID(s string) (id, rest string, err error) {
	word, after := cutWord(s)
	if canonical, ok := canonicalID(word); ok {
		return canonical, after, nil
	}
	if looksLikeID(word) {
		return "", "", usagef("%q is not a valid incident id.", word)
	}
	return "", s, nil
}

// cutWord splits s, trimmed, into its first word and the trimmed rest.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func firstWord(s string) string {
	w, _ := cutWord(s)
	return textpkg.Clip(w, 32, "", textpkg.Bytes|textpkg.Valid)
}
