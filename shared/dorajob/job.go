// Package dorajob is the hourly DORA job (functions/dora): for each scope
// (each service in each environment, and every service of an environment)
// and each window (7, 30 and 90 days ending at the run's hour) it computes
// the report of package dora from the stored deployments and incidents,
// writes it as the day's snapshot, and prints the figures as one CloudWatch
// embedded-metric-format line (README, "DORA job").
package dorajob

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/dora"
)

// Windows are the windows every scope is computed over, in days.
var Windows = dora.SnapshotWindows

// MetricsWindow is the window whose figures become CloudWatch metrics (the
// dashboard's): the others are in the snapshots.
const MetricsWindow = 30

// MaxServices bounds the configured services a run reads (one Query page).
const MaxServices = 1000

// Records reads what dora.Compute needs for a scope over a window (the
// store's DORARecords, as GET /metrics/dora reads it).
type Records interface {
	DORARecords(ctx context.Context, scope dora.Scope, w dora.Window) ([]dora.Deployment, []dora.Incident, error)
}

// Snapshots stores a day's snapshot, replacing the one of the same scope,
// window and day.
type Snapshots interface {
	PutDORASnapshot(ctx context.Context, snap dora.Snapshot) error
}

// ServiceNames lists the configured services (PUT /services/{name}).
type ServiceNames interface {
	ServiceNames(ctx context.Context, limit int) ([]string, bool, error)
}

// Config configures a Job.
type Config struct {
	Records   Records
	Snapshots Snapshots
	Services  ServiceNames
	// Known are the services and environments known from configuration
	// (DEPLOY_SERVICES): service → environments. Their scopes are computed
	// besides the configured services' production ones.
	Known map[string][]string
	// SuspectWindow bounds suspected links (zero: dora's default).
	SuspectWindow time.Duration
	// Metrics receives the embedded-metric-format lines (the function's
	// standard output, which Lambda sends to its log group).
	Metrics io.Writer
	// MetricsHour is the UTC hour whose run prints the metric lines (0: the
	// run of 00:00), for the MetricsWindow only. Once a day, not every hour:
	// CloudWatch bills a custom metric for each hour in which it receives
	// data ($0.30 a month for one published every hour), so a daily point
	// costs a 24th of that: a scope's 4 metrics about $0.05 a month, where
	// every hour and every window would be $3.60. The snapshots of every
	// window are written every hour (GET /metrics/dora/history).
	MetricsHour int
	Logger      *slog.Logger
	// Now is the clock of a run whose event carries no time (default time.Now).
	Now func() time.Time
}

// Job computes and stores the DORA snapshots.
type Job struct{ cfg Config }

// New returns the job.
func New(cfg Config) *Job {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = io.Discard
	}
	return &Job{cfg: cfg}
}

// Result is what a run did, its handler's answer (and its log line).
type Result struct {
	At        time.Time `json:"at"`
	Scopes    int       `json:"scopes"`
	Snapshots int       `json:"snapshots"`
	Failed    int       `json:"failed"` // scope and window pairs not written
}

// Handle runs the job at the scheduled event's hour (EventBridge's time; a
// local event without one runs at the clock's).
func (j *Job) Handle(ctx context.Context, ev events.CloudWatchEvent) (Result, error) {
	at := ev.Time
	if at.IsZero() {
		at = j.cfg.Now()
	}
	return j.Run(ctx, at)
}

