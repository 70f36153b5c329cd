package github

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/errkind"
)

var fixtureServices = deploy.StaticServices{"acme/search": {Service: "search"}}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

const mergeCommit = "e83c5163316f89bfbde7d9ab23ca2e25604af290"

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		name       string
		want       Delivery
		wantIgnore string
	}{
		{name: "api-webhook-github-pull-request-opened.json", want: Delivery{ID: "6f0c9a80-a9c2-11f1-8b7e-1e4d2c3b5a69", Event: "pull_request", Action: "opened", Repository: "acme/search",
			PullRequest: &PullRequest{Service: "search", Repository: "acme/search", Number: 214, Change: deploy.Change{PRCreatedAt: at("2026-11-23T14:02:51Z")}}}},
		{name: "api-webhook-github-pull-request-merged.json", want: Delivery{ID: "0d4b8e12-a9c8-11f1-9a3d-7c2e5f1b8d40", Event: "pull_request", Action: "closed", Repository: "acme/search",
			PullRequest: &PullRequest{Service: "search", Repository: "acme/search", Number: 214, Merged: true,
				Change: deploy.Change{PRCreatedAt: at("2026-11-23T14:02:51Z"), PRMergedAt: at("2026-11-24T08:41:09Z"), CommitSHA: mergeCommit}}}},
		{name: "api-webhook-github-deployment-in-progress.json", want: Delivery{ID: "2e7a1f30-a9c9-11f1-8d4c-3a9b6e2f1c57", Event: "deployment_status", Action: "created", Repository: "acme/search",
			Deployment: &deploy.Record{ID: "github:1843920561", Service: "search", Environment: "production", Version: "main", CommitSHA: mergeCommit,
				Status: deploy.Started, StartedAt: at("2026-11-24T08:47:30Z")}}},
		{name: "api-webhook-github-deployment-success.json", want: Delivery{ID: "5b3c9d64-a9ca-11f1-92f1-8e1d4a7c3b26", Event: "deployment_status", Action: "created", Repository: "acme/search",
			Deployment: &deploy.Record{ID: "github:1843920561", Service: "search", Environment: "production", Version: "main", CommitSHA: mergeCommit,
				Status: deploy.Succeeded, StartedAt: at("2026-11-24T08:47:30Z"), FinishedAt: at("2026-11-24T08:55:02Z")}}},
		{name: "api-webhook-github-deployment-failure.json", want: Delivery{ID: "9a2e4c18-a9f5-11f1-8c6b-2d5f8a1e4b73", Event: "deployment_status", Action: "created", Repository: "acme/search",
			Deployment: &deploy.Record{ID: "github:1843977312", Service: "search", Environment: "production", Version: "main", CommitSHA: "5d41402abc4b2a76b9719d911017c592ae1b3f07",
				Status: deploy.Failed, StartedAt: at("2026-11-24T15:10:12Z"), FinishedAt: at("2026-11-24T15:16:40Z")}}},
		{name: "api-webhook-github-ping.json", want: Delivery{ID: "c41f2b06-a6b1-11f1-9e2a-6b3d1f8c5e92", Event: "ping"}, wantIgnore: "ping: the webhook is set up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, body := readFixture(t, tt.name)
			if err := Verify(fixtureSecret, header, body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := Parse(context.Background(), header, body, fixtureServices)
			if tt.wantIgnore != "" {
				if !errors.Is(err, deploy.ErrIgnored) || !strings.Contains(err.Error(), tt.wantIgnore) {
					t.Fatalf("got %v, want ignored for %q", err, tt.wantIgnore)
				}
			} else if err != nil {
				t.Fatalf("got error %v", err)
			}
			checkDelivery(t, got, tt.want)
		})
	}
}

