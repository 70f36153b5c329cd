package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/slack"
)

const (
	slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	aliceSlack  = "U0ALICE01"
	// war room of the incident in slackEnv.
	warRoom = "C0WARROOM1"
)

// slackEnv is an API with Slack on, responder alice linked to aliceSlack, and
// one open incident on checkout.
func slackEnv(t testing.TB) (*env, string) {
	t.Helper()
	e := newEnv(t, envOptions{slackSecret: slackSecret})
	if _, err := e.svc.PutServiceConfig(context.Background(), incident.ServiceConfig{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	if res := e.do(t, req{method: "PUT", path: "/users/alice", token: "oncall-writer",
		body: `{"name":"Alice","slack_user_id":"` + aliceSlack + `"}`}); res.status != http.StatusOK {
		t.Fatalf("PUT /users/alice: got %d %s, want 200", res.status, res.body)
	}
	return e, e.declare(t)
}

// signedSlack sends body to path signed with secret at time at.
func (e *env) signedSlack(t testing.TB, path, body, secret string, at time.Time) response {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	return e.do(t, req{method: "POST", path: path, body: body, contentType: "application/x-www-form-urlencoded",
		header: map[string]string{slack.HeaderTimestamp: ts, slack.HeaderSignature: slack.Sign(secret, ts, []byte(body))}})
}

func (e *env) slackCommand(t testing.TB, user, channel, text string) response {
	t.Helper()
	return e.signedSlack(t, "/slack/commands", commandBody(user, channel, text), slackSecret, time.Now())
}

func (e *env) slackButton(t testing.TB, user, actionID, incidentID string) response {
	t.Helper()
	return e.signedSlack(t, "/slack/interactions", buttonBody(user, actionID, incidentID), slackSecret, time.Now())
}

func commandBody(user, channel, text string) string {
	return url.Values{
		"token": {"legacy"}, "team_id": {"T0TEAM0001"}, "channel_id": {channel}, "user_id": {user},
		"user_name": {"alice"}, "command": {"/incident"}, "text": {text},
		"response_url": {"https://hooks.slack.com/commands/T0TEAM0001/1/abc"},
	}.Encode()
}

func buttonBody(user, actionID, incidentID string) string {
	payload, _ := json.Marshal(map[string]any{
		"type":      "block_actions",
		"user":      map[string]string{"id": user, "username": "alice"},
		"team":      map[string]string{"id": "T0TEAM0001"},
		"channel":   map[string]string{"id": "C0PAGES001"},
		"container": map[string]string{"channel_id": "C0PAGES001", "message_ts": "1795521840.000100"},
		"actions":   []map[string]string{{"action_id": actionID, "value": incidentID}},
	})
	return url.Values{"payload": {string(payload)}}.Encode()
}

// ephemeral checks that res is Slack's 200 ephemeral reply and returns its text.
func ephemeral(t testing.TB, res response) string {
	t.Helper()
	if res.status != http.StatusOK || res.str("response_type") != "ephemeral" {
		t.Fatalf("got %d %s, want 200 with an ephemeral reply", res.status, res.body)
	}
	if v, ok := res.json["replace_original"].(bool); !ok || v {
		t.Errorf("got replace_original %v, want false", res.json["replace_original"])
	}
	return res.str("text")
}

// incidentState returns the incident's status and its timeline entries of kind.
func incidentState(t testing.TB, e *env, id string, kind incident.EntryKind) (incident.Status, []incident.Entry, incident.Incident) {
	t.Helper()
	inc, tl, _, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []incident.Entry
	for _, en := range tl {
		if en.Kind == kind {
			out = append(out, en)
		}
	}
	return inc.Status, out, inc
}

func TestSlackSignature(t *testing.T) {
	e, id := slackEnv(t)
	body := buttonBody(aliceSlack, slack.ActionIDAcknowledge, id)
	now := time.Now()
	tests := []struct {
		name   string
		body   string // sent; signed is body
		secret string
		at     time.Time
		want   int
		reason string // in the log
	}{
		{"tampered body", strings.Replace(body, "incident_ack", "incident_resolve", 1), slackSecret, now, 401, "does not match"},
		{"wrong secret", body, "another-secret", now, 401, "does not match"},
		{"stale", body, slackSecret, now.Add(-6 * time.Minute), 401, "outside the 5-minute window"},
		{"from the future", body, slackSecret, now.Add(6 * time.Minute), 401, "outside the 5-minute window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := strconv.FormatInt(tt.at.Unix(), 10)
			res := e.do(t, req{method: "POST", path: "/slack/interactions", body: tt.body, contentType: "application/x-www-form-urlencoded",
				header: map[string]string{slack.HeaderTimestamp: ts, slack.HeaderSignature: slack.Sign(tt.secret, ts, []byte(body))}})
			if res.status != tt.want || res.errorCode() != "unauthorized" {
				t.Errorf("got %d %s, want %d unauthorized", res.status, res.body, tt.want)
			}
			if !strings.Contains(e.logs.String(), tt.reason) {
				t.Errorf("log does not say %q: %s", tt.reason, e.logs)
			}
		})
	}
	t.Run("no signature", func(t *testing.T) {
		res := e.do(t, req{method: "POST", path: "/slack/commands", body: commandBody(aliceSlack, warRoom, "ack "+id),
			contentType: "application/x-www-form-urlencoded"})
		if res.status != http.StatusUnauthorized {
			t.Errorf("got %d %s, want 401", res.status, res.body)
		}
	})
	if st, acks, _ := incidentState(t, e, id, incident.EntryAcknowledged); st != incident.StatusTriggered || len(acks) != 0 {
		t.Fatalf("after refused requests: got status %s with %d acknowledgements, want triggered and none", st, len(acks))
	}
	t.Run("valid", func(t *testing.T) {
		ephemeral(t, e.signedSlack(t, "/slack/interactions", body, slackSecret, now))
		if st, _, _ := incidentState(t, e, id, incident.EntryAcknowledged); st != incident.StatusAcknowledged {
			t.Errorf("got status %s, want acknowledged", st)
		}
	})
}

func TestSlackRoutesAbsentWithoutSecret(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, path := range []string{"/slack/commands", "/slack/interactions"} {
		res := e.signedSlack(t, path, commandBody(aliceSlack, warRoom, "help"), "", time.Now())
		if res.status != http.StatusNotFound {
			t.Errorf("%s: got %d %s, want 404", path, res.status, res.body)
		}
	}
}

func TestSlackUnknownUserDoesNothing(t *testing.T) {
	e, id := slackEnv(t)
	for name, res := range map[string]response{
		"button":  e.slackButton(t, "U0STRANGER", slack.ActionIDAcknowledge, id),
		"command": e.slackCommand(t, "U0STRANGER", warRoom, "resolve "+id+" done"),
	} {
		text := ephemeral(t, res)
		if !strings.Contains(text, "PUT /users/{id}") || !strings.Contains(text, "slack_user_id") || !strings.Contains(text, "U0STRANGER") {
			t.Errorf("%s: got %q, want how to link U0STRANGER", name, text)
		}
	}
	if st, _, _ := incidentState(t, e, id, incident.EntryAcknowledged); st != incident.StatusTriggered {
		t.Errorf("got status %s, want triggered: an unknown user changes nothing", st)
	}
}

func TestSlackAcknowledge(t *testing.T) {
	for _, how := range []string{"button", "command"} {
		t.Run(how, func(t *testing.T) {
			e, id := slackEnv(t)
			send := func() response {
				if how == "button" {
					return e.slackButton(t, aliceSlack, slack.ActionIDAcknowledge, id)
				}
				return e.slackCommand(t, aliceSlack, "C0ELSEWHER", "ack "+strings.ToUpper(id))
			}
			first := ephemeral(t, send())
			if !strings.Contains(first, id) || !strings.Contains(first, "acknowledged") {
				t.Errorf("got %q, want a confirmation naming %s", first, id)
			}
			// A double click: the second is a no-op answered the same way.
			second := ephemeral(t, send())
			if second != first {
				t.Errorf("second: got %q, want %q", second, first)
			}
			st, acks, inc := incidentState(t, e, id, incident.EntryAcknowledged)
			if st != incident.StatusAcknowledged || inc.AcknowledgedAt == nil {
				t.Errorf("got status %s acknowledged_at %v, want acknowledged", st, inc.AcknowledgedAt)
			}
			if len(acks) != 1 || acks[0].Actor != "alice" {
				t.Fatalf("got acknowledgements %+v, want one by alice", acks)
			}
		})
	}
}

func TestSlackResolveNoteStatus(t *testing.T) {
	e, id := slackEnv(t)
	if _, err := e.svc.SetWarRoom(context.Background(), id, "warroom", warRoom, "inc-20261124-abc-checkout"); err != nil {
		t.Fatal(err)
	}
	other, err := e.svc.Declare(context.Background(), incident.Declaration{Service: "checkout", Title: "Refunds <!channel> slow", Actor: "bob"})
	if err != nil {
		t.Fatal(err)
	}

	// Without an id, the war room's incident is meant.
	if text := ephemeral(t, e.slackCommand(t, aliceSlack, warRoom, "note   rollback of 1.42\nstarted")); !strings.Contains(text, id) {
		t.Errorf("note: got %q, want it to name %s", text, id)
	}
	_, notes, _ := incidentState(t, e, id, incident.EntryNote)
	if len(notes) != 1 || notes[0].Actor != "alice" || notes[0].Text != "rollback of 1.42\nstarted" {
		t.Errorf("got notes %+v, want alice's note", notes)
	}
	if _, notes, _ := incidentState(t, e, other.ID, incident.EntryNote); len(notes) != 0 {
		t.Errorf("got notes on the other incident %+v, want none", notes)
	}

	status := ephemeral(t, e.slackCommand(t, aliceSlack, "C0ELSEWHER", "status checkout"))
	for _, want := range []string{id, other.ID, "<#" + warRoom + ">", "Refunds &lt;!channel&gt; slow"} {
		if !strings.Contains(status, want) {
			t.Errorf("status: got %q, want it to contain %q", status, want)
		}
	}
	if text := ephemeral(t, e.slackCommand(t, aliceSlack, "C0ELSEWHER", "status payments")); text != "No open incidents on payments." {
		t.Errorf("status payments: got %q, want none", text)
	}

	// Outside a war room, a command without id says how to name one.
	if text := ephemeral(t, e.slackCommand(t, aliceSlack, "C0ELSEWHER", "ack")); !strings.Contains(text, "not the war room") {
		t.Errorf("ack outside a war room: got %q, want an explanation", text)
	}
	if st, _, _ := incidentState(t, e, id, incident.EntryAcknowledged); st != incident.StatusTriggered {
		t.Errorf("got status %s, want triggered", st)
	}

	if text := ephemeral(t, e.slackCommand(t, aliceSlack, warRoom, "resolve rolled back to 1.41")); !strings.Contains(text, "resolved") {
		t.Errorf("resolve: got %q", text)
	}
	st, resolved, inc := incidentState(t, e, id, incident.EntryResolved)
	if st != incident.StatusResolved || len(resolved) != 1 || resolved[0].Actor != "alice" || inc.Fix != "rolled back to 1.41" {
		t.Errorf("got status %s fix %q entries %+v, want resolved by alice with the summary as fix", st, inc.Fix, resolved)
	}

	// Resolved, the incident is still its war room's: a note typed there
	// lands on it (for the post-mortem), and acknowledging it, there or by
	// id, is a conflict told to the person.
	if text := ephemeral(t, e.slackCommand(t, aliceSlack, warRoom, "note cache warmed after the rollback")); !strings.Contains(text, id) {
		t.Errorf("note after resolve: got %q, want it to name %s", text, id)
	}
	if _, notes, _ := incidentState(t, e, id, incident.EntryNote); len(notes) != 2 {
		t.Errorf("got notes %+v, want the note after the resolve too", notes)
	}
	if text := ephemeral(t, e.slackCommand(t, aliceSlack, warRoom, "ack")); !strings.Contains(text, "resolved") {
		t.Errorf("ack in the war room of a resolved incident: got %q, want it to say it is resolved", text)
	}
	if text := ephemeral(t, e.slackButton(t, aliceSlack, slack.ActionIDAcknowledge, id)); !strings.Contains(text, "resolved") {
		t.Errorf("ack of a resolved incident: got %q, want it to say it is resolved", text)
	}
	if text := ephemeral(t, e.slackButton(t, aliceSlack, slack.ActionIDResolve, other.ID)); !strings.Contains(text, "resolved") {
		t.Errorf("resolve button: got %q", text)
	}
	if text := ephemeral(t, e.slackCommand(t, aliceSlack, warRoom, "status")); text != "No open incidents." {
		t.Errorf("status: got %q, want none open", text)
	}
}

func TestSlackBadRequests(t *testing.T) {
	e, id := slackEnv(t)
	tests := []struct {
		name, path, body string
		wantStatus       int
		wantText         string // in the ephemeral reply; "" for none
		wantCode         string
	}{
		{"help", "/slack/commands", commandBody("U0STRANGER", warRoom, "help"), 200, "Usage:", ""},
		{"usage error", "/slack/commands", commandBody(aliceSlack, warRoom, "page everyone"), 200, "Unknown command", ""},
		{"unknown incident", "/slack/commands", commandBody(aliceSlack, warRoom, "ack 01jd0000000000000000000000"), 200, "not found", ""},
		{"malformed command", "/slack/commands", "command=%2Fincident&user_id=lower&channel_id=C1", 400, "", "malformed_payload"},
		{"malformed interaction", "/slack/interactions", "payload=%7Bnot+json", 400, "", "malformed_payload"},
		{"bad id in a button", "/slack/interactions", buttonBody(aliceSlack, slack.ActionIDAcknowledge, "nope"), 400, "", "malformed_payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.signedSlack(t, tt.path, tt.body, slackSecret, time.Now())
			if tt.wantStatus == 200 {
				if text := ephemeral(t, res); !strings.Contains(text, tt.wantText) {
					t.Errorf("got %q, want it to contain %q", text, tt.wantText)
				}
				return
			}
			if res.status != tt.wantStatus || res.errorCode() != tt.wantCode {
				t.Errorf("got %d %s, want %d %s", res.status, res.body, tt.wantStatus, tt.wantCode)
			}
		})
	}

	// Another app's button: 200, empty, nothing done.
	body := buttonBody(aliceSlack, "other_app_button", id)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	hr := httptest.NewRequest("POST", "/slack/interactions", strings.NewReader(body))
	hr.Header.Set(slack.HeaderTimestamp, ts)
	hr.Header.Set(slack.HeaderSignature, slack.Sign(slackSecret, ts, []byte(body)))
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, hr)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("unsupported: got %d %q, want 200 and no body", rec.Code, rec.Body)
	}
	if st, _, _ := incidentState(t, e, id, incident.EntryAcknowledged); st != incident.StatusTriggered {
		t.Errorf("got status %s, want triggered", st)
	}
}