// Run computes every scope and window with windows ending at at's hour.
// It reads the store once per environment, for the widest window (and its
// lookback), and computes every scope and window of that environment from
// those records in memory, each over exactly the records GET /metrics/dora
// reads for it (records): so a run's reads grow with the widest window and
// the environments, not with the scopes (README, "DORA job"). A failing
// scope or window is logged and the run goes on; the run fails when the
// configured services cannot be read or nothing could be written (the store
// is unreachable: the function's failure queue reports it).
func (j *Job) Run(ctx context.Context, at time.Time) (Result, error) {
	end := at.UTC().Truncate(time.Hour)
	res := Result{At: end}
	scopes, err := j.scopes(ctx)
	if err != nil {
		return res, err
	}
	res.Scopes = len(scopes)
	widest := slices.Max(Windows)
	var last error
	fail := func(sc dora.Scope, days int, err error) {
		res.Failed++
		last = err
		j.cfg.Logger.ErrorContext(ctx, "DORA snapshot not written",
			slog.String("service", serviceName(sc.Service)), slog.String("environment", sc.Environment),
			slog.Int("window_days", days), slog.Any("error", err))
	}
	// scopes are sorted by environment: one read per run of them.
	for len(scopes) > 0 {
		env := scopes[0].Environment
		n := 1
		for n < len(scopes) && scopes[n].Environment == env {
			n++
		}
		recs, err := j.read(ctx, env, window(widest, end))
		for _, sc := range scopes[:n] {
			for _, days := range Windows {
				if err == nil {
					err := j.one(ctx, recs.of(sc, window(days, end)), days, end)
					if err == nil {
						res.Snapshots++
						continue
					}
					fail(sc, days, err)
					continue
				}
				fail(sc, days, err)
			}
		}
		scopes = scopes[n:]
	}
	if res.Snapshots == 0 && res.Failed > 0 {
		return res, fmt.Errorf("no DORA snapshot written (%d failed): %w", res.Failed, last)
	}
	j.cfg.Logger.InfoContext(ctx, "DORA snapshots written", slog.Time("at", end),
		slog.Int("scopes", res.Scopes), slog.Int("snapshots", res.Snapshots), slog.Int("failed", res.Failed))
	return res, nil
}

func window(days int, end time.Time) dora.Window {
	return dora.Window{Start: end.Add(-time.Duration(days) * 24 * time.Hour), End: end}
}

// records are an environment's deployments (by service, each in finish
// order) and every incident (in creation order) of the widest window and
// its lookback.
type records struct {
	all       []dora.Deployment
	byService map[string][]dora.Deployment
	incidents []dora.Incident
}

// read reads env's records for w (the widest window) and sorts them.
func (j *Job) read(ctx context.Context, env string, w dora.Window) (*records, error) {
	deps, incs, err := j.cfg.Records.DORARecords(ctx, dora.Scope{Environment: env}, w)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(deps, func(a, b dora.Deployment) int { return a.FinishedAt.Compare(b.FinishedAt) })
	slices.SortStableFunc(incs, func(a, b dora.Incident) int { return created(a).Compare(created(b)) })
	r := &records{all: deps, byService: map[string][]dora.Deployment{}, incidents: incs}
	for _, d := range deps {
		r.byService[d.Service] = append(r.byService[d.Service], d)
	}
	return r, nil
}

// of is the input of sc over w: the records the store's DORARecords(sc, w)
// returns, those finished (deployments) or created (incidents) from
// dora.Lookback before w's start. Both are suffixes of the sorted records,
// shared, not copied (Compute does not modify its input).
func (r *records) of(sc dora.Scope, w dora.Window) dora.Input {
	from := w.Start.Add(-dora.Lookback)
	deps := r.all
	if sc.Service != "" {
		deps = r.byService[sc.Service]
	}
	i, _ := slices.BinarySearchFunc(deps, from, func(d dora.Deployment, t time.Time) int { return d.FinishedAt.Compare(t) })
	k, _ := slices.BinarySearchFunc(r.incidents, from, func(inc dora.Incident, t time.Time) int { return created(inc).Compare(t) })
	return dora.Input{Scope: sc, Window: w, Deployments: deps[i:], Incidents: r.incidents[k:]}
}

// created is when an incident was opened (its start when a store does not
// say).
func created(inc dora.Incident) time.Time {
	if inc.CreatedAt.IsZero() {
		return inc.StartedAt
	}
	return inc.CreatedAt
}