func checkDelivery(t *testing.T, got, want Delivery) {
	t.Helper()
	if got.ID != want.ID || got.Event != want.Event || got.Action != want.Action || got.Repository != want.Repository {
		t.Errorf("got delivery %s %s %s %s, want %s %s %s %s", got.ID, got.Event, got.Action, got.Repository, want.ID, want.Event, want.Action, want.Repository)
	}
	switch {
	case (got.Deployment == nil) != (want.Deployment == nil):
		t.Errorf("got deployment %+v, want %+v", got.Deployment, want.Deployment)
	case got.Deployment != nil && !got.Deployment.Equal(*want.Deployment):
		t.Errorf("got deployment %+v, want %+v", *got.Deployment, *want.Deployment)
	}
	switch {
	case (got.PullRequest == nil) != (want.PullRequest == nil):
		t.Errorf("got pull request %+v, want %+v", got.PullRequest, want.PullRequest)
	case got.PullRequest != nil:
		g, w := *got.PullRequest, *want.PullRequest
		if g.Service != w.Service || g.Environment != w.Environment || g.Repository != w.Repository || g.Number != w.Number || g.Merged != w.Merged ||
			g.Change.CommitSHA != w.Change.CommitSHA || !g.Change.PRCreatedAt.Equal(w.Change.PRCreatedAt) || !g.Change.PRMergedAt.Equal(w.Change.PRMergedAt) {
			t.Errorf("got pull request %+v, want %+v", g, w)
		}
	}
}

// The deployment's statuses, each delivered several times and in any order,
// leave one record; the merged pull request's commit is the one it shipped.
func TestDeploymentRedeliveries(t *testing.T) {
	parse := func(name string) deploy.Record {
		header, body := readFixture(t, name)
		d, err := Parse(context.Background(), header, body, fixtureServices)
		if err != nil || d.Deployment == nil {
			t.Fatalf("%s: got %+v, %v", name, d, err)
		}
		return *d.Deployment
	}
	progress, success := parse("api-webhook-github-deployment-in-progress.json"), parse("api-webhook-github-deployment-success.json")
	for _, order := range [][]deploy.Record{{progress, success}, {success, progress}, {success, success, progress, progress, success}} {
		var stored deploy.Record
		for _, r := range order {
			stored, _ = deploy.Merge(stored, r)
			if again, changed := deploy.Merge(stored, r); changed {
				t.Fatalf("a replay changed %+v to %+v", stored, again)
			}
		}
		if !stored.Equal(success) {
			t.Errorf("got %+v, want %+v", stored, success)
		}
	}
	header, body := readFixture(t, "api-webhook-github-pull-request-merged.json")
	d, err := Parse(context.Background(), header, body, fixtureServices)
	if err != nil || d.PullRequest.Change.CommitSHA != success.CommitSHA {
		t.Errorf("merged pull request: got %+v, %v; want its merge commit %s deployed", d.PullRequest, err, success.CommitSHA)
	}
}

func TestTamperedFixture(t *testing.T) {
	header, body := readFixture(t, "api-webhook-github-tampered.json")
	if err := Verify(fixtureSecret, header, body); !errors.Is(err, ErrBadSignature) {
		t.Errorf("got %v, want ErrBadSignature", err)
	}
}

