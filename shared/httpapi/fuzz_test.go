package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
)

// fuzzEnv is an API over DynamoDB Local, seeded with the dev token, service
// checkout and one incident, for fuzz targets to send anything at.
func fuzzEnv(f *testing.F) (*env, string) {
	e := newEnv(f, envOptions{})
	ctx := context.Background()
	if err := e.store.PutAPIToken(ctx, auth.LocalDevRecord(time.Now())); err != nil {
		f.Fatal(err)
	}
	if _, err := e.svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout"}); err != nil {
		f.Fatal(err)
	}
	return e, e.declare(f)
}

// checkAnswer fails t unless the answer is a 1xx-4xx with a JSON object body,
// and an error body for a 4xx; a schedule's calendar (200 text/calendar) is
// the one answer that is not JSON.
func checkAnswer(t *testing.T, what string, status int, contentType string, body []byte) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("%s: got %d %s, want no server error", what, status, body)
	}
	if status == http.StatusOK && strings.HasPrefix(contentType, "text/calendar") {
		if !bytes.HasPrefix(body, []byte("BEGIN:VCALENDAR")) {
			t.Fatalf("%s: got a text/calendar body that is no calendar: %q", what, body)
		}
		return
	}
	if !strings.HasPrefix(contentType, "application/json") {
		t.Fatalf("%s: got Content-Type %q, want JSON", what, contentType)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: got %d with a body that is not a JSON object: %v\n%q", what, status, err, body)
	}
	if status >= 400 {
		e, _ := v["error"].(map[string]any)
		if code, _ := e["code"].(string); code == "" {
			t.Fatalf("%s: got %d without an error code: %s", what, status, body)
		}
	}
}

// FuzzRequestBody sends a body to every route that takes one, through the real
// handler and store.
func FuzzRequestBody(f *testing.F) {
	for _, file := range fixtures(f) {
		ev := loadFixture(f, file, fixtureIncidentID)
		if ev.Body != "" {
			f.Add([]byte(ev.Body), "application/json")
		}
	}
	for _, s := range []string{
		`{}`, `{"text":"x"}`, `{"severity":"sev1","title":"t","commander":"c"}`, `{"reporter":null}`,
		`{"paging_severities":[],"alarms":["a*"],"report_threshold":2}`, `{"a":1}{"b":2}`, `[]`, `null`, `{"text":"\ud800"}`,
		`{"affected_users":9223372036854775808}`, `{"service":"checkout","summary":"x","reporter":{"email":"a@b"}}`,
		primaryScheduleJSON, checkoutPolicyJSON, aliceJSON, `{"name":"x","time_zone":"Mars/Olympus","rotations":[]}`,
		`{"name":"x","time_zone":"UTC","rotations":[{"participants":["a"],"shift_hours":1,"start":"0001-01-01T00:00:00Z"}]}`,
		`{"name":"p","levels":[{"targets":[{"schedule":"nightly"}]}],"fallback":{"user":"d"}}`,
		`{"id":"bob","name":"x","phone":"+1","slack_user_id":"W"}`,
	} {
		f.Add([]byte(s), "application/json; charset=utf-8")
	}
	f.Add([]byte(`{"text":"x"}`), "text/plain")
	f.Add([]byte(`{"text":"x"}`), "")
	e, id := fuzzEnv(f)
	routes := []struct{ method, path string }{
		{"POST", "/reports"},
		{"POST", "/incidents"},
		{"PATCH", "/incidents/" + id},
		{"POST", "/incidents/" + id + "/acknowledge"},
		{"POST", "/incidents/" + id + "/identify"},
		{"POST", "/incidents/" + id + "/notes"},
		{"POST", "/incidents/" + id + "/resolve"},
		{"PUT", "/services/checkout"},
		{"PUT", "/schedules/primary"},
		{"PUT", "/policies/checkout"},
		{"PUT", "/users/alice"},
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, rt := range routes {
			r := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
			r.Header.Set("Authorization", "Bearer "+auth.LocalDevToken)
			rec := httptest.NewRecorder()
			e.api.ServeHTTP(rec, r)
			checkAnswer(t, rt.method+" "+rt.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
		}
	})
}

// FuzzAPIEvent feeds API Gateway v2 events, seeded from events/api-*.json,
// through the Lambda adapter to the real API and store: whatever the method,
// path, query, body and headers, the answer is JSON and no server error.
func FuzzAPIEvent(f *testing.F) {
	for _, file := range fixtures(f) {
		ev := loadFixture(f, file, fixtureIncidentID)
		f.Add(ev.RequestContext.HTTP.Method, ev.RawPath, ev.RawQueryString, ev.Body, false, ev.Headers["authorization"], ev.Headers["content-type"])
	}
	f.Add("GET", "/incidents", "cursor=eyJwayI6IngifQ&limit=100", "", false, "Bearer "+auth.LocalDevToken, "")
	f.Add("GET", "/incidents", "status=all&service=checkout&limit=-1", "", false, "Bearer "+auth.LocalDevToken, "")
	f.Add("POST", "/reports", "", base64.StdEncoding.EncodeToString([]byte(`{"service":"checkout","summary":"x"}`)), true, "Bearer "+auth.LocalDevToken, "application/json")
	f.Add("GET", "/incidents/%zz", "a=%zz&&=", "", false, "", "")
	f.Add("DELETE", "//incidents/../services", "", "", false, "Bearer x", "")
	f.Add("OPTIONS", "/services/checkout", "", "", false, "Bearer "+auth.LocalDevToken, "")
	e, id := fuzzEnv(f)
	api := httpapi.NewLambda(e.api, e.logger)
	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery, body string, b64 bool, authorization, contentType string) {
		rawPath = strings.ReplaceAll(rawPath, fixtureIncidentID, id)
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default", RawPath: rawPath, RawQueryString: rawQuery,
			Body: body, IsBase64Encoded: b64,
			Headers: map[string]string{"authorization": authorization, "content-type": contentType, "host": "api.example.com"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RequestID: "fuzz", DomainName: "api.example.com",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath, SourceIP: "203.0.113.5"},
			},
		}
		res, err := api.Handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("got error %v, want a response", err)
		}
		if method == http.MethodHead {
			if res.StatusCode >= 500 {
				t.Fatalf("HEAD %s: got %d", rawPath, res.StatusCode)
			}
			return
		}
		checkAnswer(t, method+" "+rawPath+"?"+rawQuery, res.StatusCode, res.Headers["Content-Type"], []byte(res.Body))
	})
}
