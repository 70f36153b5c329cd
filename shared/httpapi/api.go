package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"time"

	"github.com/incidentd/incidentd/shared/acklink"
	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/httpapi/apigw"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// Authenticator checks a presented bearer token; *auth.Authenticator is one.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Token, error)
}

// Config is what the API needs.
type Config struct {
	Incidents *incident.Service
	Tokens    Authenticator
	// OnCall serves schedules, policies, users (with their PagingTopic
	// subscriptions, when it has a Subscriber) and who is on call; without it
	// the on-call routes are absent (404).
	OnCall *oncall.Service
	// SlackSigningSecret verifies POST /slack/commands and /slack/interactions;
	// empty means Slack is not set up and those routes are absent (404).
	SlackSigningSecret string
	// SlackUsers maps Slack users to responders; default OnCall.
	SlackUsers SlackUsers
	// PublicReports lets POST /reports through without a token (a status page's
	// "report a problem" form). Such reports are rate limited per source IP and
	// must name their reporter.
	PublicReports bool
	// PublicReportsPerMinute is each source IP's allowance of public reports
	// (default 10), also the burst.
	PublicReportsPerMinute int
	// Deployments serves POST /deployments (and, with the three below, POST
	// /webhooks/github); without it both are absent (404).
	Deployments Deployments
	// Deliveries remembers GitHub delivery ids (X-GitHub-Delivery).
	Deliveries Deliveries
	// GitHubSecret verifies GitHub's webhook deliveries; empty means the
	// webhook is not set up and POST /webhooks/github is absent (404).
	GitHubSecret string
	// GitHubServices maps repositories to services (deploy.StaticServices).
	GitHubServices deploy.ServiceResolver
	// DORA serves GET /metrics/dora; without it the route is absent (404).
	DORA DORARecords
	// DORAHistory serves GET /metrics/dora/history (with DORA); without it
	// the route is absent (404).
	DORAHistory DORASnapshots
	// SuspectWindow bounds GET /metrics/dora's suspected links (zero:
	// dora.DefaultSuspectWindow; settings' DORA_SUSPECT_WINDOW).
	SuspectWindow time.Duration
	// Services lists the configured services (the web function's status
	// page and DORA report show each); *dynamo.Store is one.
	Services ServiceNames
	// KnownServices are services the DORA report page shows besides the
	// configured ones (DEPLOY_SERVICES').
	KnownServices []string
	// PublicStatus serves GET /status without a token (settings'
	// PUBLIC_STATUS); otherwise it needs incidents:read.
	PublicStatus bool
	// Postmortems serves GET and PUT /incidents/{id}/postmortem
	// (postmortem.go); without it both are absent (404).
	Postmortems PostmortemDocs
	// AckLinks verifies the acknowledge links of SNS pages and serves GET
	// and POST /ack/{token} (ack.go); without it both are absent (404).
	AckLinks *acklink.Signer
	// MaxBody bounds request bodies (default DefaultMaxBody).
	MaxBody int64
	Logger  *slog.Logger
	// Now is the clock of the rate limiter (tests); default time.Now.
	Now func() time.Time
}

// API is the HTTP API's handler.
type API struct {
	svc     *incident.Service
	tokens  Authenticator
	oncall  *oncall.Service
	public  bool
	limiter *limiter
	maxBody int64
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	// patterns are the routes handled, in order (Patterns).
	patterns []string

	// slackSecret and slackUsers serve the Slack routes (slack.go).
	slackSecret string
	slackUsers  SlackUsers

	// The deployment routes (deployments.go).
	deployments    Deployments
	deliveries     Deliveries
	githubSecret   string
	githubServices deploy.ServiceResolver

	// GET /metrics/dora (dora.go).
	dora          DORARecords
	doraHistory   DORASnapshots
	suspectWindow time.Duration

	// The web function's pages (web.go).
	services      ServiceNames
	knownServices []string
	publicStatus  bool
	// The post-mortem routes (postmortem.go).
	postmortems PostmortemDocs
	// The acknowledge links (ack.go).
	ackLinks *acklink.Signer
}

// New returns the api function's handler: every route but those of Routes.
func New(c Config) *API {
	a := newAPI(c)
	a.routes()
	return a
}

// NewWeb returns the web function's handler: the routes of Routes whose
// function is FunctionWeb (web.go). Its binary links none of the api's
// handlers, nor the api its.
func NewWeb(c Config) *API {
	a := newAPI(c)
	a.webRoutes()
	return a
}

