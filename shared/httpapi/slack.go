package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/slack"
)

// SlackUsers maps a Slack member id to the responder who holds it;
// *dynamo.Store is one. It answers errkind.NotFound for an unlinked id.
type SlackUsers interface {
	UserBySlackID(ctx context.Context, slackID string) (oncall.User, error)
}

// slackMaxBody bounds a Slack request body. It is read before the signature
// can be checked, but a block_actions payload carries the whole message whose
// button was clicked, so it may exceed DefaultMaxBody; package slack refuses
// more than this too.
const slackMaxBody = 1 << 20

// statusLimit is how many open incidents `/incident status` lists: one page
// of List, from the open index (a service's: one key range of it).
const statusLimit = 100

// maxStatusTitle bounds an incident's title in a status listing, in runes.
const maxStatusTitle = 150

// slackReply is the body of an immediate answer to Slack. Ephemeral: only the
// person who typed the command or clicked the button sees it. replace_original
// false keeps a clicked page message as it is (the stream function updates it).
type slackReply struct {
	ResponseType    string `json:"response_type"`
	Text            string `json:"text"`
	ReplaceOriginal bool   `json:"replace_original"`
}

func (a *API) slackRoutes() {
	if a.slackSecret == "" || a.slackUsers == nil {
		// Slack is not set up: the routes are absent (404), rather than
		// present and refusing every request, which would read as an attack.
		return
	}
	a.mux.HandleFunc("POST /slack/commands", a.slackHandler(slack.ParseCommand))
	a.mux.HandleFunc("POST /slack/interactions", a.slackHandler(slack.ParseInteraction))
}

// slackHandler serves a Slack route. Slack sends no bearer token; the request
// signature is its authentication, checked before the body is parsed.
func (a *API) slackHandler(parse func([]byte) (slack.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.serveSlack(w, r, parse); err != nil {
			a.writeError(w, r, err)
		}
	}
}

func (a *API) serveSlack(w http.ResponseWriter, r *http.Request, parse func([]byte) (slack.Request, error)) error {
	ctx := r.Context()
	body, err := readBody(w, r, slackMaxBody)
	if err != nil {
		return err
	}
	if err := slack.Verify(a.slackSecret, r.Header, body, a.now()); err != nil {
		// Which check failed goes to the log (a stale timestamp is usually a
		// clock, a bad signature a wrong secret or a forgery), not to the caller.
		a.log.InfoContext(ctx, "slack request refused", "request_id", RequestID(ctx), "path", r.URL.Path, "reason", err.Error())
		return newError(http.StatusUnauthorized, "unauthorized", "the Slack request signature is not valid")
	}
	req, err := parse(body)
	var usage *slack.UsageError
	switch {
	case errors.As(err, &usage):
		writeSlack(w, usage.Message)
		return nil
	case errors.Is(err, slack.ErrUnsupported):
		// Another app's button or a modal: acknowledged, nothing done.
		a.log.InfoContext(ctx, "slack interaction ignored", "request_id", RequestID(ctx), "reason", err.Error())
		w.WriteHeader(http.StatusOK)
		return nil
	case err != nil:
		return newError(http.StatusBadRequest, "malformed_payload", err.Error())
	}
	if req.Action == slack.ActionHelp {
		writeSlack(w, slack.Usage)
		return nil
	}
	user, err := a.slackUsers.UserBySlackID(ctx, req.UserID)
	if errors.Is(err, errkind.NotFound) {
		a.log.InfoContext(ctx, "slack user not linked", "request_id", RequestID(ctx), "slack_user", req.UserID)
		writeSlack(w, fmt.Sprintf("Your Slack account (%s) is not linked to a responder, so nothing was done. "+
			"Ask an admin to link it: `PUT /users/{id}` with `\"slack_user_id\": \"%s\"`.", req.UserID, req.UserID))
		return nil
	}
	if err != nil {
		return fmt.Errorf("map slack user %s: %w", req.UserID, err)
	}
	a.log.InfoContext(ctx, "slack action", "request_id", RequestID(ctx), "action", string(req.Action),
		"slack_user", req.UserID, "responder", user.ID, "incident_id", req.IncidentID, "channel", req.ChannelID)
	text, err := a.slackAction(ctx, req, user.ID)
	var de *errkind.Error
	if errors.As(err, &de) {
		// Not found, resolved, too long: the domain's message is for the
		// person, and Slack shows anything but a 200 as a bare failure.
		writeSlack(w, slack.Escape(de.Message))
		return nil
	}
	if err != nil {
		return err
	}
	writeSlack(w, text)
	return nil
}

// slackAction carries out req for the responder actor and says what was done.
func (a *API) slackAction(ctx context.Context, req slack.Request, actor string) (string, error) {
	if req.Action == slack.ActionStatus {
		return a.slackStatus(ctx, req.Service)
	}
	id := req.IncidentID
	if id == "" {
		// The war room's incident: one GetItem of the channel's item.
		var err error
		id, err = a.svc.WarRoomIncident(ctx, req.ChannelID)
		if errors.Is(err, errkind.NotFound) {
			return "This channel is not the war room of an incident: name the incident.\n" + slack.Usage, nil
		}
		if err != nil {
			return "", fmt.Errorf("find the incident of war room %s: %w", req.ChannelID, err)
		}
	}
	switch req.Action {
	case slack.ActionAcknowledge:
		inc, err := a.svc.Acknowledge(ctx, id, actor)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is %s (acknowledged by %s): no further pages.", slackIncident(inc), inc.Status, slack.Escape(actor)), nil
	case slack.ActionResolve:
		// A one-line summary typed with resolve says what was done about it:
		// it is recorded as the fix; the root cause can follow by the API.
		inc, err := a.svc.Resolve(ctx, id, actor, incident.Resolution{Fix: req.Text})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is resolved.", slackIncident(inc)), nil
	case slack.ActionNote:
		if _, err := a.svc.AddNote(ctx, id, actor, req.Text); err != nil {
			return "", err
		}
		return fmt.Sprintf("Note added to `%s`.", id), nil
	}
	return slack.Usage, nil
}

// slackStatus lists the open incidents, of one service when given.
func (a *API) slackStatus(ctx context.Context, service string) (string, error) {
	page, err := a.svc.List(ctx, incident.Query{Status: "open", Service: service, Limit: statusLimit})
	if err != nil {
		return "", err
	}
	where := ""
	if service != "" {
		where = " on " + slack.Escape(service)
	}
	if len(page.Items) == 0 {
		return "No open incidents" + where + ".", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Open incidents%s:*", where)
	for _, inc := range page.Items {
		fmt.Fprintf(&b, "\n• %s: %s, %s", slackIncident(inc), inc.Status, slack.Escape(inc.Service))
		if inc.WarRoomChannel != "" {
			fmt.Fprintf(&b, ", <#%s>", slack.Escape(inc.WarRoomChannel))
		}
	}
	if page.NextCursor != "" {
		fmt.Fprintf(&b, "\n… and more: see `GET /incidents?status=open`.")
	}
	return b.String(), nil
}

// slackIncident names an incident in a reply: id, severity and title.
func slackIncident(inc incident.Incident) string {
	return fmt.Sprintf("`%s` [%s] %s", inc.ID, inc.Severity, slack.Escape(slack.Clip(inc.Title, maxStatusTitle)))
}

func writeSlack(w http.ResponseWriter, text string) {
	writeJSON(w, http.StatusOK, slackReply{ResponseType: "ephemeral", Text: text})
}
