package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// DORARecords reads what dora.Compute needs for a scope and window: the
// scope's deployments of the window and before it, and the incidents near
// it (Compute keeps what counts); *dynamo.Store is one.
type DORARecords interface {
	DORARecords(ctx context.Context, scope dora.Scope, w dora.Window) ([]dora.Deployment, []dora.Incident, error)
}

// The bounds and defaults of GET /metrics/dora's parameters.
const (
	defaultDORAWindowDays = 30
	maxDORAWindowDays     = 365
)

var doraParams = map[string]bool{"service": true, "environment": true, "window_days": true, "benchmark": true}

func (a *API) doraRoutes() {
	if a.dora == nil {
		return
	}
	a.handle("GET /metrics/dora", route{scope: auth.ScopeIncidentsRead, h: a.getDORA})
}

// getDORA computes the DORA report of a scope over the window_days days
// before now (the end is the current second's end, so a deployment
// recorded a second ago counts), from the store's records at the time of
// the request.
func (a *API) getDORA(w http.ResponseWriter, r *http.Request, _ principal) error {
	in, err := a.doraInput(r.URL.RawQuery)
	if err != nil {
		return err
	}
	in.Deployments, in.Incidents, err = a.dora.DORARecords(r.Context(), in.Scope, in.Window)
	if err != nil {
		return err
	}
	rep, err := dora.Compute(in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// doraInput reads GET /metrics/dora's query string into an Input without
// records: each bad parameter is a 400 naming it.
func (a *API) doraInput(raw string) (dora.Input, error) {
	q, err := parseQuery(raw, doraParams, "service, environment, window_days, benchmark")
	if err != nil {
		return dora.Input{}, err
	}
	in := dora.Input{
		Scope:         dora.Scope{Service: q.Get("service"), Environment: q.Get("environment")},
		Benchmark:     q.Get("benchmark"),
		SuspectWindow: a.suspectWindow,
	}
	if in.Scope.Service != "" {
		if err := incident.ValidateServiceName(in.Scope.Service); err != nil {
			return dora.Input{}, err // names the service
		}
	}
	if in.Scope.Environment == "" {
		in.Scope.Environment = dora.DefaultEnvironment
	} else if err := incident.ValidateServiceName(in.Scope.Environment); err != nil {
		return dora.Input{}, errkind.Invalidf("environment %q is not an environment name (lower-case letters, digits, '.', '_', '-'; 1-63 characters)", in.Scope.Environment)
	}
	if in.Benchmark == "" {
		in.Benchmark = "2021"
	}
	if _, err := dora.TableFor(in.Benchmark); err != nil {
		return dora.Input{}, err // names the benchmark and the known ones
	}
	days := defaultDORAWindowDays
	if s := q.Get("window_days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxDORAWindowDays {
			return dora.Input{}, errkind.Invalidf("window_days %q is not a whole number of days between 1 and %d", s, maxDORAWindowDays)
		}
		days = n
	}
	end := a.now().UTC().Truncate(time.Second).Add(time.Second)
	in.Window = dora.Window{Start: end.Add(-time.Duration(days) * 24 * time.Hour), End: end}
	return in, nil
}
