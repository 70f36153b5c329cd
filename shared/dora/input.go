package dora

import (
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Status is how a deployment ended. Only these three count: a deployment in
// any other state (e.g. "started") has not finished and is left out.
type Status string

// The statuses of a finished deployment.
const (
	Succeeded  Status = "succeeded"
	Failed     Status = "failed"
	RolledBack Status = "rolled_back"
)

// finished reports whether s is one of the three statuses the metrics count.
func (s Status) finished() bool { return s == Succeeded || s == Failed || s == RolledBack }

// Rework marks a deployment made to undo or patch an earlier one; the rework
// rate counts them. It says what the deployment is, not how it ended: a
// deployment whose status is rolled_back was undone, one marked Rollback does
// the undoing.
type Rework string

// The rework markers.
const (
	NoRework Rework = ""
	Hotfix   Rework = "hotfix"
	Rollback Rework = "rollback"
)

// DefaultEnvironment is the environment of a scope, deployment or incident
// that names none.
const DefaultEnvironment = "production"

// DefaultSuspectWindow is how long before an incident started a successful
// deployment of its service may have finished to be its suspected cause,
// when Input.SuspectWindow is zero.
const DefaultSuspectWindow = 4 * time.Hour

// Lookback is how far before a window's start the stores read records for
// it. Two rules of Compute look back:
//   - lead time: a change counts in the window only if no successful
//     deployment before it shipped the same commit; a redeploy of a commit
//     first shipped more than Lookback before the window counts as a first
//     shipment (its lead time is then long, not lost);
//   - time to restore, time to acknowledge, change failure links: the
//     incidents are read by creation time, from Lookback before the window;
//     an incident resolved in the window more than Lookback after it was
//     created is left out.
//
// Suspected links need the deployments of the suspect window before an
// incident started, which is far shorter (at most a week, settings).
const Lookback = 90 * 24 * time.Hour

// Change is one pull request a deployment shipped. CommitSHA identifies the
// change across deployments (a redeploy of the same commit ships nothing
// new); a change without one is counted where it appears. A zero time is
// unknown.
type Change struct {
	PRCreatedAt time.Time `json:"pr_created_at"`
	PRMergedAt  time.Time `json:"pr_merged_at"`
	CommitSHA   string    `json:"commit_sha"`
}

// Deployment is one deployment of a service to an environment, one record
// per ID (its latest state).
type Deployment struct {
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"` // "" is DefaultEnvironment
	Status      Status    `json:"status"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"` // zero: not finished, left out
	Changes     []Change  `json:"changes"`
	Rework      Rework    `json:"rework,omitempty"`
}

// Incident is what the metrics need of an incident. Zero times are unknown
// (not yet acknowledged, not yet resolved).
type Incident struct {
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"` // "" is DefaultEnvironment
	Severity    string    `json:"severity"`    // SEV1..SEV4 as the incident has it
	StartedAt   time.Time `json:"started_at"`
	// CreatedAt is when the platform opened it: the stores read incidents by
	// it (Lookback). Compute does not use it.
	CreatedAt      time.Time `json:"created_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
	ResolvedAt     time.Time `json:"resolved_at"`
	// CauseDeploymentID is the explicit link to the deployment that caused
	// it; when set, no suspected link is looked for.
	CauseDeploymentID string `json:"cause_deployment_id"`
}

// Scope is what a report is about: one service in one environment, or every
// service (Service "") in one environment.
type Scope struct {
	Service     string
	Environment string // "" is DefaultEnvironment
}

func (s Scope) env() string { return envOr(s.Environment) }

func envOr(e string) string {
	if e == "" {
		return DefaultEnvironment
	}
	return e
}

// Window is the half-open interval [Start, End) a report covers.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// window is a Window in Unix nanoseconds, for the hot loops.
type window struct{ start, end int64 }

// contains reports whether the instant ns (Unix nanoseconds) is in [start, end).
func (w window) contains(ns int64) bool { return ns >= w.start && ns < w.end }

// Input is everything a report is computed from. Deployments and Incidents
// may hold records outside the scope and the window: the scope filters them,
// and deployments before the window still decide which deployment first
// shipped a change and which one an incident near the window's start
// suspects. Give them in any order.
type Input struct {
	Scope  Scope
	Window Window
	// Benchmark selects the tier table, "2021" (the default, for "") or "2023".
	Benchmark string
	// SuspectWindow bounds suspected links (zero: DefaultSuspectWindow).
	SuspectWindow time.Duration
	Deployments   []Deployment
	Incidents     []Incident
}

// validate checks the input's own settings (not its records, which the
// ingest validated) and returns the tier table it selects.
func (in *Input) validate() (*Table, error) {
	if in.Window.Start.IsZero() || !in.Window.End.After(in.Window.Start) {
		return nil, errkind.Invalidf("window [%s, %s) is empty: its end must be after its start",
			in.Window.Start.UTC().Format(time.RFC3339), in.Window.End.UTC().Format(time.RFC3339))
	}
	if in.SuspectWindow < 0 {
		return nil, errkind.Invalidf("suspect window %s is negative", in.SuspectWindow)
	}
	return TableFor(in.Benchmark)
}
