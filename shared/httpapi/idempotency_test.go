package httpapi_test

import (
	"strings"
	"testing"
)

// An Idempotency-Key is scoped to the token (or, without a token, to the
// reporter named) and checked against the body: the same key with the same
// request answers the first answer again; with another body it is a 422 naming
// the key, and nothing is recorded.
func TestIdempotencyKeyIsCheckedAgainstTheBody(t *testing.T) {
	e := newEnv(t, envOptions{public: true})
	const (
		bodyA     = `{"service":"checkout","summary":"Checkout times out","reporter":{"name":"Dana","email":"dana@example.com"},"affected_users":3}`
		bodyAAgin = `{ "affected_users": 3, "reporter": {"email":"dana@example.com","name":"Dana"}, "summary": "Checkout times out", "service": "checkout" }`
		bodyB     = `{"service":"checkout","summary":"Checkout times out","reporter":{"name":"Dana","email":"dana@example.com"},"affected_users":4}`
		anonDana  = `{"service":"checkout","summary":"Cannot pay","reporter":{"email":"dana@example.com"}}`
		anonDana2 = `{"service":"checkout","summary":"Cannot pay at all","reporter":{"email":"dana@example.com"}}`
		anonErin  = `{"service":"checkout","summary":"Cart is empty","reporter":{"email":"erin@example.com"}}`
	)
	tests := []struct {
		name       string
		token      string // "" for a public report
		key, body  string
		wantStatus int
		wantCode   string // of an error
		// wantReportOf names the earlier step whose report this answer
		// repeats; "" for a new report.
		wantReportOf string
	}{
		{name: "first", token: "reporter", key: "k-1", body: bodyA, wantStatus: 202},
		{name: "same body", token: "reporter", key: "k-1", body: bodyA, wantStatus: 202, wantReportOf: "first"},
		{name: "same body re-serialised", token: "reporter", key: "k-1", body: bodyAAgin, wantStatus: 202, wantReportOf: "first"},
		{name: "another body", token: "reporter", key: "k-1", body: bodyB, wantStatus: 422, wantCode: "idempotency_key_reused"},
		{name: "same key, another token", token: "admin", key: "k-1", body: bodyB, wantStatus: 202},
		{name: "public first", key: "k-1", body: anonDana, wantStatus: 202},
		{name: "public same body", key: "k-1", body: anonDana, wantStatus: 202, wantReportOf: "public first"},
		{name: "public another body", key: "k-1", body: anonDana2, wantStatus: 422, wantCode: "idempotency_key_reused"},
		{name: "public same key, another reporter", key: "k-1", body: anonErin, wantStatus: 202},
	}
	reports := map[string]string{}
	seen := map[string]bool{}
	for _, tt := range tests {
		res := e.do(t, req{method: "POST", path: "/reports", token: tt.token, body: tt.body,
			header: map[string]string{"Idempotency-Key": tt.key}, remote: "192.0.2.7:4000"})
		if res.status != tt.wantStatus || res.errorCode() != tt.wantCode {
			t.Errorf("%s: got %d %s, want %d %q", tt.name, res.status, res.body, tt.wantStatus, tt.wantCode)
			continue
		}
		if tt.wantCode != "" && !strings.Contains(res.errorMessage(), `"`+tt.key+`"`) {
			t.Errorf("%s: got message %q, want it to name the key %q", tt.name, res.errorMessage(), tt.key)
		}
		id := res.str("report_id")
		reports[tt.name] = id
		switch {
		case tt.wantCode != "":
		case tt.wantReportOf != "" && id != reports[tt.wantReportOf]:
			t.Errorf("%s: got report %s, want %s of step %q", tt.name, id, reports[tt.wantReportOf], tt.wantReportOf)
		case tt.wantReportOf == "" && seen[id]:
			t.Errorf("%s: got report %s again, want a new report", tt.name, id)
		}
		seen[id] = true
	}
	// Four reports were accepted: first, another token's, and the two public
	// reporters'. Neither refused request counted.
	inc := e.do(t, req{method: "GET", path: "/incidents?status=open&service=checkout", token: "reader"})
	items, _ := inc.json["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("got %d open incidents, want 1: %s", len(items), inc.body)
	}
	if n, _ := items[0].(map[string]any)["signal_count"].(float64); n != 4 {
		t.Errorf("got signal_count %v, want 4", n)
	}
}
