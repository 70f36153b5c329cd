package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

var tableSeq atomic.Int64

// startLocal wires the platform as `make local` does, against DynamoDB Local,
// on a table of its own, and serves both endpoints on httptest servers.
func startLocal(t *testing.T, env map[string]string, opts ...platformOption) (p *platform, api, invoke *httptest.Server) {
	t.Helper()
	return startLocalLogged(t, env, io.Discard, opts...)
}

// startLocalLogged is startLocal with the platform's JSON log lines written
// to logs.
func startLocalLogged(t *testing.T, env map[string]string, logs io.Writer, opts ...platformOption) (p *platform, api, invoke *httptest.Server) {
	t.Helper()
	table := fmt.Sprintf("local-%d-%d", os.Getpid(), tableSeq.Add(1))
	getenv := func(k string) string {
		if k == "TABLE_NAME" {
			return table
		}
		return env[k]
	}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	opts = append([]platformOption{withPager(&pageRecorder{})}, opts...)
	p, err := newPlatform(context.Background(), dynamotest.Endpoint(t), getenv, logger, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	api = httptest.NewServer(p.api)
	invoke = httptest.NewServer(&invokeServer{functions: p.functions, log: logger})
	t.Cleanup(func() { api.Close(); invoke.Close() })
	return p, api, invoke
}

func call(t *testing.T, method, url, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

type incidentView struct {
	ID       string `json:"id"`
	Service  string `json:"service"`
	Source   string `json:"source"`
	Severity string `json:"severity"`
	Timeline []struct {
		Kind string `json:"kind"`
	} `json:"timeline"`
}

func listIncidents(t *testing.T, api, token, query string) []incidentView {
	t.Helper()
	status, _, body := call(t, http.MethodGet, api+"/incidents?"+query, token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /incidents?%s: got %d %s, want 200", query, status, body)
	}
	var page struct {
		Items []incidentView `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// The acceptance walk-through of `make local`: a report creates an incident
// visible at GET /incidents; an alarm fixture posted to the invoke endpoint opens
// an incident for the mapped service; posting it 5 times leaves one incident with
// one "opened" entry; a request without a token gets 401.
func TestLocalWalkthrough(t *testing.T) {
	p, api, invoke := startLocal(t, nil)

	status, _, body := call(t, http.MethodPost, api.URL+"/reports", p.token, map[string]any{
		"service": "checkout", "summary": "Checkout page times out",
		"reporter": map[string]string{"name": "Ana", "email": "ana@example.com"},
	})
	if status != http.StatusAccepted {
		t.Fatalf("POST /reports: got %d %s, want 202", status, body)
	}
	var rep struct {
		IncidentID string `json:"incident_id"`
	}
	if err := json.Unmarshal(body, &rep); err != nil || rep.IncidentID == "" {
		t.Fatalf("POST /reports: got %s, want an incident_id", body)
	}
	if got := listIncidents(t, api.URL, p.token, "status=open"); len(got) != 1 || got[0].ID != rep.IncidentID {
		t.Fatalf("GET /incidents after a report: got %+v, want the report's incident %s", got, rep.IncidentID)
	}

	fixture, err := os.ReadFile("../../events/alarms-sns-metric.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		status, hdr, body := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/alarms/invocations", "", fixture)
		if status != http.StatusOK || hdr.Get("X-Amz-Function-Error") != "" {
			t.Fatalf("invoke alarms #%d: got %d %q %s, want 200 without a function error", i+1, status, hdr.Get("X-Amz-Function-Error"), body)
		}
	}
	alarmIncidents := listIncidents(t, api.URL, p.token, "status=open&service=checkout")
	var alarm []incidentView
	for _, inc := range alarmIncidents {
		if inc.Source == "alarm" {
			alarm = append(alarm, inc)
		}
	}
	if len(alarm) != 1 {
		t.Fatalf("after the alarm fixture 5 times: got %d alarm incidents on checkout, want 1", len(alarm))
	}
	status, _, body = call(t, http.MethodGet, api.URL+"/incidents/"+alarm[0].ID, p.token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /incidents/%s: got %d %s", alarm[0].ID, status, body)
	}
	var inc incidentView
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	// The escalation adds its own entries (pages, war room); the alarm adds one.
	opened, other := 0, 0
	for _, e := range inc.Timeline {
		switch e.Kind {
		case "opened":
			opened++
		case "paged", "war_room_opened", "war_room_failed":
		default:
			other++
		}
	}
	if opened != 1 || other != 0 {
		t.Errorf("timeline after 5 deliveries of one alarm: got %d opened and %d other alarm entries; want 1 opened entry and nothing else", opened, other)
	}

	for _, path := range []string{"/incidents", "/incidents/" + alarm[0].ID, "/services"} {
		status, hdr, body := call(t, http.MethodGet, api.URL+path, "", nil)
		if status != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without a token: got %d %s, want 401 with WWW-Authenticate", path, status, body)
		}
	}
	status, _, body = call(t, http.MethodGet, api.URL+"/incidents", "ink_0000000000000000_"+strings.Repeat("0", 52), nil)
	if status != http.StatusUnauthorized {
		t.Errorf("GET /incidents with an unknown token: got %d %s, want 401", status, body)
	}
}

// Every function under functions/ is served by the invoke endpoint, and only those.
func TestInvokeServesEveryFunction(t *testing.T) {
	p, _, _ := startLocal(t, nil)
	dirs, err := filepath.Glob("../../functions/*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, d := range dirs {
		want = append(want, filepath.Base(filepath.Dir(d)))
	}
	for n := range p.functions {
		got = append(got, n)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("functions served: got %v, want the folders under functions/: %v", got, want)
	}
}

// Every sample event is replayed through its function on the invoke endpoint:
// none may fail, and API events answer as API Gateway would, never with a 5xx.
func TestEveryEventReplays(t *testing.T) {
	p, _, invoke := startLocal(t, nil)
	files, err := filepath.Glob("../../events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no events found under events/")
	}
	for _, f := range files {
		name := filepath.Base(f)
		fn, _, _ := strings.Cut(name, "-")
		t.Run(name, func(t *testing.T) {
			if _, ok := p.functions[fn]; !ok {
				t.Fatalf("event %s names function %q, which does not exist (events are named <function>-<case>.json)", name, fn)
			}
			event, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			status, hdr, body := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/"+fn+"/invocations", "", event)
			if status != http.StatusOK || hdr.Get("X-Amz-Function-Error") != "" {
				t.Fatalf("got %d %q %s, want 200 without a function error", status, hdr.Get("X-Amz-Function-Error"), body)
			}
			if fn == "api" || fn == "web" {
				var resp struct {
					StatusCode int `json:"statusCode"`
				}
				if err := json.Unmarshal(body, &resp); err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode < 200 || resp.StatusCode >= 500 {
					t.Errorf("API response: got status %d %s, want a 2xx-4xx answer", resp.StatusCode, body)
				}
			}
		})
	}
}

func TestInvokeErrorsAnswerAsLambda(t *testing.T) {
	srv := httptest.NewServer(&invokeServer{
		log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		functions: map[string]Function{
			"fails":  func(context.Context, []byte) ([]byte, error) { return nil, errors.New("store unavailable") },
			"panics": func(context.Context, []byte) ([]byte, error) { panic("boom") },
			"echo":   func(_ context.Context, b []byte) ([]byte, error) { return b, nil },
		},
	})
	defer srv.Close()
	tests := []struct {
		name      string
		path      string
		body      string
		wantCode  int
		wantFnErr string
		wantBody  string
		wantType  string
	}{
		{"function error", "/2015-03-31/functions/fails/invocations", `{}`, 200, "Unhandled", `"errorMessage":"store unavailable"`, ""},
		{"panic", "/2015-03-31/functions/panics/invocations", `{}`, 200, "Unhandled", `handler panicked: boom`, ""},
		{"echo", "/2015-03-31/functions/echo/invocations", `{"a":1}`, 200, "", `{"a":1}`, ""},
		{"ARN as name", "/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:echo/invocations", `{"b":2}`, 200, "", `{"b":2}`, ""},
		{"unknown function", "/2015-03-31/functions/nope/invocations", `{}`, 404, "", "Function not found: nope", "ResourceNotFoundException"},
		{"not JSON", "/2015-03-31/functions/echo/invocations", `{nope`, 400, "", "Could not parse request body into json", "InvalidRequestContentException"},
		{"wrong path", "/invoke/echo", `{}`, 404, "", "unknown path", "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := call(t, http.MethodPost, srv.URL+tt.path, "", []byte(tt.body))
			if status != tt.wantCode {
				t.Errorf("status: got %d, want %d (%s)", status, tt.wantCode, body)
			}
			if got := hdr.Get("X-Amz-Function-Error"); got != tt.wantFnErr {
				t.Errorf("X-Amz-Function-Error: got %q, want %q", got, tt.wantFnErr)
			}
			if got := hdr.Get("X-Amzn-ErrorType"); got != tt.wantType {
				t.Errorf("X-Amzn-ErrorType: got %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body: got %s, want it to contain %s", body, tt.wantBody)
			}
		})
	}
}

func TestLocalAPITokenIsSeeded(t *testing.T) {
	token, _, err := auth.Generate("me", []auth.Scope{auth.ScopeAdmin}, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, api, _ := startLocal(t, map[string]string{"LOCAL_API_TOKEN": token})
	if p.token != token {
		t.Fatalf("token: got %q, want LOCAL_API_TOKEN", p.token)
	}
	if status, _, body := call(t, http.MethodGet, api.URL+"/incidents", token, nil); status != http.StatusOK {
		t.Errorf("GET /incidents with LOCAL_API_TOKEN: got %d %s, want 200", status, body)
	}
}

// Log groups map to services as in the deployed stack: from infra/services.json.
func TestLocalLogsMapToMonitoredServices(t *testing.T) {
	p, api, invoke := startLocal(t, nil)
	fixture, err := os.ReadFile("../../events/logs-json-errors.json") // log group /aws/lambda/checkout-api
	if err != nil {
		t.Fatal(err)
	}
	status, hdr, body := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/logs/invocations", "", fixture)
	if status != http.StatusOK || hdr.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke logs: got %d %q %s", status, hdr.Get("X-Amz-Function-Error"), body)
	}
	var logIncidents []incidentView
	for _, inc := range listIncidents(t, api.URL, p.token, "status=all") {
		if inc.Source == "log" {
			logIncidents = append(logIncidents, inc)
		}
	}
	if len(logIncidents) != 1 || logIncidents[0].Service != "checkout" {
		t.Fatalf("log incidents: got %+v, want one on checkout (its log group is listed in infra/services.json)", logIncidents)
	}
}

// The deployment fixtures go through the local invoke endpoint as Lambda
// would deliver them, each 5 times more: the record is the same after.
func TestDeploymentFixturesReplay(t *testing.T) {
	p, _, invoke := startLocal(t, map[string]string{
		"GITHUB_WEBHOOK_SECRET": "fixture-webhook-secret",
		"DEPLOY_SERVICES":       `{"payments-pipeline": {"service": "payments"}, "checkout/checkout-production": {"service": "checkout"}, "acme/search": {"service": "search"}}`,
	})
	files, err := filepath.Glob("../../events/deploys-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no deploys fixtures: %v", err)
	}
	hooks, _ := filepath.Glob("../../events/api-webhook-github-*.json")
	store := dynamo.New(dynamolocal.Client(dynamotest.Endpoint(t)), p.settings.Table)
	for _, f := range append(files, hooks...) {
		name := filepath.Base(f)
		fn, _, _ := strings.Cut(name, "-")
		event, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var first []byte
		for i := range 6 {
			status, hdr, body := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/"+fn+"/invocations", "", event)
			if status != http.StatusOK || hdr.Get("X-Amz-Function-Error") != "" {
				t.Fatalf("%s: got %d %q %s", name, status, hdr.Get("X-Amz-Function-Error"), body)
			}
			if fn == "deploys" && strings.Contains(string(body), `"outcome":"rejected"`) {
				t.Errorf("%s: rejected: %s", name, body)
			}
			if fn == "api" && i > 0 && !strings.Contains(string(body), "duplicate") && !strings.Contains(string(body), "401") && !strings.Contains(string(body), "ignored") {
				t.Errorf("%s replayed: got %s, want a duplicate (or the same refusal)", name, body)
			}
			if i == 0 {
				first = body
			} else if fn == "deploys" && string(body) != strings.Replace(string(first), `"outcome":"recorded"`, `"outcome":"unchanged"`, 1) {
				t.Errorf("%s replay %d: got %s after %s", name, i, body, first)
			}
		}
	}
	for _, tt := range []struct{ id, status string }{
		{"codepipeline:3f1e5b2a-6c4d-4e8f-9a0b-1c2d3e4f5a6b", "succeeded"},
		{"github:1843920561", "succeeded"},
	} {
		got, err := store.Deployment(context.Background(), tt.id)
		if err != nil || string(got.Status) != tt.status {
			t.Errorf("deployment %s: got %+v, %v; want %s", tt.id, got, err, tt.status)
		}
	}
}
