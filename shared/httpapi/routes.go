package httpapi

import (
	"net/http"
	"path"
	"strings"
)

// The HTTP API is served by several Lambda functions behind one API Gateway
// HTTP API (README, "The API", which functions serve what): the api function
// is the $default integration, and every route of Routes goes to the function
// it names instead. infra/api turns each into an explicit API Gateway route,
// and infra/local's API port dispatches the same patterns (Dispatch), so
// that both runtimes send a request to the same function.
const (
	// FunctionAPI serves every request no route of Routes matches.
	FunctionAPI = "api"
	// FunctionWeb serves pages and documents: the status page, the DORA
	// report, the post-mortems (NewWeb).
	FunctionWeb = "web"
	// FunctionIngest serves the alert senders that speak another product's
	// API: PagerDuty's Events API v2 and Opsgenie's Alert API (shared/compat).
	// A storm of their requests runs on its own instances, never starving
	// the api's (acknowledgements, Slack buttons).
	FunctionIngest = "ingest"
)

// Route sends the requests that match Pattern to Function.
type Route struct {
	// Pattern is a Go ServeMux pattern with a method: "GET /status". A
	// "{name}" wildcard fills one path segment, as an API Gateway path
	// parameter does ("{name...}" would be API Gateway's "{name+}").
	Pattern string
	// Function is the folder under functions/ that serves it.
	Function string
}

// Routes is the table of the routes a function other than the api serves:
// the one place that says which function serves a route. Adding a route
// (or a function) is a line here, its handler in that function's mux, and
// nothing in infra/: the stack and make local read this table.
func Routes() []Route {
	return []Route{
		{"GET /status", FunctionWeb},
		{"GET /metrics/dora", FunctionWeb},
		{"GET /metrics/dora/history", FunctionWeb},
		{"GET /incidents/{id}/postmortem", FunctionWeb},
		{"PUT /incidents/{id}/postmortem", FunctionWeb},
		{"GET /ack/{token}", FunctionWeb},
		{"POST /ack/{token}", FunctionWeb},
		{"POST /v2/enqueue", FunctionIngest},
		{"POST /v2/alerts", FunctionIngest},
		{"POST /v2/alerts/{identifier}/close", FunctionIngest},
		{"POST /v2/alerts/{identifier}/acknowledge", FunctionIngest},
		{"PUT /v2/alerts/{identifier}/message", FunctionIngest},
		{"PUT /v2/alerts/{identifier}/description", FunctionIngest},
	}
}

// Dispatch returns the handler of a runtime that serves every function of
// the HTTP API on one port (infra/local): a request matching a route of
// Routes goes to that function's handler, any other to the api's, as API
// Gateway sends it. A function of Routes missing from handlers is left out
// (its requests go to the api, which answers 404).
func Dispatch(handlers map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, r := range Routes() {
		if h, ok := handlers[r.Function]; ok {
			mux.Handle(r.Pattern, h)
		}
	}
	return &dispatcher{mux: mux, def: handlers[FunctionAPI]}
}

type dispatcher struct {
	mux *http.ServeMux
	def http.Handler
}

func (d *dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// An unclean path ("//status") matches no API Gateway route either: the
	// api answers it (the mux would redirect it).
	if path.Clean(r.URL.Path) == r.URL.Path {
		// A GET pattern of the mux matches HEAD too; API Gateway's route
		// does not.
		if h, pattern := d.mux.Handler(r); strings.HasPrefix(pattern, r.Method+" ") {
			h.ServeHTTP(w, r)
			return
		}
	}
	d.def.ServeHTTP(w, r)
}
