package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/httpapi"
)

func TestHealthzNeedsNoToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.do(t, req{method: "GET", path: "/healthz"})
	if res.status != http.StatusOK || res.str("status") != "ok" {
		t.Errorf("got %d %s, want 200 {\"status\":\"ok\"}", res.status, res.body)
	}
	if res.header.Get("X-Request-Id") == "" {
		t.Error("got no X-Request-Id header, want one")
	}
}

func TestIncidentLifecycle(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedOnCall(t, e) // the policy checkout, which the service names

	put := e.do(t, req{method: "PUT", path: "/services/checkout", token: "services-writer",
		body: `{"policy":"checkout","default_severity":"SEV2","auto_resolve":false,"paging_severities":["SEV1","SEV2","SEV3"]}`})
	if put.status != http.StatusOK || put.str("name") != "checkout" || put.str("default_severity") != "SEV2" {
		t.Fatalf("PUT /services/checkout: got %d %s, want 200 with the config", put.status, put.body)
	}

	created := e.do(t, req{method: "POST", path: "/incidents", token: "writer",
		body: `{"service":"checkout","title":"Payments failing for EU cards","severity":"sev1"}`})
	if created.status != http.StatusCreated {
		t.Fatalf("POST /incidents: got %d %s, want 201", created.status, created.body)
	}
	id := created.str("id")
	if got, want := created.header.Get("Location"), "/incidents/"+id; got != want {
		t.Errorf("got Location %q, want %q", got, want)
	}
	if created.str("severity") != "SEV1" || created.str("status") != "triggered" || created.str("source") != "manual" {
		t.Errorf("got %s, want a triggered manual SEV1 incident", created.body)
	}
	if ts := created.str("created_at"); !strings.HasSuffix(ts, "Z") {
		t.Errorf("got created_at %q, want an RFC 3339 UTC time", ts)
	} else if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("got created_at %q: %v", ts, err)
	}
	if created.json["acknowledged_at"] != nil {
		t.Errorf("got acknowledged_at %v, want null", created.json["acknowledged_at"])
	}

	steps := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		field  string
		want   string
	}{
		{"acknowledge without body", "POST", "/acknowledge", "", 200, "status", "acknowledged"},
		{"acknowledge again", "POST", "/acknowledge", "{}", 200, "status", "acknowledged"},
		{"identify", "POST", "/identify", `{"text":"pool exhausted after deploy 1.42"}`, 200, "status", "identified"},
		{"note", "POST", "/notes", `{"text":"rollback started"}`, 201, "kind", "note"},
		{"patch", "PATCH", "", `{"severity":"SEV2","title":"EU card payments failing","commander":"alice"}`, 200, "commander", "alice"},
		{"resolve", "POST", "/resolve", `{"root_cause":"connection pool too small","fix":"rolled back"}`, 200, "status", "resolved"},
	}
	for _, st := range steps {
		res := e.do(t, req{method: st.method, path: "/incidents/" + id + st.path, token: "writer", body: st.body})
		if res.status != st.status || res.str(st.field) != st.want {
			t.Fatalf("%s: got %d %s=%q (%s), want %d %s=%q", st.name, res.status, st.field, res.str(st.field), res.body, st.status, st.field, st.want)
		}
	}

	got := e.do(t, req{method: "GET", path: "/incidents/" + id, token: "reader"})
	if got.status != http.StatusOK {
		t.Fatalf("GET: got %d %s", got.status, got.body)
	}
	if got.str("root_cause") != "connection pool too small" || got.str("fix") != "rolled back" || got.str("title") != "EU card payments failing" {
		t.Errorf("got %s, want the root cause, fix and new title", got.body)
	}
	timeline, _ := got.json["timeline"].([]any)
	var kinds []string
	for _, it := range timeline {
		entry := it.(map[string]any)
		kinds = append(kinds, entry["kind"].(string))
		if k := entry["kind"]; k != "opened" && entry["actor"] != "writer" {
			t.Errorf("got %s entry by %v, want by the token's name %q", k, entry["actor"], "writer")
		}
	}
	want := "opened acknowledged identified note severity_changed title_changed commander_changed resolved"
	if strings.Join(kinds, " ") != want {
		t.Errorf("got timeline %v, want %s", kinds, want)
	}

	// A resolved incident cannot be acknowledged.
	ack := e.do(t, req{method: "POST", path: "/incidents/" + id + "/acknowledge", token: "writer"})
	if ack.status != http.StatusConflict || ack.errorCode() != "conflict" {
		t.Errorf("acknowledge resolved: got %d %s, want 409 conflict", ack.status, ack.body)
	}

	svc := e.do(t, req{method: "GET", path: "/services/checkout", token: "services-reader"})
	if svc.status != http.StatusOK || svc.str("policy") != "checkout" {
		t.Errorf("GET /services/checkout: got %d %s", svc.status, svc.body)
	}
	list := e.do(t, req{method: "GET", path: "/services", token: "services-reader"})
	if items, _ := list.json["items"].([]any); list.status != http.StatusOK || len(items) != 1 {
		t.Errorf("GET /services: got %d %s, want one service", list.status, list.body)
	}
}