func TestParseRefused(t *testing.T) {
	hdr := func(event, delivery string) http.Header {
		h := http.Header{}
		if event != "" {
			h.Set(HeaderEvent, event)
		}
		if delivery != "" {
			h.Set(HeaderDelivery, delivery)
		}
		return h
	}
	const id = "0d4b8e12-a9c8-11f1-9a3d-7c2e5f1b8d40"
	pr := func(action, extra string) string {
		return `{"action":"` + action + `","number":7,"repository":{"full_name":"acme/search"},"pull_request":{"number":7,"created_at":"2026-11-23T14:02:51Z"` + extra + `}}`
	}
	status := func(state, env, extra string) string {
		return `{"action":"created","repository":{"full_name":"acme/search"},"deployment_status":{"state":"` + state + `","created_at":"2026-11-24T08:55:02Z"},` +
			`"deployment":{"id":99,"sha":"abcdef0","ref":"v1.2.0","environment":"` + env + `","created_at":"2026-11-24T08:47:30Z"` + extra + `}}`
	}
	tests := []struct {
		name     string
		header   http.Header
		body     string
		services deploy.ServiceResolver
		wantKind error
		want     string
	}{
		{"no event header", hdr("", id), `{}`, fixtureServices, errkind.Invalid, "no X-GitHub-Event header"},
		{"no delivery header", hdr("pull_request", ""), `{}`, fixtureServices, errkind.Invalid, "no X-GitHub-Delivery header"},
		{"bad delivery id", hdr("pull_request", "a b"), `{}`, fixtureServices, errkind.Invalid, `X-GitHub-Delivery "a b" is not a delivery id`},
		{"push", hdr("push", id), `{}`, fixtureServices, deploy.ErrIgnored, `event "push" records nothing`},
		{"not JSON", hdr("pull_request", id), `{`, fixtureServices, errkind.Invalid, "read pull_request delivery"},
		{"no pull request", hdr("pull_request", id), `{"action":"opened"}`, fixtureServices, errkind.Invalid, "has no pull_request"},
		{"labeled", hdr("pull_request", id), pr("labeled", ""), fixtureServices, deploy.ErrIgnored, `action "labeled" records nothing`},
		{"closed unmerged", hdr("pull_request", id), pr("closed", `,"merged":false`), fixtureServices, deploy.ErrIgnored, `"acme/search"#7 was closed without merging`},
		{"merged without sha", hdr("pull_request", id), pr("closed", `,"merged":true,"merged_at":"2026-11-24T08:41:09Z"`), fixtureServices, errkind.Invalid, "no merged_at or merge_commit_sha"},
		{"merged with a bad sha", hdr("pull_request", id), pr("closed", `,"merged":true,"merged_at":"2026-11-24T08:41:09Z","merge_commit_sha":"zz"`), fixtureServices, errkind.Invalid, `change.commit_sha "zz"`},
		{"unmapped repository", hdr("pull_request", id), pr("opened", ""), deploy.StaticServices{}, deploy.ErrIgnored, `repository "acme/search" maps to no service`},
		{"no deployment", hdr("deployment_status", id), `{"deployment_status":{"state":"success"}}`, fixtureServices, errkind.Invalid, "has no deployment_status or deployment"},
		{"inactive", hdr("deployment_status", id), status("inactive", "production", ""), fixtureServices, deploy.ErrIgnored, "deployment 99 is inactive"},
		{"unknown state", hdr("deployment_status", id), status("exploded", "production", ""), fixtureServices, deploy.ErrIgnored, `status "exploded" records nothing`},
		{"bad deployment id", hdr("deployment_status", id), strings.Replace(status("success", "production", ""), `"id":99`, `"id":-1`, 1), fixtureServices, errkind.Invalid, "is not a positive integer"},
		{"finished before started", hdr("deployment_status", id), strings.Replace(status("success", "production", ""), `"created_at":"2026-11-24T08:55:02Z"`, `"created_at":"2026-11-24T08:00:00Z"`, 1), fixtureServices, nil, ""},
		{"an environment without a usable name", hdr("deployment_status", id), status("success", "🚀", ""), fixtureServices, deploy.ErrIgnored, "has no usable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), tt.header, []byte(tt.body), tt.services)
			if tt.wantKind == nil {
				if err != nil {
					t.Fatalf("got %v, want none", err)
				}
				return
			}
			if !errors.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %+v, %v; want %v containing %q", got, err, tt.wantKind, tt.want)
			}
		})
	}
}

func TestDeploymentEnvironment(t *testing.T) {
	body := func(env string) []byte {
		return []byte(`{"action":"created","repository":{"full_name":"acme/monorepo"},"deployment_status":{"state":"success","created_at":"2026-11-24T08:55:02Z"},` +
			`"deployment":{"id":5,"sha":"abcdef0","ref":"main","environment":"` + env + `","created_at":"2026-11-24T08:47:30Z"}}`)
	}
	services := deploy.StaticServices{
		"acme/monorepo":                    {Service: "web"},
		"acme/monorepo@payments-live":      {Service: "payments", Environment: "production"},
		"acme/monorepo@Payments Staging 2": {Service: "payments"},
	}
	tests := []struct{ env, wantService, wantEnv string }{
		{"Production", "web", "production"},
		{"payments-live", "payments", "production"},
		{"Payments Staging 2", "payments", "payments-staging-2"},
		{"EU / West", "web", "eu-west"},
		{"", "web", "production"},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set(HeaderEvent, EventDeploymentStatus)
		h.Set(HeaderDelivery, "d-1")
		d, err := Parse(context.Background(), h, body(tt.env), services)
		if err != nil {
			t.Errorf("environment %q: %v", tt.env, err)
			continue
		}
		if d.Deployment.Service != tt.wantService || d.Deployment.Environment != tt.wantEnv {
			t.Errorf("environment %q: got %s in %s, want %s in %s", tt.env, d.Deployment.Service, d.Deployment.Environment, tt.wantService, tt.wantEnv)
		}
	}
}
