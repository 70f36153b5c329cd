package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/httpapi"
)

const deployBody = `{"id":"gha-9182-1","service":"payments","version":"v1.4.2","commit_sha":"a1b2c3d","status":"succeeded",
	"started_at":"2026-11-24T09:00:00Z","finished_at":"2026-11-24T09:12:00Z",
	"pr_created_at":"2026-11-23T15:00:00Z","pr_merged_at":"2026-11-24T08:30:00Z"}`

func TestPostDeployment(t *testing.T) {
	e := newEnv(t, envOptions{})
	first := e.do(t, req{method: "POST", path: "/deployments", token: "deployer", body: deployBody})
	if first.status != http.StatusAccepted {
		t.Fatalf("first: got %d %s, want 202", first.status, first.body)
	}
	if first.str("status") != "succeeded" || first.str("environment") != "production" || first.str("started_at") != "2026-11-24T09:00:00Z" {
		t.Errorf("first: got %s", first.body)
	}
	changes, _ := first.json["changes"].([]any)
	if len(changes) != 1 {
		t.Errorf("first: got changes %v, want the flat PR fields as one change", first.json["changes"])
	}
	// An identical replay, 5 times: the same record, 200, nothing written.
	for range 5 {
		again := e.do(t, req{method: "POST", path: "/deployments", token: "deployer", body: deployBody})
		if again.status != http.StatusOK || !sameJSON(t, again.body, first.body) {
			t.Fatalf("replay: got %d %s, want 200 with %s", again.status, again.body, first.body)
		}
	}
	// An older state is ignored: the stored record comes back.
	older := e.do(t, req{method: "POST", path: "/deployments", token: "deployer",
		body: `{"id":"gha-9182-1","service":"payments","status":"started","started_at":"2026-11-24T09:00:00Z"}`})
	if older.status != http.StatusOK || older.str("status") != "succeeded" {
		t.Errorf("older state: got %d %s, want 200 succeeded", older.status, older.body)
	}
	// A later state updates it.
	later := e.do(t, req{method: "POST", path: "/deployments", token: "deployer",
		body: `{"id":"gha-9182-1","service":"payments","status":"rolled_back","finished_at":"2026-11-24T10:00:00Z"}`})
	if later.status != http.StatusAccepted || later.str("status") != "rolled_back" || later.str("version") != "v1.4.2" {
		t.Errorf("later state: got %d %s, want 202 rolled_back keeping the version", later.status, later.body)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestPostDeploymentRefuses(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		name       string
		token      string
		body       string
		wantStatus int
		wantInMsg  string
	}{
		{"finished before started", "deployer", `{"id":"d","service":"payments","status":"failed","started_at":"2026-11-24T09:00:00Z","finished_at":"2026-11-24T08:00:00Z"}`, 400, "finished_at 2026-11-24T08:00:00Z is before started_at 2026-11-24T09:00:00Z"},
		{"unknown status", "deployer", `{"id":"d","service":"payments","status":"done","finished_at":"2026-11-24T08:00:00Z"}`, 400, `status "done"`},
		{"no id", "deployer", `{"service":"payments","status":"succeeded","finished_at":"2026-11-24T08:00:00Z"}`, 400, "id is required"},
		{"bad time", "deployer", `{"id":"d","service":"payments","status":"succeeded","finished_at":"yesterday"}`, 400, "finished_at"},
		{"unknown field", "deployer", `{"id":"d","service":"payments","status":"succeeded","finished_at":"2026-11-24T08:00:00Z","duration":3}`, 400, "duration"},
		{"both change forms", "deployer", `{"id":"d","service":"payments","status":"succeeded","finished_at":"2026-11-24T08:00:00Z","pr_created_at":"2026-11-23T08:00:00Z","changes":[{"commit_sha":"abcdef0"}]}`, 400, "not both"},
		{"another scope", "writer", deployBody, 403, "deployments:write"},
		{"no token", "", deployBody, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, req{method: "POST", path: "/deployments", token: tt.token, body: tt.body})
			if res.status != tt.wantStatus || !strings.Contains(res.errorMessage(), tt.wantInMsg) {
				t.Errorf("got %d %q, want %d naming %q", res.status, res.errorMessage(), tt.wantStatus, tt.wantInMsg)
			}
		})
	}
}

