package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/httpapi"
)

// The API port dispatches each route of httpapi.Routes to the function the
// table names, as API Gateway's routes do: it answers as that function does
// through the invoke endpoint (the same status), not as the api would (its
// "no route" 404).
// A wildcard is sent as it is written ("{id}"): the function answers for an
// incident of that id.
func TestAPIPortDispatchesTheRouteTable(t *testing.T) {
	p, api, invoke := startLocal(t, nil)
	for _, r := range httpapi.Routes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		t.Run(r.Pattern, func(t *testing.T) {
			if _, ok := p.functions[r.Function]; !ok {
				t.Fatalf("route %s names function %q, which make local does not run", r.Pattern, r.Function)
			}
			var reqBody []byte
			if method == http.MethodPut {
				reqBody = []byte(`{}`)
			}
			status, _, body := call(t, method, api.URL+path, p.token, reqBody)
			if method == http.MethodGet && !strings.Contains(path, "{") && status != http.StatusOK {
				t.Errorf("API port: got %d %s, want 200 from function %s", status, body, r.Function)
			}
			ev, _ := json.Marshal(map[string]any{
				"version": "2.0", "routeKey": r.Pattern, "rawPath": path,
				"headers":        map[string]string{"authorization": "Bearer " + p.token, "content-type": "application/json"},
				"body":           string(reqBody),
				"requestContext": map[string]any{"http": map[string]any{"method": method, "path": path, "sourceIp": "127.0.0.1"}, "requestId": "r1"},
			})
			answer := func(fn string) (int, string) {
				_, _, out := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/"+fn+"/invocations", "", ev)
				var resp struct {
					StatusCode int    `json:"statusCode"`
					Body       string `json:"body"`
				}
				if err := json.Unmarshal(out, &resp); err != nil {
					t.Fatalf("invoke %s: %s (%v)", fn, out, err)
				}
				return resp.StatusCode, resp.Body
			}
			if st, b := answer(r.Function); st != status {
				t.Errorf("invoke %s: got %d %s, want the API port's status %d (%s)", r.Function, st, b, status, body)
			}
			// The api's answer to a route it does not serve, which the API
			// port must never give.
			if st, b := answer("api"); st != http.StatusNotFound || !strings.Contains(b, "no route") {
				t.Errorf("the api answers %s with %d %s, want its 404 \"no route\"", r.Pattern, st, b)
			}
			if strings.Contains(string(body), "no route") {
				t.Errorf("API port: %s answered %d %s, the api's \"no route\"", r.Pattern, status, body)
			}
		})
	}
	// Any other route is the api's.
	if status, _, body := call(t, http.MethodGet, api.URL+"/incidents", p.token, nil); status != http.StatusOK {
		t.Errorf("GET /incidents: got %d %s, want 200 from the api", status, body)
	}
}