// FuzzSlackCommand sends signed command bodies through the real handler:
// whatever the text, the answer is a 200 ephemeral reply or a 4xx error, and
// only a linked user's command changes anything.
func FuzzSlackCommand(f *testing.F) {
	e, id := slackEnv(f)
	for _, s := range []string{"help", "ack", "ack " + id, "resolve " + id + " fixed", "note hello", "note " + id + " <@U1> &amp;",
		"status", "status checkout", "status Bad Name", "ack 01JD00000000000000000000ZZ", "\x00\xff", strings.Repeat("note ", 900)} {
		f.Add(aliceSlack, warRoom, s)
	}
	f.Add("U0STRANGER", "C0ELSEWHER", "ack "+id)
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, user, channel, text string) {
		body := commandBody(user, channel, text)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		hr := httptest.NewRequest("POST", "/slack/commands", strings.NewReader(body))
		hr.Header.Set(slack.HeaderTimestamp, ts)
		hr.Header.Set(slack.HeaderSignature, slack.Sign(slackSecret, ts, []byte(body)))
		rec := httptest.NewRecorder()
		e.api.ServeHTTP(rec, hr)
		checkAnswer(t, "command "+strconv.Quote(text), rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
		if rec.Code == http.StatusOK {
			var reply struct {
				ResponseType string `json:"response_type"`
				Text         string `json:"text"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || reply.ResponseType != "ephemeral" || reply.Text == "" {
				t.Fatalf("got 200 %s, want an ephemeral reply with text", rec.Body)
			}
		}
	})
}

// The store maps Slack users, so Config.SlackUsers defaults to OnCall.
var _ httpapi.SlackUsers = (*dynamo.Store)(nil)

// The Slack fixtures, signed afresh, are requests the handler reads: through
// the Lambda adapter, a base64 form body reaches the action.
func TestSlackFixturesSignedNow(t *testing.T) {
	for _, name := range []string{"api-slack-command.json", "api-slack-interaction.json"} {
		t.Run(name, func(t *testing.T) {
			e, id := slackEnv(t)
			if res := e.do(t, req{method: "PUT", path: "/users/alice", token: "oncall-writer",
				body: `{"name":"Alice","slack_user_id":"U2147483697"}`}); res.status != http.StatusOK {
				t.Fatalf("link alice: got %d %s", res.status, res.body)
			}
			ev := loadFixture(t, "../../events/"+name, id)
			body, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil || !ev.IsBase64Encoded {
				t.Fatalf("got body base64=%v (%v), want a base64 form body as API Gateway sends it", ev.IsBase64Encoded, err)
			}
			// loadFixture cannot see the placeholder id inside base64.
			body = []byte(strings.ReplaceAll(string(body), fixtureIncidentID, id))
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			ev.Headers["x-slack-request-timestamp"] = ts
			ev.Headers["x-slack-signature"] = slack.Sign(slackSecret, ts, body)
			res, err := httpapi.NewLambda(e.api, e.logger).Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"ephemeral"`) {
				t.Fatalf("got %d %s, want 200 ephemeral", res.StatusCode, res.Body)
			}
			if st, acks, _ := incidentState(t, e, id, incident.EntryAcknowledged); st != incident.StatusAcknowledged || len(acks) != 1 || acks[0].Actor != "alice" {
				t.Errorf("got status %s acknowledgements %+v, want acknowledged by alice", st, acks)
			}
		})
	}
}
