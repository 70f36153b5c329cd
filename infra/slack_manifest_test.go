package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/httpapi"
)

// The Slack app manifest (README, "First deploy") points Slack at the routes
// the api function serves, with the scopes the Slack client needs
// (shared/slack: chat.postMessage, chat.update, conversations.create,
// conversations.setTopic, conversations.invite) and no more.
func TestSlackManifest(t *testing.T) {
	b, err := os.ReadFile("slack-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	urls := regexp.MustCompile(`(?m)^\s*(?:url|request_url): (\S+)$`).FindAllStringSubmatch(doc, -1)
	var got []string
	for _, m := range urls {
		got = append(got, m[1])
	}
	want := []string{"https://api.example.com/slack/commands", "https://api.example.com/slack/interactions"}
	if !slices.Equal(got, want) {
		t.Errorf("request URLs: got %v, want %v", got, want)
	}
	// Slack's routes reach the api function (API Gateway's $default): no
	// route of the table sends them elsewhere.
	for _, r := range httpapi.Routes() {
		if strings.Contains(r.Pattern, "/slack/") && r.Function != httpapi.FunctionAPI {
			t.Errorf("route %s goes to %s, want the api function", r.Pattern, r.Function)
		}
	}
	scopes := regexp.MustCompile(`(?m)^\s*bot:\n((?:\s+- \S+\n)+)`).FindStringSubmatch(doc)
	if scopes == nil {
		t.Fatal("no bot scopes")
	}
	var gotScopes []string
	for _, l := range strings.Split(strings.TrimSpace(scopes[1]), "\n") {
		gotScopes = append(gotScopes, strings.TrimPrefix(strings.TrimSpace(l), "- "))
	}
	if want := []string{"chat:write", "channels:manage", "commands"}; !slices.Equal(gotScopes, want) {
		t.Errorf("bot scopes: got %v, want %v", gotScopes, want)
	}
	if !strings.Contains(doc, "command: /incident") || !strings.Contains(doc, "is_enabled: true") {
		t.Error("want the /incident command and interactivity on")
	}
}
