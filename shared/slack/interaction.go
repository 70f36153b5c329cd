package slack

import (
	"encoding/json"
	"net/url"

	"github.com/incidentd/incidentd/shared/text"
)

// interaction is the part of an interaction payload this package reads. See
// https://docs.slack.dev/reference/interaction-payloads/block_actions-payload.
type interaction struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
		MessageTS string `json:"message_ts"`
	} `json:"container"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
	} `json:"actions"`
}

// ParseInteraction reads an interactivity request body: a form whose payload
// field holds the JSON Slack sends when someone clicks a button. It handles
// block_actions of the Acknowledge (incident_ack) and Resolve
// (incident_resolve) buttons, whose value is the incident id; any other
// interaction type or action is ErrUnsupported.
func ParseInteraction(body []byte) (Request, error) {
	if len(body) > maxBody {
		return Request{}, malformedf("body of %d bytes", len(body))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Request{}, malformedf("form: %v", err)
	}
	raw := form.Get("payload")
	if raw == "" {
		return Request{}, malformedf("no payload field")
	}
	var in interaction
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return Request{}, malformedf("payload: %v", err)
	}
	if in.Type != "block_actions" {
		return Request{}, unsupportedf("interaction type %q", text.Clip(in.Type, 64, "", text.Bytes|text.Valid))
	}
	req := Request{
		UserID:      in.User.ID,
		UserName:    text.Clip(firstNonEmpty(in.User.Username, in.User.Name), maxName, "", text.Bytes|text.Valid),
		TeamID:      in.Team.ID,
		ChannelID:   firstNonEmpty(in.Channel.ID, in.Container.ChannelID),
		ResponseURL: responseURL(in.ResponseURL),
		MessageTS:   text.Clip(in.Container.MessageTS, 64, "", text.Bytes|text.Valid),
	}
	if err := checkIDs(&req); err != nil {
		return Request{}, err
	}
	// Slack sends one action per click; the first of ours counts.
	for _, a := range in.Actions {
		var action Action
		switch a.ActionID {
		case ActionIDAcknowledge:
			action = ActionAcknowledge
		case ActionIDResolve:
			action = ActionResolve
		default:
			continue
		}
		id, ok := canonicalID(a.Value)
		if !ok {
			return Request{}, malformedf("%s value %q is not an incident id", a.ActionID, text.Clip(a.Value, 64, "", text.Bytes|text.Valid))
		}
		req.Action, req.IncidentID = action, id
		return req, nil
	}
	return Request{}, unsupportedf("no incident action among %d actions", len(in.Actions))
}

func unsupportedf(format string, args ...any) error {
	return wrapf(ErrUnsupported, format, args...)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
