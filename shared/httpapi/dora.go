package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
	if a.doraHistory != nil {
		a.handle("GET /metrics/dora/history", route{scope: auth.ScopeIncidentsRead, h: a.getDORAHistory})
	}
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
	if wantsHTML(r, "") {
		return a.getDORAPage(w, r, in)
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

// doraScope validates the service and environment parameters (environment
// "" is production): a bad one is a 400 naming it.
func doraScope(service, env string) (dora.Scope, error) {
	if service != "" {
		if err := incident.ValidateServiceName(service); err != nil {
			return dora.Scope{}, err // names the service
		}
	}
	if env == "" {
		env = dora.DefaultEnvironment
	} else if err := incident.ValidateServiceName(env); err != nil {
		return dora.Scope{}, errkind.Invalidf("environment %q is not an environment name (lower-case letters, digits, '.', '_', '-'; 1-63 characters)", env)
	}
	return dora.Scope{Service: service, Environment: env}, nil
}

// doraInput reads GET /metrics/dora's query string into an Input without
// records: each bad parameter is a 400 naming it.
func (a *API) doraInput(raw string) (dora.Input, error) {
	q, err := parseQuery(raw, doraParams, "service, environment, window_days, benchmark")
	if err != nil {
		return dora.Input{}, err
	}
	scope, err := doraScope(q.Get("service"), q.Get("environment"))
	if err != nil {
		return dora.Input{}, err
	}
	in := dora.Input{Scope: scope, Benchmark: q.Get("benchmark"), SuspectWindow: a.suspectWindow}
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

// DORASnapshots reads the DORA job's daily snapshots of a scope and window
// for the days from ≤ day ≤ to (YYYY-MM-DD), oldest first; *dynamo.Store is
// one.
type DORASnapshots interface {
	DORASnapshots(ctx context.Context, scope dora.Scope, windowDays int, from, to string) ([]dora.Snapshot, error)
}

// The bounds and default of GET /metrics/dora/history's days.
const (
	defaultDORAHistoryDays = 30
	maxDORAHistoryDays     = 400
)

var doraHistoryParams = map[string]bool{"service": true, "environment": true, "window_days": true, "days": true}

// doraHistory is GET /metrics/dora/history's answer.
type doraHistory struct {
	Service     string         `json:"service"` // "" for all services
	Environment string         `json:"environment"`
	WindowDays  int            `json:"window_days"`
	Days        int            `json:"days"`
	From        string         `json:"from"` // the first day asked for, YYYY-MM-DD (UTC)
	To          string         `json:"to"`   // today (UTC)
	Items       []doraSnapshot `json:"items"`
}

type doraSnapshot struct {
	Day        string          `json:"day"`
	ComputedAt time.Time       `json:"computed_at"`
	Report     json.RawMessage `json:"report"`
}

// getDORAHistory answers the daily snapshots the DORA job stored for a scope
// and window over the last days days (today's included): one Query of the
// scope's partition. A day without a snapshot (the job did not run) is
// absent, not null.
func (a *API) getDORAHistory(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := parseQuery(r.URL.RawQuery, doraHistoryParams, "service, environment, window_days, days")
	if err != nil {
		return err
	}
	scope, err := doraScope(q.Get("service"), q.Get("environment"))
	if err != nil {
		return err
	}
	out := doraHistory{Service: scope.Service, Environment: scope.Environment, WindowDays: defaultDORAWindowDays, Days: defaultDORAHistoryDays}
	if s := q.Get("window_days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !slices.Contains(dora.SnapshotWindows, n) {
			return errkind.Invalidf("window_days %q is not one of the stored windows (%s)", s, joinInts(dora.SnapshotWindows))
		}
		out.WindowDays = n
	}
	if s := q.Get("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxDORAHistoryDays {
			return errkind.Invalidf("days %q is not a whole number of days between 1 and %d", s, maxDORAHistoryDays)
		}
		out.Days = n
	}
	today := a.now().UTC()
	out.From, out.To = dora.SnapshotDay(today.AddDate(0, 0, 1-out.Days)), dora.SnapshotDay(today)
	snaps, err := a.doraHistory.DORASnapshots(r.Context(), scope, out.WindowDays, out.From, out.To)
	if err != nil {
		return err
	}
	out.Items = make([]doraSnapshot, 0, len(snaps))
	for _, s := range snaps {
		out.Items = append(out.Items, doraSnapshot{Day: s.Day, ComputedAt: s.ComputedAt.UTC(), Report: s.Report})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func joinInts(xs []int) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}