func TestReports(t *testing.T) {
	e := newEnv(t, envOptions{})
	body := `{"service":"checkout","summary":"Checkout times out","reporter":{"name":"Dana","email":"dana@example.com"},"affected_users":3}`
	first := e.do(t, req{method: "POST", path: "/reports", token: "reporter", body: body, header: map[string]string{"Idempotency-Key": "k-1"}})
	if first.status != http.StatusAccepted || first.str("report_id") == "" || first.str("incident_id") == "" || first.json["deduplicated"] != false {
		t.Fatalf("first report: got %d %s, want 202 with ids, not deduplicated", first.status, first.body)
	}
	retry := e.do(t, req{method: "POST", path: "/reports", token: "reporter", body: body, header: map[string]string{"Idempotency-Key": "k-1"}})
	if retry.status != http.StatusAccepted || retry.str("report_id") != first.str("report_id") || retry.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retried report: got %d %s (replayed %q), want the first report's id %s", retry.status, retry.body, retry.header.Get("Idempotent-Replayed"), first.str("report_id"))
	}
	second := e.do(t, req{method: "POST", path: "/reports", token: "reporter",
		body: `{"service":"checkout","summary":"Cannot pay","reporter":{"email":"eve@example.com"}}`})
	if second.status != http.StatusAccepted || second.str("incident_id") != first.str("incident_id") || second.json["deduplicated"] != true {
		t.Errorf("second reporter: got %d %s, want the same incident, deduplicated", second.status, second.body)
	}
	inc := e.do(t, req{method: "GET", path: "/incidents/" + first.str("incident_id"), token: "reader"})
	if n, _ := inc.json["signal_count"].(float64); n != 2 {
		t.Errorf("got signal_count %v, want 2 (the retry is not counted)", inc.json["signal_count"])
	}
	if n, _ := inc.json["reporter_count"].(float64); n != 2 {
		t.Errorf("got reporter_count %v, want 2", inc.json["reporter_count"])
	}
}

func TestListIncidents(t *testing.T) {
	e := newEnv(t, envOptions{})
	var ids []string
	for range 3 {
		ids = append(ids, e.declare(t))
	}
	e.do(t, req{method: "POST", path: "/incidents/" + ids[0] + "/resolve", token: "writer"})

	first := e.do(t, req{method: "GET", path: "/incidents?status=open&limit=1", token: "reader"})
	items, _ := first.json["items"].([]any)
	cursor, _ := first.json["next_cursor"].(string)
	if first.status != http.StatusOK || len(items) != 1 || cursor == "" {
		t.Fatalf("page 1: got %d %s, want one item and a cursor", first.status, first.body)
	}
	second := e.do(t, req{method: "GET", path: "/incidents?status=open&limit=1&cursor=" + cursor, token: "reader"})
	items2, _ := second.json["items"].([]any)
	if second.status != http.StatusOK || len(items2) != 1 {
		t.Fatalf("page 2: got %d %s, want one item", second.status, second.body)
	}
	if items[0].(map[string]any)["id"] == items2[0].(map[string]any)["id"] {
		t.Error("got the same incident on both pages, want the next one")
	}
	all := e.do(t, req{method: "GET", path: "/incidents?service=checkout", token: "reader"})
	if got, _ := all.json["items"].([]any); len(got) != 3 || all.json["next_cursor"] != nil {
		t.Errorf("all: got %s, want 3 items and next_cursor null", all.body)
	}
	if _, ok := items[0].(map[string]any)["timeline"]; ok {
		t.Error("got a timeline in a list item, want it only on GET /incidents/{id}")
	}
}

func TestAuthErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	revoked, tok, err := auth.Issue(t.Context(), e.store, "gone", []auth.Scope{auth.ScopeAdmin}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeAPIToken(t.Context(), tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	expired, _, err := auth.Issue(t.Context(), e.store, "old", []auth.Scope{auth.ScopeAdmin}, time.Minute, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	unknown, _, _ := auth.Generate("nobody", []auth.Scope{auth.ScopeAdmin}, time.Now(), 0)
	tests := []struct {
		name   string
		token  string
		status int
		auth   string // expected WWW-Authenticate
	}{
		{"missing", "", 401, `Bearer realm="incidentd"`},
		{"basic scheme", "Basic YWxpY2U6c2VjcmV0", 401, `Bearer realm="incidentd", error="invalid_token"`},
		{"bearer without token", "Bearer ", 401, `Bearer realm="incidentd", error="invalid_token"`},
		{"malformed token", "Bearer not-a-token", 401, `Bearer realm="incidentd", error="invalid_token"`},
		{"unknown token", "Bearer " + unknown, 401, `Bearer realm="incidentd", error="invalid_token"`},
		{"revoked token", "Bearer " + revoked, 401, `Bearer realm="incidentd", error="invalid_token"`},
		{"expired token", "Bearer " + expired, 401, `Bearer realm="incidentd", error="invalid_token"`},
		{"lower-case scheme", "bearer " + e.tokens["reader"], 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, req{method: "GET", path: "/incidents", token: tt.token})
			if res.status != tt.status || res.header.Get("WWW-Authenticate") != tt.auth {
				t.Errorf("got %d (WWW-Authenticate %q) %s, want %d (%q)", res.status, res.header.Get("WWW-Authenticate"), res.body, tt.status, tt.auth)
			}
			if tt.status == 401 && res.errorCode() != "unauthorized" {
				t.Errorf("got code %q, want unauthorized", res.errorCode())
			}
		})
	}
}

