package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/postmortem"
	"github.com/incidentd/incidentd/shared/postmortemjob"
	"github.com/incidentd/incidentd/shared/s3"
	"github.com/incidentd/incidentd/shared/s3/s3local"
)

// postmortemEnv is the API with the post-mortem routes over a gofakes3
// bucket, and the postmortem function's job writing into it.
func postmortemEnv(t *testing.T) (*env, *postmortemjob.Job) {
	t.Helper()
	srv, err := s3local.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c := s3local.Client(srv.Endpoint)
	if err := s3local.CreateBucket(context.Background(), c, "postmortems"); err != nil {
		t.Fatal(err)
	}
	docs := s3.New(c, "postmortems")
	e := newEnv(t, envOptions{postmortems: docs})
	job := postmortemjob.New(postmortemjob.Config{Incidents: e.store, Links: e.svc, Deployments: e.store, Documents: docs,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return e, job
}

// rawAccept sends a request with an Accept header (any content type).
func (e *env) rawAccept(t *testing.T, method, path, token, accept string) *httptest.ResponseRecorder {
	t.Helper()
	h := map[string]string{}
	if accept != "" {
		h["Accept"] = accept
	}
	return e.raw(method, path, token, h)
}

func TestPostmortemRoutes(t *testing.T) {
	e, job := postmortemEnv(t)
	ctx := context.Background()
	id := e.declare(t)
	path := "/incidents/" + id + "/postmortem"

	// None yet: 404 in JSON, for an unknown incident too.
	for _, p := range []string{path, "/incidents/01jnosuchincidentxxxxxxxxx/postmortem"} {
		res := e.do(t, req{method: "GET", path: p, token: "reader"})
		if res.status != http.StatusNotFound || res.errorCode() != "not_found" {
			t.Errorf("GET %s before any: got %d %s, want 404 not_found", p, res.status, res.body)
		}
	}
	if res := e.do(t, req{method: "POST", path: "/incidents/" + id + "/resolve", token: "writer",
		body: `{"root_cause":"pool exhausted"}`}); res.status != http.StatusOK {
		t.Fatalf("resolve: got %d %s", res.status, res.body)
	}
	if _, err := job.Run(ctx, id); err != nil {
		t.Fatal(err)
	}

	md := e.rawAccept(t, "GET", path, "reader", "")
	if md.Code != http.StatusOK || md.Header().Get("Content-Type") != "text/markdown; charset=utf-8" {
		t.Fatalf("GET markdown: got %d %q, want 200 text/markdown; charset=utf-8", md.Code, md.Header().Get("Content-Type"))
	}
	if body := md.Body.String(); !strings.HasPrefix(body, "# Post-mortem: Checkout is failing") || !strings.Contains(body, "pool exhausted") ||
		!strings.Contains(body, "## Fix\n\n_To be completed._") {
		t.Errorf("GET markdown: got\n%s\nwant the document with its root cause and the fix to be completed", body)
	}
	first := md.Header().Get("X-Postmortem-Version")

	// PUT: validated, 400 naming the field; 404 for an unknown incident.
	bad := []struct{ body, want string }{
		{`{"action_items":["ok",""]}`, "action_items[1] is empty"},
		{`{"root_cause":"` + strings.Repeat("x", 4001) + `"}`, "root_cause is 4001 bytes"},
		{`{"rootcause":"x"}`, "rootcause"},
		{`{"action_items":"one"}`, "action_items"},
		{`{}`, "nothing to change"},
	}
	for _, b := range bad {
		res := e.do(t, req{method: "PUT", path: path, token: "writer", body: b.body})
		if res.status != http.StatusBadRequest || !strings.Contains(res.errorMessage(), b.want) {
			t.Errorf("PUT %.40s: got %d %s, want 400 naming %q", b.body, res.status, res.body, b.want)
		}
	}
	if res := e.do(t, req{method: "PUT", path: "/incidents/01jnosuchincidentxxxxxxxxx/postmortem", token: "writer", body: `{"fix":"x"}`}); res.status != http.StatusNotFound {
		t.Errorf("PUT unknown incident: got %d %s, want 404", res.status, res.body)
	}
	if res := e.do(t, req{method: "PUT", path: path, token: "reader", body: `{"fix":"x"}`}); res.status != http.StatusForbidden {
		t.Errorf("PUT with a read token: got %d, want 403", res.status)
	}
	put := e.do(t, req{method: "PUT", path: path, token: "writer",
		body: `{"fix":"doubled the pool","action_items":["alarm on pool usage"],"went_well":"fast rollback","went_wrong":null}`})
	if put.status != http.StatusAccepted || put.str("fix") != "doubled the pool" || put.str("root_cause") != "pool exhausted" || put.str("version_id") != first {
		t.Errorf("PUT: got %d %s, want 202 with every field and the current version %s", put.status, put.body, first)
	}
	// The timeline has it, and the function's run makes a new version.
	got := e.do(t, req{method: "GET", path: "/incidents/" + id, token: "reader"})
	if !strings.Contains(string(got.body), `"kind":"postmortem_updated"`) {
		t.Errorf("timeline: got %s, want a postmortem_updated entry", got.body)
	}
	if _, err := job.Run(ctx, id); err != nil {
		t.Fatal(err)
	}
	js := e.do(t, req{method: "GET", path: path, token: "reader", header: map[string]string{"Accept": "application/json"}})
	if js.status != http.StatusOK || js.str("fix") != "doubled the pool" || js.str("version_id") == first || js.str("version_id") == "" ||
		js.str("key") != postmortem.Key(id) || !strings.Contains(js.str("markdown"), "- [ ] alarm on pool usage") {
		t.Errorf("GET JSON: got %d %s, want the fields, a second version and its Markdown", js.status, js.body)
	}
	// The first version stays readable.
	old := e.rawAccept(t, "GET", path+"?version_id="+first, "reader", "text/markdown")
	if old.Code != http.StatusOK || strings.Contains(old.Body.String(), "doubled the pool") {
		t.Errorf("GET version %s: got %d, want the first version without the fix", first, old.Code)
	}
	if res := e.do(t, req{method: "GET", path: path + "?version_id=nope", token: "reader"}); res.status != http.StatusNotFound {
		t.Errorf("GET an unknown version: got %d %s, want 404", res.status, res.body)
	}
}