// The merged pull request and the deployment of its merge commit meet in
// either order; every delivery replayed 5 times changes nothing.
func TestGitHubWebhook(t *testing.T) {
	orders := map[string][]string{
		"pull request first": {"api-webhook-github-pull-request-opened.json", "api-webhook-github-pull-request-merged.json",
			"api-webhook-github-deployment-in-progress.json", "api-webhook-github-deployment-success.json"},
		"deployment first": {"api-webhook-github-deployment-success.json", "api-webhook-github-deployment-in-progress.json",
			"api-webhook-github-pull-request-merged.json", "api-webhook-github-pull-request-opened.json"},
	}
	for name, files := range orders {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			ctx := context.Background()
			h := httpapi.NewLambda(e.api, e.logger)
			for _, f := range files {
				ev := loadFixture(t, "../../events/"+f, "")
				for i := range 6 {
					res, err := h.Handle(ctx, ev)
					if err != nil || res.StatusCode != http.StatusAccepted {
						t.Fatalf("%s #%d: got %d %s, %v", f, i, res.StatusCode, res.Body, err)
					}
					if i > 0 && !strings.Contains(res.Body, `"outcome":"duplicate"`) {
						t.Errorf("%s replayed: got %s, want a duplicate", f, res.Body)
					}
				}
			}
			got, err := e.store.Deployment(ctx, "github:1843920561")
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != "succeeded" || got.Service != "search" || len(got.Changes) != 1 ||
				got.Changes[0].PRCreatedAt.Format("2006-01-02T15:04:05Z") != "2026-11-23T14:02:51Z" {
				t.Errorf("got %+v, want the succeeded deployment shipping the merged pull request", got)
			}
		})
	}
}

func TestGitHubWebhookSignature(t *testing.T) {
	e := newEnv(t, envOptions{})
	ping := loadFixture(t, "../../events/api-webhook-github-ping.json", "")
	hdr := map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "c41f2b06-a6b1-11f1-9e2a-6b3d1f8c5e92"}
	tests := []struct {
		name string
		sig  string
	}{
		{"missing", ""},
		{"malformed", "sha1=abc"},
		{"wrong", "sha256=" + strings.Repeat("0", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			for k, v := range hdr {
				h[k] = v
			}
			if tt.sig != "" {
				h["X-Hub-Signature-256"] = tt.sig
			}
			res := e.do(t, req{method: "POST", path: "/webhooks/github", body: ping.Body, header: h})
			if res.status != http.StatusUnauthorized {
				t.Errorf("got %d %s, want 401", res.status, res.body)
			}
		})
	}
}

func TestPatchCauseDeployment(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	if res := e.do(t, req{method: "POST", path: "/deployments", token: "deployer", body: deployBody}); res.status != http.StatusAccepted {
		t.Fatalf("post deployment: %d %s", res.status, res.body)
	}
	path := "/incidents/" + id
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCause  string
		wantInMsg  string
	}{
		{"unknown deployment", `{"cause_deployment_id":"gha-0000"}`, 400, "", `cause_deployment_id "gha-0000" names no recorded deployment`},
		{"not a string", `{"cause_deployment_id":7}`, 400, "", "must be a string or null"},
		{"link", `{"cause_deployment_id":"gha-9182-1"}`, 200, "gha-9182-1", ""},
		{"link again", `{"cause_deployment_id":"gha-9182-1"}`, 200, "gha-9182-1", ""},
		{"other fields leave it", `{"title":"Checkout down after v1.4.2"}`, 200, "gha-9182-1", ""},
		{"null clears", `{"cause_deployment_id":null}`, 200, "", ""},
		{"link, then empty clears", `{"cause_deployment_id":"gha-9182-1"}`, 200, "gha-9182-1", ""},
		{"empty clears", `{"cause_deployment_id":""}`, 200, "", ""},
	}
	for _, tt := range tests {
		res := e.do(t, req{method: "PATCH", path: path, token: "writer", body: tt.body})
		if res.status != tt.wantStatus || !strings.Contains(res.errorMessage(), tt.wantInMsg) {
			t.Errorf("%s: got %d %s, want %d naming %q", tt.name, res.status, res.body, tt.wantStatus, tt.wantInMsg)
			continue
		}
		if tt.wantStatus == 200 && res.str("cause_deployment_id") != tt.wantCause {
			t.Errorf("%s: cause_deployment_id %q, want %q", tt.name, res.str("cause_deployment_id"), tt.wantCause)
		}
	}
	got := e.do(t, req{method: "GET", path: path, token: "reader"})
	var links []string
	timeline, _ := got.json["timeline"].([]any)
	for _, x := range timeline {
		en, _ := x.(map[string]any)
		if en["kind"] == "cause_deployment_changed" {
			links = append(links, en["actor"].(string)+": "+en["text"].(string))
		}
	}
	if len(links) != 4 || !strings.Contains(links[0], "caused by deployment gha-9182-1 (linked by writer)") ||
		!strings.Contains(links[1], "no longer linked to deployment gha-9182-1") {
		t.Errorf("got the link entries %q, want link, unlink, link, unlink by writer", links)
	}
}
