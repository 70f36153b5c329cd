package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/compat"
	"github.com/incidentd/incidentd/shared/httpapi"
)

// Each function's handler serves exactly its routes of the table: the web
// function every route the table gives it and no other, the ingest
// function's mux (shared/compat) each of its own, the api none of the
// table's (they would never reach it in AWS).
func TestRoutesAreServed(t *testing.T) {
	e, _ := postmortemEnv(t) // every adapter a web route needs
	ingest := http.NewServeMux()
	compat.Register(ingest, compat.Config{Incidents: e.svc, Keys: e.store})
	var want []string
	for _, r := range httpapi.Routes() {
		if slices.Contains(e.api.Patterns(), r.Pattern) {
			t.Errorf("the api serves %s too, which API Gateway sends to %s", r.Pattern, r.Function)
		}
		if r.Function == httpapi.FunctionIngest {
			method, path, _ := strings.Cut(r.Pattern, " ")
			if _, pattern := ingest.Handler(httptest.NewRequest(method, path, nil)); pattern != r.Pattern {
				t.Errorf("route %s: the ingest function's mux matches it with %q", r.Pattern, pattern)
			}
			continue
		}
		if r.Function != httpapi.FunctionWeb {
			t.Errorf("route %s names function %q: no handler here serves it (add the function's constructor and this test's case)", r.Pattern, r.Function)
			continue
		}
		want = append(want, r.Pattern)
	}
	got := slices.Clone(e.web.Patterns())
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("web serves %v, want the table's web routes %v", got, want)
	}
}

// Dispatch sends each route of the table to its function and everything
// else to the api, as API Gateway's routes and $default do.
func TestDispatch(t *testing.T) {
	served := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Function", name) })
	}
	h := httpapi.Dispatch(map[string]http.Handler{httpapi.FunctionAPI: served("api"), httpapi.FunctionWeb: served("web"),
		httpapi.FunctionIngest: served("ingest")})
	tests := []struct {
		method, path string
		want         string
	}{
		{"GET", "/status", "web"},
		{"GET", "/metrics/dora", "web"},
		{"GET", "/metrics/dora/history", "web"},
		{"GET", "/metrics/dora?service=checkout", "web"},
		{"HEAD", "/status", "api"}, // API Gateway's GET route does not take HEAD
		{"POST", "/status", "api"},
		{"GET", "//status", "api"},
		{"GET", "/status/", "api"},
		{"GET", "/incidents", "api"},
		{"POST", "/reports", "api"},
		{"POST", "/v2/alerts/abc/close", "ingest"},
		{"GET", "/v2/alerts", "api"},
	}
	for _, r := range httpapi.Routes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		tests = append(tests, struct{ method, path, want string }{method, path, r.Function})
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if got := rec.Header().Get("X-Function"); got != tt.want {
				t.Errorf("got function %q, want %q", got, tt.want)
			}
		})
	}
}
