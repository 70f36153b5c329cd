package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/httpapi"
)

// Each function's handler serves exactly its routes of the table: the web
// function every route the table gives it and no other, the api none of the
// table's (they would never reach it in AWS).
func TestRoutesAreServed(t *testing.T) {
	e, _ := postmortemEnv(t) // every adapter a web route needs
	var want []string
	for _, r := range httpapi.Routes() {
		if r.Function != httpapi.FunctionWeb {
			t.Errorf("route %s names function %q: no handler here serves it (add the function's constructor and this test's case)", r.Pattern, r.Function)
			continue
		}
		want = append(want, r.Pattern)
		if slices.Contains(e.api.Patterns(), r.Pattern) {
			t.Errorf("the api serves %s too, which API Gateway sends to %s", r.Pattern, r.Function)
		}
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
	h := httpapi.Dispatch(map[string]http.Handler{httpapi.FunctionAPI: served("api"), httpapi.FunctionWeb: served("web")})
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