func newAPI(c Config) *API {
	a := &API{
		svc: c.Incidents, tokens: c.Tokens, oncall: c.OnCall, public: c.PublicReports,
		maxBody: c.MaxBody, log: c.Logger, now: c.Now, mux: http.NewServeMux(),
		slackSecret: c.SlackSigningSecret, slackUsers: c.SlackUsers,
		deployments: c.Deployments, deliveries: c.Deliveries, githubSecret: c.GitHubSecret, githubServices: c.GitHubServices,
		dora: c.DORA, doraHistory: c.DORAHistory, suspectWindow: c.SuspectWindow,
		services: c.Services, knownServices: c.KnownServices, publicStatus: c.PublicStatus,
		postmortems: c.Postmortems, ackLinks: c.AckLinks,
	}
	if a.slackUsers == nil && c.OnCall != nil {
		a.slackUsers = c.OnCall
	}
	if a.maxBody <= 0 {
		a.maxBody = DefaultMaxBody
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	perMinute := c.PublicReportsPerMinute
	if perMinute <= 0 {
		perMinute = 10
	}
	a.limiter = newLimiter(perMinute, time.Minute, maxLimiterKeys)
	return a
}

// Patterns are the routes the handler serves (besides GET /healthz), for
// the tests that hold them to Routes.
func (a *API) Patterns() []string { return a.patterns }

// route is one endpoint: the scope it needs and its handler. A handler returns
// its error instead of writing it, so that every error goes through classify.
type route struct {
	scope auth.Scope
	// public: with PublicReports on, the route takes requests without a token.
	public bool
	// open: the route takes requests without a token (GET /status with
	// PublicStatus); one that sends a token is checked all the same.
	open bool
	h    func(w http.ResponseWriter, r *http.Request, p principal) error
}

// principal is who sent a request.
type principal struct {
	// token is nil for an anonymous public report.
	token *auth.Token
	// actor names the sender in the timeline: the token's name.
	actor string
}

func (a *API) routes() {
	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	a.handle("POST /reports", route{scope: auth.ScopeReportsWrite, public: true, h: a.postReport})
	a.handle("GET /incidents", route{scope: auth.ScopeIncidentsRead, h: a.listIncidents})
	a.handle("POST /incidents", route{scope: auth.ScopeIncidentsWrite, h: a.declareIncident})
	a.handle("GET /incidents/{id}", route{scope: auth.ScopeIncidentsRead, h: a.getIncident})
	a.handle("PATCH /incidents/{id}", route{scope: auth.ScopeIncidentsWrite, h: a.patchIncident})
	a.handle("POST /incidents/{id}/acknowledge", route{scope: auth.ScopeIncidentsWrite, h: a.acknowledge})
	a.handle("POST /incidents/{id}/identify", route{scope: auth.ScopeIncidentsWrite, h: a.identify})
	a.handle("POST /incidents/{id}/resolve", route{scope: auth.ScopeIncidentsWrite, h: a.resolve})
	a.handle("POST /incidents/{id}/notes", route{scope: auth.ScopeIncidentsWrite, h: a.addNote})
	a.handle("GET /services", route{scope: auth.ScopeServicesRead, h: a.listServices})
	a.handle("GET /services/{name}", route{scope: auth.ScopeServicesRead, h: a.getService})
	a.handle("PUT /services/{name}", route{scope: auth.ScopeServicesWrite, h: a.putService})
	a.handle("DELETE /services/{name}", route{scope: auth.ScopeServicesWrite, h: a.deleteService})
	a.oncallRoutes()
	a.slackRoutes()
	a.deploymentRoutes()
}

func (a *API) handle(pattern string, rt route) {
	a.patterns = append(a.patterns, pattern)
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authorize(r, rt)
		if err == nil {
			err = rt.h(w, r, p)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

// ServeHTTP serves a request: it gives it a request id, logs it, answers an
// unknown route or method in JSON, and turns a panic into a 500.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.now()
	rid := RequestID(r.Context())
	if rid == "" {
		if rc, ok := apigw.RequestContext(r.Context()); ok && rc.RequestID != "" {
			rid = rc.RequestID // API Gateway's, as in its access log
		} else {
			rid = incident.NewID(start)
		}
		r = r.WithContext(WithRequestID(r.Context(), rid))
	}
	w.Header().Set("X-Request-Id", rid)
	sw := &statusWriter{ResponseWriter: w}
	h, pattern := a.mux.Handler(r)
	if path.Clean(r.URL.Path) != r.URL.Path {
		// The mux would redirect "//x" or "/a/../x" to the clean path; an API
		// client is better told plainly that the path is not one of the routes.
		pattern = ""
	}
	defer func() {
		if v := recover(); v != nil {
			a.log.ErrorContext(r.Context(), "panic serving request", "request_id", rid,
				"method", r.Method, "path", redactPath(r.URL.Path), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status == 0 {
				a.writeError(sw, r, fmt.Errorf("panic: %v", v))
			}
		}
		a.log.InfoContext(r.Context(), "request", "request_id", rid, "method", r.Method,
			"path", redactPath(r.URL.Path), "route", pattern, "status", sw.status,
			"duration_ms", a.now().Sub(start).Milliseconds(), "source_ip", clientKey(r))
	}()
	if pattern == "" {
		a.noRoute(sw, r, h)
		return
	}
	a.mux.ServeHTTP(sw, r)
}

// noRoute answers a request no pattern matches. The mux knows whether the path
// exists with other methods; its own answer (404, or 405 with Allow) is caught
// and rewritten as JSON.
func (a *API) noRoute(w http.ResponseWriter, r *http.Request, h http.Handler) {
	c := &captureWriter{header: http.Header{}}
	if path.Clean(r.URL.Path) == r.URL.Path {
		h.ServeHTTP(c, r)
	}
	if c.status == http.StatusMethodNotAllowed {
		allow := c.header.Get("Allow")
		a.writeError(w, r, newError(http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow)).with("Allow", allow))
		return
	}
	a.writeError(w, r, newError(http.StatusNotFound, "not_found", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)))
}

// statusWriter remembers the status written, for the access log and for the
// panic handler (which must not write a second header).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// captureWriter records the mux's answer for a request without a route.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request's id. Without one, a request
// from API Gateway takes the event's requestId (so that the API's logs and the
// access logs agree), any other a new one.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
