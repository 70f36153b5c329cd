package slack

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
)

// interactionFixture is testdata/block_actions.json, a click on Acknowledge.
func interactionFixture(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/block_actions.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// interactionBody encodes payload as Slack posts it: a form with one field.
func interactionBody(t testing.TB, payload any) []byte {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

func TestParseInteraction(t *testing.T) {
	base := Request{
		UserID: "U2CERLKJA", UserName: "roadrunner", TeamID: "T1DC2JH3J", ChannelID: "C0123ABCDEF",
		ResponseURL: "https://hooks.slack.com/actions/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN",
		MessageTS:   "1700000000.000100", IncidentID: incID,
	}
	withAction := func(a Action) Request { r := base; r.Action = a; return r }
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   Request
	}{
		{"acknowledge button", func(map[string]any) {}, withAction(ActionAcknowledge)},
		{"resolve button", func(m map[string]any) {
			action(m)["action_id"] = "incident_resolve"
		}, withAction(ActionResolve)},
		{"id in capitals", func(m map[string]any) {
			action(m)["value"] = strings.ToUpper(incID)
		}, withAction(ActionAcknowledge)},
		{"channel only in the container", func(m map[string]any) {
			delete(m, "channel")
		}, withAction(ActionAcknowledge)},
		{"another app's action first", func(m map[string]any) {
			m["actions"] = append([]any{map[string]any{"action_id": "open_runbook", "value": "x"}}, m["actions"].([]any)...)
		}, withAction(ActionAcknowledge)},
		{"response url elsewhere is dropped", func(m map[string]any) {
			m["response_url"] = "https://example.com/hook"
		}, func() Request { r := withAction(ActionAcknowledge); r.ResponseURL = ""; return r }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := interactionFixture(t)
			tt.change(m)
			got, err := ParseInteraction(interactionBody(t, m))
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func action(m map[string]any) map[string]any { return m["actions"].([]any)[0].(map[string]any) }

func TestParseInteractionRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   error
	}{
		{"a modal submission", func(m map[string]any) { m["type"] = "view_submission" }, ErrUnsupported},
		{"a shortcut", func(m map[string]any) { m["type"] = "shortcut" }, ErrUnsupported},
		{"someone else's button", func(m map[string]any) { action(m)["action_id"] = "approve_deploy" }, ErrUnsupported},
		{"no actions", func(m map[string]any) { m["actions"] = []any{} }, ErrUnsupported},
		{"value that is no incident id", func(m map[string]any) { action(m)["value"] = "../../admin" }, ErrMalformed},
		{"no user", func(m map[string]any) { delete(m, "user") }, ErrMalformed},
		{"user id that is no slack id", func(m map[string]any) { m["user"].(map[string]any)["id"] = "u-1 OR 1=1" }, ErrMalformed},
		{"no channel at all", func(m map[string]any) { delete(m, "channel"); delete(m, "container") }, ErrMalformed},
		{"actions of the wrong type", func(m map[string]any) { m["actions"] = "incident_ack" }, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := interactionFixture(t)
			tt.change(m)
			_, err := ParseInteraction(interactionBody(t, m))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseInteractionMalformedBody(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"no payload field", "type=block_actions"},
		{"payload not json", "payload=%7Bnot+json"},
		{"json body instead of a form", `{"type":"block_actions"}`},
		{"bad escape", "payload=%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInteraction([]byte(tt.body))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}
