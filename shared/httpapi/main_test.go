package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// env is an API over a fresh table, with one token per scope.
type env struct {
	api *httpapi.API
	// web is the web function's handler over the same table; do sends a
	// request to the function that serves its route, as API Gateway does
	// (httpapi.Routes).
	web    *httpapi.API
	store  *dynamo.Store
	svc    *incident.Service
	tokens map[string]string // by name: admin, reader, writer, reporter, services-reader, services-writer, oncall-reader, oncall-writer
	logs   *bytes.Buffer
	logger *slog.Logger
}

type envOptions struct {
	public bool
	now    func() time.Time
	// slackSecret turns the Slack routes on.
	slackSecret string
	// publicStatus serves GET /status without a token.
	publicStatus bool
	// postmortems turns the post-mortem routes on.
	postmortems httpapi.PostmortemDocs
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	store := dynamotest.Store(t)
	svc := incident.NewService(store, incident.Rules{})
	logs := &bytes.Buffer{}
	e := &env{store: store, svc: svc, tokens: map[string]string{}, logs: logs, logger: slog.New(slog.NewJSONHandler(logs, nil))}
	scopes := map[string][]auth.Scope{
		"admin":           {auth.ScopeAdmin},
		"reader":          {auth.ScopeIncidentsRead},
		"writer":          {auth.ScopeIncidentsWrite, auth.ScopeIncidentsRead},
		"reporter":        {auth.ScopeReportsWrite},
		"services-reader": {auth.ScopeServicesRead},
		"services-writer": {auth.ScopeServicesWrite},
		"oncall-reader":   {auth.ScopeOnCallRead},
		"oncall-writer":   {auth.ScopeOnCallWrite},
		"deployer":        {auth.ScopeDeploymentsWrite},
	}
	for name, sc := range scopes {
		plain, _, err := auth.Issue(context.Background(), store, name, sc, 0, time.Now())
		if err != nil {
			t.Fatalf("issue token %s: %v", name, err)
		}
		e.tokens[name] = plain
	}
	e.api = httpapi.New(httpapi.Config{
		Incidents: svc, Tokens: auth.NewAuthenticator(store), PublicReports: o.public,
		OnCall: oncall.NewService(store, oncall.Config{Services: svc, Logger: e.logger}),
		Logger: e.logger, Now: o.now, SlackSigningSecret: o.slackSecret,
		Deployments: store, Deliveries: store, GitHubSecret: fixtureGitHubSecret, GitHubServices: fixtureGitHubServices,
	})
	e.web = httpapi.NewWeb(httpapi.Config{
		Incidents: svc, Tokens: auth.NewAuthenticator(store), Logger: e.logger, Now: o.now,
		DORA: store, DORAHistory: store, Services: store, PublicStatus: o.publicStatus,
		Postmortems: o.postmortems, AckLinks: testAckLinks,
	})
	return e
}

// req describes a test request.
type req struct {
	method, path string
	token        string // a name in env.tokens, or a literal "Bearer …" header, or "" for none
	body         string
	contentType  string // default application/json when there is a body
	header       map[string]string
	remote       string
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r response) errorCode() string {
	e, _ := r.json["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) errorMessage() string {
	e, _ := r.json["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (r response) str(key string) string {
	s, _ := r.json[key].(string)
	return s
}

func (e *env) do(t testing.TB, rq req) response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	hr := httptest.NewRequest(rq.method, rq.path, body)
	if rq.body != "" {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	} else if rq.contentType != "" {
		hr.Header.Set("Content-Type", rq.contentType)
	}
	switch {
	case strings.Contains(rq.token, " "):
		hr.Header.Set("Authorization", rq.token)
	case rq.token != "":
		tok, ok := e.tokens[rq.token]
		if !ok {
			t.Fatalf("no test token %q", rq.token)
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range rq.header {
		hr.Header.Set(k, v)
	}
	if rq.remote != "" {
		hr.RemoteAddr = rq.remote
	}
	rec := httptest.NewRecorder()
	handlers := map[string]http.Handler{httpapi.FunctionAPI: e.api}
	if e.web != nil {
		handlers[httpapi.FunctionWeb] = e.web
	}
	httpapi.Dispatch(handlers).ServeHTTP(rec, hr)
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if rec.Code == http.StatusNoContent {
		return res // no body, no Content-Type
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: got Content-Type %q, want JSON; body %s", rq.method, rq.path, ct, res.body)
	}
	if err := json.Unmarshal(res.body, &res.json); err != nil {
		t.Fatalf("%s %s: got a body that is not a JSON object: %v\n%s", rq.method, rq.path, err, res.body)
	}
	if res.status >= 500 {
		t.Errorf("%s %s: got %d, want no server error; body %s; logs %s", rq.method, rq.path, res.status, res.body, e.logs)
	}
	return res
}

// declare opens an incident on service checkout and returns its id.
func (e *env) declare(t testing.TB) string {
	t.Helper()
	res := e.do(t, req{method: "POST", path: "/incidents", token: "admin",
		body: `{"service":"checkout","title":"Checkout is failing","severity":"SEV2"}`})
	if res.status != http.StatusCreated {
		t.Fatalf("declare: got %d %s, want 201", res.status, res.body)
	}
	return res.str("id")
}