func TestEveryRouteChecksItsScope(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	routes := []struct {
		method, path, body string
		allowed, denied    string // token names
		scope              string
	}{
		{"POST", "/reports", `{"service":"checkout","summary":"x"}`, "reporter", "writer", "reports:write"},
		{"GET", "/incidents", "", "reader", "reporter", "incidents:read"},
		{"POST", "/incidents", `{"service":"checkout","title":"x"}`, "writer", "reader", "incidents:write"},
		{"GET", "/incidents/" + id, "", "reader", "services-reader", "incidents:read"},
		{"PATCH", "/incidents/" + id, `{"commander":"bob"}`, "writer", "reader", "incidents:write"},
		{"POST", "/incidents/" + id + "/acknowledge", "", "writer", "reader", "incidents:write"},
		{"POST", "/incidents/" + id + "/identify", "", "writer", "reader", "incidents:write"},
		{"POST", "/incidents/" + id + "/notes", `{"text":"x"}`, "writer", "reader", "incidents:write"},
		{"POST", "/incidents/" + id + "/resolve", "", "writer", "reader", "incidents:write"},
		{"PUT", "/services/checkout", `{}`, "services-writer", "services-reader", "services:write"},
		{"GET", "/services/checkout", "", "services-reader", "services-writer", "services:read"},
		{"GET", "/services", "", "services-reader", "reader", "services:read"},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			denied := e.do(t, req{method: rt.method, path: rt.path, token: rt.denied, body: rt.body})
			wantAuth := fmt.Sprintf(`Bearer realm="incidentd", error="insufficient_scope", scope=%q`, rt.scope)
			if denied.status != http.StatusForbidden || denied.errorCode() != "forbidden" || denied.header.Get("WWW-Authenticate") != wantAuth {
				t.Errorf("token %s: got %d %s (%q), want 403 forbidden (%q)", rt.denied, denied.status, denied.body, denied.header.Get("WWW-Authenticate"), wantAuth)
			}
			anonymous := e.do(t, req{method: rt.method, path: rt.path, body: rt.body})
			if anonymous.status != http.StatusUnauthorized {
				t.Errorf("no token: got %d %s, want 401", anonymous.status, anonymous.body)
			}
			ok := e.do(t, req{method: rt.method, path: rt.path, token: rt.allowed, body: rt.body})
			if ok.status >= 300 {
				t.Errorf("token %s: got %d %s, want success", rt.allowed, ok.status, ok.body)
			}
			admin := e.do(t, req{method: rt.method, path: rt.path, token: "admin", body: rt.body})
			if admin.status == http.StatusForbidden || admin.status == http.StatusUnauthorized {
				t.Errorf("admin: got %d %s, want admitted", admin.status, admin.body)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	big := `{"text":"` + strings.Repeat("a", httpapi.DefaultMaxBody) + `"}`
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		contentType string
		header      map[string]string
		status      int
		code        string
		message     string // a part of the message
	}{
		{"unknown field", "POST", "/incidents", `{"service":"checkout","title":"x","priority":"high"}`, "", nil, 400, "unknown_field", `"priority"`},
		{"unknown nested field", "POST", "/reports", `{"service":"checkout","summary":"x","reporter":{"phone":"1"}}`, "", nil, 400, "unknown_field", `"phone"`},
		{"malformed JSON", "POST", "/incidents", "{\n  \"service\": \"checkout\",\n  \"title\": x\n}", "", nil, 400, "invalid_json", "line 3, column 12"},
		{"truncated JSON", "POST", "/incidents", `{"service":"checkout"`, "", nil, 400, "invalid_json", "ends early"},
		{"trailing data", "POST", "/incidents/" + id + "/notes", `{"text":"a"} {"text":"b"}`, "", nil, 400, "trailing_data", "line 1, column 14"},
		{"trailing garbage", "POST", "/incidents/" + id + "/notes", `{"text":"a"}x`, "", nil, 400, "trailing_data", ""},
		{"array body", "POST", "/incidents", `[{"service":"checkout"}]`, "", nil, 400, "invalid_json", "JSON object"},
		{"null body", "POST", "/incidents", `null`, "", nil, 400, "invalid_json", "JSON object"},
		{"empty body", "POST", "/incidents", ``, "application/json", nil, 400, "empty_body", ""},
		{"wrong field type", "POST", "/incidents", `{"service":"checkout","title":42}`, "", nil, 400, "invalid_field", `"title" must be a string`},
		{"wrong nested type", "POST", "/reports", `{"service":"checkout","summary":"x","affected_users":"many"}`, "", nil, 400, "invalid_field", `"affected_users" must be an integer`},
		{"number too big", "POST", "/reports", `{"service":"checkout","summary":"x","affected_users":1e40}`, "", nil, 400, "invalid_field", "affected_users"},
		{"body too large", "POST", "/incidents/" + id + "/notes", big, "", nil, 413, "body_too_large", "65536"},
		{"text/plain", "POST", "/incidents", `{"service":"checkout","title":"x"}`, "text/plain", nil, 415, "unsupported_media_type", "text/plain"},
		{"form", "POST", "/incidents", `service=checkout`, "application/x-www-form-urlencoded", nil, 415, "unsupported_media_type", ""},
		{"latin-1 JSON", "POST", "/incidents", `{"service":"checkout","title":"x"}`, "application/json; charset=latin1", nil, 415, "unsupported_media_type", ""},
		{"bad severity", "POST", "/incidents", `{"service":"checkout","title":"x","severity":"SEV9"}`, "", nil, 400, "invalid", "SEV9"},
		{"no title", "POST", "/incidents", `{"service":"checkout"}`, "", nil, 400, "invalid", "title"},
		{"bad service name", "POST", "/incidents", `{"service":"Check Out","title":"x"}`, "", nil, 400, "invalid", "Check Out"},
		{"empty note", "POST", "/incidents/" + id + "/notes", `{"text":"  "}`, "", nil, 400, "invalid", "text"},
		{"empty patch", "PATCH", "/incidents/" + id, `{}`, "", nil, 400, "invalid", "nothing to change"},
		{"bad patch severity", "PATCH", "/incidents/" + id, `{"severity":"high"}`, "", nil, 400, "invalid", "high"},
		{"report without service", "POST", "/reports", `{"summary":"x"}`, "", nil, 400, "invalid", "service"},
		{"report without summary", "POST", "/reports", `{"service":"checkout"}`, "", nil, 400, "invalid", "summary"},
		{"report with bad email", "POST", "/reports", `{"service":"checkout","summary":"x","reporter":{"email":"Dana <dana@example.com>"}}`, "", nil, 400, "invalid", "e-mail"},
		{"negative affected users", "POST", "/reports", `{"service":"checkout","summary":"x","affected_users":-1}`, "", nil, 400, "invalid", "affected_users"},
		{"bad idempotency key", "POST", "/reports", `{"service":"checkout","summary":"x"}`, "", map[string]string{"Idempotency-Key": "has space"}, 400, "invalid", "Idempotency-Key"},
		{"bad service config", "PUT", "/services/checkout", `{"paging_severities":["SEV5"]}`, "", nil, 400, "invalid", "SEV5"},
		{"bad service name in path", "PUT", "/services/Check%20Out", `{}`, "", nil, 400, "invalid", "Check Out"},
		{"service config with name", "PUT", "/services/checkout", `{"name":"other"}`, "", nil, 400, "unknown_field", `"name"`},
		{"bad limit", "GET", "/incidents?limit=ten", "", "", nil, 400, "invalid", "limit"},
		{"zero limit", "GET", "/incidents?limit=0", "", "", nil, 400, "invalid", "limit"},
		{"limit too big", "GET", "/incidents?limit=1000", "", "", nil, 400, "invalid", "limit"},
		{"bad status", "GET", "/incidents?status=closed", "", "", nil, 400, "invalid", "closed"},
		{"unknown parameter", "GET", "/incidents?stauts=open", "", "", nil, 400, "invalid", "stauts"},
		{"repeated parameter", "GET", "/incidents?status=open&status=resolved", "", "", nil, 400, "invalid", "status"},
		{"bad cursor", "GET", "/incidents?cursor=garbage", "", "", nil, 400, "invalid", "cursor"},
		{"malformed query", "GET", "/incidents?status=%zz", "", "", nil, 400, "invalid", "query"},
		{"unknown incident", "GET", "/incidents/01jd0000000000000000000000", "", "", nil, 404, "not_found", ""},
		{"not an incident id", "GET", "/incidents/nope", "", "", nil, 404, "not_found", ""},
		{"acknowledge unknown incident", "POST", "/incidents/01jd0000000000000000000000/acknowledge", "", "", nil, 404, "not_found", ""},
		{"unknown service", "GET", "/services/nope", "", "", nil, 404, "not_found", ""},
		{"unknown route", "GET", "/nope", "", "", nil, 404, "not_found", "/nope"},
		{"trailing slash", "GET", "/incidents/", "", "", nil, 404, "not_found", ""},
		{"double slash", "GET", "//incidents", "", "", nil, 404, "not_found", ""},
		{"dot segments", "GET", "/incidents/../services", "", "", nil, 404, "not_found", ""},
		{"wrong method", "DELETE", "/incidents/" + id, "", "", nil, 405, "method_not_allowed", "DELETE"},
		{"wrong method on collection", "PUT", "/incidents", `{}`, "", nil, 405, "method_not_allowed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, req{method: tt.method, path: tt.path, token: "admin", body: tt.body, contentType: tt.contentType, header: tt.header})
			if res.status != tt.status || res.errorCode() != tt.code || !strings.Contains(res.errorMessage(), tt.message) {
				t.Errorf("got %d %s, want %d code %q with %q in the message", res.status, res.body, tt.status, tt.code, tt.message)
			}
		})
	}
}

