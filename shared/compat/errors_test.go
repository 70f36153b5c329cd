package compat_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/incident"
)

// send makes a request straight to the routes.
func (e *env) send(t *testing.T, method, path, authz, body string) answer {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	a := answer{status: w.Code}
	if err := json.Unmarshal(w.Body.Bytes(), &a.body); err != nil {
		t.Fatalf("%s %s: got body %q: %v", method, path, w.Body.String(), err)
	}
	return a
}

// Bad events get PagerDuty's 400 with one error per problem, and change nothing.
func TestPagerDutyInvalidEvent(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		body string
		want []any
	}{
		{"no payload", `{"routing_key":"` + auth.LocalDevPagerDutyKey + `","event_action":"trigger"}`, []any{"'payload' is missing or blank"}},
		{"bad severity", `{"routing_key":"` + auth.LocalDevPagerDutyKey + `","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"high"}}`,
			[]any{"'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"}},
		{"resolve without dedup_key", `{"routing_key":"` + auth.LocalDevPagerDutyKey + `","event_action":"resolve"}`, []any{"'dedup_key' is missing or blank"}},
		{"not JSON", `routing_key=x`, []any{"Could not parse event: malformed JSON at byte 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.send(t, http.MethodPost, "/v2/enqueue", "", tt.body)
			if a.status != http.StatusBadRequest || a.body["status"] != "invalid event" || a.body["message"] != "Event object is invalid" || !reflect.DeepEqual(a.body["errors"], tt.want) {
				t.Errorf("got %d %v, want 400 invalid event with errors %v", a.status, a.body, tt.want)
			}
		})
	}
	if got := e.state(t); len(got) != 0 {
		t.Errorf("got %d incidents, want none", len(got))
	}
}

// A trigger without a dedup_key gets one, answered; its replay gets the same.
func TestPagerDutyGeneratedDedupKey(t *testing.T) {
	e := newEnv(t)
	body := `{"routing_key":"` + auth.LocalDevPagerDutyKey + `","event_action":"trigger","payload":{"summary":"Disk full","source":"web-1","severity":"critical"}}`
	first := e.send(t, http.MethodPost, "/v2/enqueue", "", body)
	again := e.send(t, http.MethodPost, "/v2/enqueue", "", body)
	key, _ := first.body["dedup_key"].(string)
	if first.status != http.StatusAccepted || len(key) != 32 || again.body["dedup_key"] != key {
		t.Fatalf("got %v then %v, want 202 with one generated 32-character dedup_key", first.body, again.body)
	}
	resolve := `{"routing_key":"` + auth.LocalDevPagerDutyKey + `","event_action":"resolve","dedup_key":"` + key + `"}`
	if a := e.send(t, http.MethodPost, "/v2/enqueue", "", resolve); a.status != http.StatusAccepted {
		t.Fatalf("resolve: got %d %v", a.status, a.body)
	}
	if inc := e.only(t); inc.Status != incident.StatusResolved {
		t.Errorf("got %s, want resolved by the generated dedup_key", inc.Status)
	}
}

// Opsgenie's close and acknowledge by id (the incident id), and its errors.
func TestOpsgenieByIDAndErrors(t *testing.T) {
	e := newEnv(t)
	genie := "GenieKey " + auth.LocalDevOpsgenieKey
	if a := e.send(t, http.MethodPost, "/v2/alerts", genie, `{"message":"Disk full on web-1","alias":"disk-web-1","priority":"P2"}`); a.status != http.StatusAccepted {
		t.Fatalf("create: got %d %v", a.status, a.body)
	}
	inc := e.only(t)
	if inc.Severity != incident.SEV2 {
		t.Errorf("got %s, want SEV2 for P2", inc.Severity)
	}
	tests := []struct {
		name, method, path, authz, body string
		wantStatus                      int
		wantKey, wantValue              string
	}{
		{"no key", "POST", "/v2/alerts", "", `{"message":"m"}`, 401, "message", "Could not authenticate: send Authorization: GenieKey <integration key>"},
		{"a PagerDuty key", "POST", "/v2/alerts", "GenieKey " + auth.LocalDevPagerDutyKey, `{"message":"m"}`, 401, "message", "Could not authenticate"},
		{"no message", "POST", "/v2/alerts", genie, `{"alias":"a"}`, 422, "message", "Request body is not processable. Please check the errors."},
		{"unknown id", "POST", "/v2/alerts/01jd0000000000000000000000/close", genie, ``, 404, "message",
			"Alert with id [01jd0000000000000000000000] does not exist: the id is an incident id of service checkout (or use identifierType=alias)"},
		{"tiny ids", "POST", "/v2/alerts/42/close?identifierType=tiny", genie, ``, 422, "message", "Request is not processable. Please check the errors."},
		{"update message", "PUT", "/v2/alerts/disk-web-1/message?identifierType=alias", genie, `{"message":"x"}`, 202, "result", "Request will be processed"},
		{"acknowledge by id", "POST", "/v2/alerts/" + inc.ID + "/acknowledge", genie, `{"user":"ana","note":"on it"}`, 202, "result", "Request will be processed"},
		{"close by id", "POST", "/v2/alerts/" + inc.ID + "/close?identifierType=id", genie, ``, 202, "result", "Request will be processed"},
	}
	for _, tt := range tests {
		a := e.send(t, tt.method, tt.path, tt.authz, tt.body)
		if a.status != tt.wantStatus || a.body[tt.wantKey] != tt.wantValue || a.body["requestId"] == "" {
			t.Errorf("%s: got %d %v, want %d with %s %q and a requestId", tt.name, a.status, a.body, tt.wantStatus, tt.wantKey, tt.wantValue)
		}
	}
	got := e.only(t)
	if got.Status != incident.StatusResolved || got.AcknowledgedAt == nil {
		t.Errorf("got %s (acknowledged at %v), want acknowledged, then resolved by id", got.Status, got.AcknowledgedAt)
	}
}
