package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// newFaultEnv is an API over a fresh table behind dynamotest.Faults, with an
// admin token.
func newFaultEnv(t *testing.T) (*env, *dynamotest.Faults) {
	t.Helper()
	f := dynamotest.NewFaults(t)
	store := dynamo.New(f, dynamotest.NewTable(t))
	svc := incident.NewService(store, incident.Rules{})
	logs := &bytes.Buffer{}
	e := &env{store: store, svc: svc, tokens: map[string]string{}, logs: logs, logger: slog.New(slog.NewJSONHandler(logs, nil))}
	plain, _, err := auth.Issue(context.Background(), store, "admin", []auth.Scope{auth.ScopeAdmin}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["admin"] = plain
	e.api = httpapi.New(httpapi.Config{
		Incidents: svc, Tokens: auth.NewAuthenticator(store), PublicReports: true,
		OnCall: oncall.NewService(store, oncall.Config{Services: svc, Logger: e.logger}),
		Logger: e.logger,
	})
	return e, f
}

// A human's acknowledge whose transaction DynamoDB cancels for throttling is
// retried inside the store and answers 200, not 500.
func TestThrottledAcknowledgeIsRetried(t *testing.T) {
	e, f := newFaultEnv(t)
	id := e.declare(t)
	f.CancelNext("ThrottlingError", "TransactionConflict", "ThrottlingError")
	res := e.do(t, req{method: "POST", path: "/incidents/" + id + "/acknowledge", token: "admin"})
	if res.status != http.StatusOK || res.str("status") != "acknowledged" {
		t.Errorf("got %d %s, want 200 with status acknowledged", res.status, res.body)
	}
}

// A store that is down answers 503 with Retry-After and the JSON error shape,
// on reads, writes and the public report route alike; when it is back, the same
// request succeeds.
func TestStoreDownAnswers503(t *testing.T) {
	e, f := newFaultEnv(t)
	id := e.declare(t)
	f.SetDown(true)
	tests := []struct {
		name string
		give req
	}{
		{"list incidents", req{method: "GET", path: "/incidents", token: "admin"}},
		{"get incident", req{method: "GET", path: "/incidents/" + id, token: "admin"}},
		{"acknowledge", req{method: "POST", path: "/incidents/" + id + "/acknowledge", token: "admin"}},
		{"note", req{method: "POST", path: "/incidents/" + id + "/notes", token: "admin", body: `{"text":"looking"}`}},
		{"public report", req{method: "POST", path: "/reports", remote: "192.0.2.7:4000",
			body: `{"service":"checkout","summary":"cannot pay","reporter":{"email":"a@example.com"}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serveRaw(t, e, tt.give)
			if res.status != http.StatusServiceUnavailable {
				t.Fatalf("got %d %s, want 503", res.status, res.body)
			}
			if got := res.header.Get("Retry-After"); got != "5" {
				t.Errorf("got Retry-After %q, want \"5\"", got)
			}
			if got := res.errorCode(); got != "unavailable" {
				t.Errorf("got code %q, want unavailable", got)
			}
			if msg := res.errorMessage(); !strings.Contains(msg, "retry after 5 seconds") || !strings.Contains(msg, "request id") {
				t.Errorf("got message %q, want one saying when to retry, with the request id", msg)
			}
		})
	}
	f.SetDown(false)
	res := e.do(t, req{method: "POST", path: "/incidents/" + id + "/acknowledge", token: "admin"})
	if res.status != http.StatusOK {
		t.Errorf("store back: got %d %s, want 200", res.status, res.body)
	}
}

// serveRaw sends rq to the API and decodes the JSON answer, whatever the
// status (env.do fails on a 5xx).
func serveRaw(t *testing.T, e *env, rq req) response {
	t.Helper()
	var body *strings.Reader
	if rq.body == "" {
		body = strings.NewReader("")
	} else {
		body = strings.NewReader(rq.body)
	}
	hr := httptest.NewRequest(rq.method, rq.path, body)
	if rq.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		hr.Header.Set("Authorization", "Bearer "+e.tokens[rq.token])
	}
	if rq.remote != "" {
		hr.RemoteAddr = rq.remote
	}
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, hr)
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if err := json.Unmarshal(res.body, &res.json); err != nil {
		t.Fatalf("%s %s: got a body that is not a JSON object: %v\n%s", rq.method, rq.path, err, res.body)
	}
	return res
}