func TestMethodNotAllowedListsAllowedMethods(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.do(t, req{method: "POST", path: "/services/checkout", token: "admin"})
	if allow := res.header.Get("Allow"); res.status != 405 || !strings.Contains(allow, "GET") || !strings.Contains(allow, "PUT") || !strings.Contains(allow, "DELETE") {
		t.Errorf("got %d Allow %q, want 405 with GET, PUT and DELETE", res.status, allow)
	}
}

func TestPublicReports(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := now
	e := newEnv(t, envOptions{public: true, now: func() time.Time { return clock }})
	body := `{"service":"checkout","summary":"Checkout times out","reporter":{"email":"dana@example.com"}}`

	res := e.do(t, req{method: "POST", path: "/reports", body: body, remote: "198.51.100.7:5123"})
	if res.status != http.StatusAccepted {
		t.Fatalf("public report: got %d %s, want 202", res.status, res.body)
	}
	anon := e.do(t, req{method: "POST", path: "/reports", body: `{"service":"checkout","summary":"x"}`, remote: "198.51.100.8:1"})
	if anon.status != http.StatusBadRequest || !strings.Contains(anon.errorMessage(), "reporter") {
		t.Errorf("public report without reporter: got %d %s, want 400 naming the reporter", anon.status, anon.body)
	}
	bad := e.do(t, req{method: "POST", path: "/reports", token: "Bearer nope", body: body, remote: "198.51.100.9:1"})
	if bad.status != http.StatusUnauthorized {
		t.Errorf("public report with a bad token: got %d, want 401 (a token given is checked)", bad.status)
	}
	other := e.do(t, req{method: "GET", path: "/incidents", remote: "198.51.100.7:5123"})
	if other.status != http.StatusUnauthorized {
		t.Errorf("GET /incidents without token: got %d, want 401 (only reports are public)", other.status)
	}

	// 10 per minute per address: 9 more pass, the 11th is refused.
	for i := range 9 {
		if r := e.do(t, req{method: "POST", path: "/reports", body: body, remote: "198.51.100.7:6000"}); r.status != http.StatusAccepted {
			t.Fatalf("report %d: got %d %s, want 202", i+2, r.status, r.body)
		}
	}
	limited := e.do(t, req{method: "POST", path: "/reports", body: body, remote: "198.51.100.7:6001"})
	if limited.status != http.StatusTooManyRequests || limited.header.Get("Retry-After") != "6" {
		t.Errorf("11th report: got %d (Retry-After %q) %s, want 429 with Retry-After 6", limited.status, limited.header.Get("Retry-After"), limited.body)
	}
	if r := e.do(t, req{method: "POST", path: "/reports", body: body, remote: "203.0.113.1:1"}); r.status != http.StatusAccepted {
		t.Errorf("another address: got %d, want 202", r.status)
	}
	if r := e.do(t, req{method: "POST", path: "/reports", token: "reporter", body: body, remote: "198.51.100.7:1"}); r.status != http.StatusAccepted {
		t.Errorf("with a token from a limited address: got %d, want 202 (tokens are not rate limited here)", r.status)
	}
	// IPv6 clients are counted per /64.
	for i := range 10 {
		e.do(t, req{method: "POST", path: "/reports", body: body, remote: fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)})
	}
	if r := e.do(t, req{method: "POST", path: "/reports", body: body, remote: "[2001:db8:1:2::ffff]:443"}); r.status != http.StatusTooManyRequests {
		t.Errorf("11th report from one /64: got %d, want 429", r.status)
	}
	clock = now.Add(6 * time.Second)
	if r := e.do(t, req{method: "POST", path: "/reports", body: body, remote: "198.51.100.7:6002"}); r.status != http.StatusAccepted {
		t.Errorf("after 6 s: got %d %s, want 202 (one report refilled)", r.status, r.body)
	}
}