// scopes are every configured service's production scope, every known
// (service, environment), and the all-services scope of each environment,
// sorted.
func (j *Job) scopes(ctx context.Context) ([]dora.Scope, error) {
	seen := map[dora.Scope]bool{}
	envs := map[string]bool{dora.DefaultEnvironment: true}
	if j.cfg.Services != nil {
		names, more, err := j.cfg.Services.ServiceNames(ctx, MaxServices)
		if err != nil {
			return nil, fmt.Errorf("list the services: %w", err)
		}
		if more {
			j.cfg.Logger.WarnContext(ctx, "DORA job: more configured services than it reads", slog.Int("read", MaxServices))
		}
		for _, n := range names {
			seen[dora.Scope{Service: n, Environment: dora.DefaultEnvironment}] = true
		}
	}
	for svc, es := range j.cfg.Known {
		for _, e := range es {
			if e == "" {
				e = dora.DefaultEnvironment
			}
			envs[e] = true
			seen[dora.Scope{Service: svc, Environment: e}] = true
		}
	}
	for e := range envs {
		seen[dora.Scope{Environment: e}] = true
	}
	out := make([]dora.Scope, 0, len(seen))
	for sc := range seen {
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b dora.Scope) int {
		if a.Environment != b.Environment {
			return cmp.Compare(a.Environment, b.Environment)
		}
		return cmp.Compare(a.Service, b.Service)
	})
	return out, nil
}

// one computes, stores and prints one scope's report over a window of days
// ending at end.
func (j *Job) one(ctx context.Context, in dora.Input, days int, end time.Time) error {
	in.SuspectWindow = j.cfg.SuspectWindow
	sc := in.Scope
	rep, err := dora.Compute(in)
	if err != nil {
		return err
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	snap := dora.Snapshot{
		Service: sc.Service, Environment: sc.Environment, WindowDays: days,
		Day: dora.SnapshotDay(end), ComputedAt: end, Report: body,
	}
	if err := j.cfg.Snapshots.PutDORASnapshot(ctx, snap); err != nil {
		return err
	}
	if end.Hour() != j.cfg.MetricsHour || days != MetricsWindow {
		return nil
	}
	line, err := EMF(rep, days, end)
	if err != nil {
		return err
	}
	_, err = j.cfg.Metrics.Write(append(line, '\n'))
	return err
}

func serviceName(s string) string {
	if s == "" {
		return dora.AllServices
	}
	return s
}

// The metrics of the embedded-metric-format lines.
const (
	Namespace            = "DORA"
	MetricDeploysPerDay  = "DeploymentsPerDay"
	MetricLeadTime       = "LeadTimeMedianSeconds"
	MetricChangeFailure  = "ChangeFailureRate"
	MetricTimeToRestore  = "TimeToRestoreMedianSeconds"
	dimensionService     = "service"
	dimensionEnvironment = "environment"
	dimensionWindow      = "window"
)

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// EMF is the embedded-metric-format line of a report over a window of days
// computed at at: namespace DORA, dimensions service ("*" for all),
// environment and window ("<days>d"), and the four keys that have a value
// (a null one is left out, so CloudWatch records no 0 for "no data").
func EMF(rep *dora.Report, days int, at time.Time) ([]byte, error) {
	if rep == nil {
		return nil, errors.New("no report")
	}
	doc := map[string]any{
		dimensionService:     serviceName(rep.Service),
		dimensionEnvironment: rep.Environment,
		dimensionWindow:      fmt.Sprintf("%dd", days),
	}
	var ms []emfMetric
	add := func(name, unit string, v *float64) {
		if v != nil {
			doc[name] = *v
			ms = append(ms, emfMetric{Name: name, Unit: unit})
		}
	}
	add(MetricDeploysPerDay, "Count", rep.DeploymentFrequency.PerDay)
	add(MetricLeadTime, "Seconds", rep.LeadTime.MedianSeconds)
	add(MetricChangeFailure, "None", rep.ChangeFailureRate.Ratio)
	add(MetricTimeToRestore, "Seconds", rep.TimeToRestore.MedianSeconds)
	if ms == nil {
		ms = []emfMetric{}
	}
	doc["_aws"] = emfMeta{
		Timestamp: at.UnixMilli(),
		CloudWatchMetrics: []emfDirective{{
			Namespace:  Namespace,
			Dimensions: [][]string{{dimensionService, dimensionEnvironment, dimensionWindow}},
			Metrics:    ms,
		}},
	}
	return json.Marshal(doc)
}
