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
// through the invoke endpoint, never with the api's "no route" 404.
func TestAPIPortDispatchesTheRouteTable(t *testing.T) {
	p, api, invoke := startLocal(t, nil)
	for _, r := range httpapi.Routes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		t.Run(r.Pattern, func(t *testing.T) {
			if _, ok := p.functions[r.Function]; !ok {
				t.Fatalf("route %s names function %q, which make local does not run", r.Pattern, r.Function)
			}
			status, _, body := call(t, method, api.URL+path, p.token, nil)
			if status != http.StatusOK {
				t.Errorf("API port: got %d %s, want 200 from function %s", status, body, r.Function)
			}
			ev, _ := json.Marshal(map[string]any{
				"version": "2.0", "routeKey": r.Pattern, "rawPath": path,
				"headers":        map[string]string{"authorization": "Bearer " + p.token},
				"requestContext": map[string]any{"http": map[string]any{"method": method, "path": path, "sourceIp": "127.0.0.1"}, "requestId": "r1"},
			})
			_, _, out := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/"+r.Function+"/invocations", "", ev)
			var resp struct {
				StatusCode int `json:"statusCode"`
			}
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != status {
				t.Errorf("invoke %s: got %s (%v), want the API port's status %d", r.Function, out, err, status)
			}
		})
	}
	// Any other route is the api's.
	if status, _, body := call(t, http.MethodGet, api.URL+"/incidents", p.token, nil); status != http.StatusOK {
		t.Errorf("GET /incidents: got %d %s, want 200 from the api", status, body)
	}
}
