package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
)

// fixtureIncidentID stands for an incident id in the events/api-*.json paths.
const fixtureIncidentID = "01jd0000000000000000000000"

// fixtureStatus is the answer each fixture gets against a table seeded with the
// dev token, service checkout (policy checkout, the README's "On-call documents")
// and one incident, with Slack's routes on (fixtureSlackSecret).
// fixtureSlackSecret turns the Slack routes on for the replay.
const fixtureSlackSecret = "fixture-signing-secret"

var fixtureStatus = map[string]int{
	"api-post-report.json":              202,
	"api-list-incidents.json":           200,
	"api-post-incident.json":            201,
	"api-get-incident.json":             200,
	"api-acknowledge.json":              200,
	"api-identify.json":                 200,
	"api-resolve.json":                  200,
	"api-note.json":                     201,
	"api-patch-incident.json":           200,
	"api-put-service.json":              200,
	"api-get-service.json":              200,
	"api-unauthorized.json":             401,
	"api-bad-body.json":                 400,
	"api-put-schedule.json":             200,
	"api-get-schedule-ics.json":         200,
	"api-put-policy.json":               200,
	"api-put-user.json":                 200,
	"api-get-oncall.json":               200,
	"web-get-metrics-dora.json":         200,
	"web-get-metrics-dora-history.json": 200,
	"web-get-status.json":               200, // a phone's browser: HTML
	// Deletes: schedule primary names alice, policy checkout names schedule
	// primary, service checkout names policy checkout; service search
	// (seeded for this) is named by nothing.
	"api-delete-user.json":     409,
	"api-delete-schedule.json": 409,
	"api-delete-policy.json":   409,
	"api-delete-service.json":  204,
	// Slack's signature covers a timestamp, so a stored request is stale by
	// the time it is replayed: refused before its body is read.
	"api-slack-command.json":     401,
	"api-slack-interaction.json": 401,
	// GitHub's deliveries, signed with fixtureGitHubSecret; repository
	// acme/search maps to service search (fixtureGitHubServices).
	"api-webhook-github-ping.json":                   202,
	"api-webhook-github-pull-request-opened.json":    202,
	"api-webhook-github-pull-request-merged.json":    202,
	"api-webhook-github-deployment-in-progress.json": 202,
	"api-webhook-github-deployment-success.json":     202,
	"api-webhook-github-deployment-failure.json":     202,
	"api-webhook-github-tampered.json":               401,
}

// fixtureGitHubSecret is the webhook secret the GitHub fixtures are signed
// with (shared/github's fixtureSecret).
const fixtureGitHubSecret = "fixture-webhook-secret"

// fixtureGitHubServices maps the fixtures' repository.
var fixtureGitHubServices = deploy.StaticServices{"acme/search": {Service: "search"}}

func fixtures(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, fn := range []string{httpapi.FunctionAPI, httpapi.FunctionWeb} {
		got, err := filepath.Glob("../../events/" + fn + "-*.json")
		if err != nil || len(got) == 0 {
			t.Fatalf("no events/%s-*.json fixtures: %v", fn, err)
		}
		files = append(files, got...)
	}
	return files
}

// loadFixture reads a fixture as an event, with the placeholder id replaced.
func loadFixture(t testing.TB, file, incidentID string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), fixtureIncidentID, incidentID))
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return ev
}

// routed reports whether Routes sends pattern to fn.
func routed(pattern, fn string) bool {
	for _, r := range httpapi.Routes() {
		if r.Pattern == pattern && r.Function == fn {
			return true
		}
	}
	return false
}

func TestReplayFixtures(t *testing.T) {
	for _, file := range fixtures(t) {
		name := filepath.Base(file)
		want, ok := fixtureStatus[name]
		if !ok {
			t.Errorf("%s has no expected status in fixtureStatus", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envOptions{slackSecret: fixtureSlackSecret})
			ctx := context.Background()
			if err := e.store.PutAPIToken(ctx, auth.LocalDevRecord(time.Now())); err != nil {
				t.Fatal(err)
			}
			seedOnCall(t, e)
			if _, err := e.svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "inventory"}); err != nil {
				t.Fatal(err)
			}
			id := e.declare(t)
			ev := loadFixture(t, file, id)
			// An api event comes through $default, a web one through its
			// route (the route key API Gateway sends is the table's pattern).
			h, wantKey := e.api, "$default"
			if strings.HasPrefix(name, httpapi.FunctionWeb+"-") {
				h, wantKey = e.web, ev.RequestContext.HTTP.Method+" "+ev.RequestContext.HTTP.Path
				if !routed(wantKey, httpapi.FunctionWeb) {
					t.Errorf("%s: %s is not a route of the web function in httpapi.Routes", name, wantKey)
				}
			}
			if ev.Version != "2.0" || ev.RouteKey != wantKey || ev.RequestContext.HTTP.Method == "" || ev.RequestContext.RequestID == "" {
				t.Errorf("got version %q routeKey %q method %q requestId %q, want a payload 2.0 %s event", ev.Version, ev.RouteKey, ev.RequestContext.HTTP.Method, ev.RequestContext.RequestID, wantKey)
			}
			res, err := httpapi.NewLambda(h, e.logger).Handle(ctx, ev)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var body map[string]any
			if ct := res.Headers["Content-Type"]; res.StatusCode == http.StatusNoContent {
				if res.Body != "" {
					t.Errorf("got 204 with body %q, want none", res.Body)
				}
			} else if strings.HasPrefix(ct, "text/html") {
				if !strings.HasPrefix(res.Body, "<!doctype html>") {
					t.Errorf("got %s body %q, want a page", ct, res.Body)
				}
			} else if !strings.HasPrefix(ct, "text/calendar") {
				if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
					t.Fatalf("got body %q: %v", res.Body, err)
				}
			} else if !strings.HasPrefix(res.Body, "BEGIN:VCALENDAR") {
				t.Errorf("got %s body %q, want a calendar", ct, res.Body)
			}
			if res.StatusCode != want {
				t.Errorf("got %d %s, want %d", res.StatusCode, res.Body, want)
			}
			if got := res.Headers["X-Request-Id"]; got != ev.RequestContext.RequestID {
				t.Errorf("got X-Request-Id %q, want API Gateway's %q", got, ev.RequestContext.RequestID)
			}
		})
	}
	for name := range fixtureStatus {
		if _, err := os.Stat(filepath.Join("../../events", name)); err != nil {
			t.Errorf("fixture %s is missing: %v", name, err)
		}
	}
}