func TestPublicReportsOff(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.do(t, req{method: "POST", path: "/reports", body: `{"service":"checkout","summary":"x","reporter":{"name":"Dana"}}`})
	if res.status != http.StatusUnauthorized {
		t.Errorf("got %d, want 401 while PUBLIC_REPORTS is off", res.status)
	}
}

func TestPanicIsA500InJSON(t *testing.T) {
	e := newEnv(t, envOptions{})
	// A handler without its incident service panics on first use.
	api := httpapi.New(httpapi.Config{Tokens: auth.NewAuthenticator(e.store), Logger: e.logger})
	r := httptest.NewRequest("GET", "/services", nil)
	r.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, r)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Errorf("got %d %s, want 500 internal", rec.Code, rec.Body)
	}
	if !strings.Contains(e.logs.String(), "panic serving request") {
		t.Errorf("got logs %s, want the panic logged", e.logs)
	}
	if strings.Contains(rec.Body.String(), "nil pointer") {
		t.Errorf("got %s, want no detail of the cause", rec.Body)
	}
}

func TestActorIsTheTokensName(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	res := e.do(t, req{method: "POST", path: "/incidents/" + id + "/notes", token: "writer",
		body: `{"text":"on it"}`, header: map[string]string{"X-Actor": "mallory"}})
	if res.status != http.StatusCreated || res.str("actor") != "writer" {
		t.Errorf("got %d actor %q, want 201 by %q (X-Actor is not honoured)", res.status, res.str("actor"), "writer")
	}
	if body := e.do(t, req{method: "POST", path: "/incidents/" + id + "/notes", token: "writer", body: `{"text":"x","actor":"mallory"}`}); body.status != 400 || body.errorCode() != "unknown_field" {
		t.Errorf("actor in the body: got %d %s, want 400 unknown_field", body.status, body.body)
	}
}
