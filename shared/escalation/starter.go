package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// ErrAlreadyStarted is what an Executions backend returns when an execution
// of that name exists: the escalation is running (or ran) already. It is
// errkind.Duplicate, so that a backend (shared/sfn) reports it without
// importing this package; test for it with errors.Is.
var ErrAlreadyStarted = errkind.Duplicate

// Executions starts state machine executions (Step Functions StartExecution
// in AWS, the local runner locally).
type Executions interface {
	// Start starts an execution called name with input. An execution of that
	// name that exists already is ErrAlreadyStarted (matched with errors.Is).
	// Any error of kind errkind.Duplicate counts as that, so a backend returns
	// that kind for this case alone.
	Start(ctx context.Context, name string, input []byte) error
}

// ExecutionStatus is what an Executions backend may offer besides Start
// (shared/sfn does): whether an execution is still running. With it, a
// reopened incident whose earlier escalation still runs starts no second one:
// the running one pages the reopened incident, since PageLevel reads the
// status at every step (README, flapping). Without it, or when it fails, a
// reopen starts its own escalation: a page is never dropped for want of an
// answer.
type ExecutionStatus interface {
	// Running reports whether the execution called name runs; one that
	// ended or never started is false with a nil error.
	Running(ctx context.Context, name string) (bool, error)
}

// Execution states as Step Functions' DescribeExecution names them
// (ExecutionRedriver.State); "" is an execution that does not exist. Plain
// strings, so that a backend (shared/sfn) answers them without importing this
// package.
const (
	ExecutionMissing        = ""
	ExecutionRunning        = "RUNNING"
	ExecutionSucceeded      = "SUCCEEDED"
	ExecutionFailed         = "FAILED"
	ExecutionTimedOut       = "TIMED_OUT"
	ExecutionAborted        = "ABORTED"
	ExecutionPendingRedrive = "PENDING_REDRIVE"
)

// ErrNotRedrivable is what ExecutionRedriver.Redrive returns for an
// execution the backend refuses to redrive (Step Functions'
// ExecutionNotRedrivable: past its history limit, failed more than 14 days
// ago, or not redrivable for another reason). It is errkind.Conflict, so
// that a backend reports it without importing this package.
var ErrNotRedrivable = errkind.Conflict

// ExecutionRedriver is ExecutionStatus with the whole state of an execution
// and a redrive: what the watchdog needs to re-drive escalations (shared/sfn
// and the local runner offer it). It extends ExecutionStatus, which the
// Starter keeps using as before.
type ExecutionRedriver interface {
	ExecutionStatus
	// State returns the state of the execution called name: one of the
	// Execution* constants, ExecutionMissing (nil error) for none; and when
	// it stopped (zero while it runs, or for none).
	State(ctx context.Context, name string) (status string, stopped time.Time, err error)
	// Redrive restarts the failed, timed-out or aborted execution called
	// name from the state that did not succeed, with that state's input
	// (pages recorded already are skipped). One the backend refuses is
	// ErrNotRedrivable (matched with errors.Is).
	Redrive(ctx context.Context, name string) error
	// LastPageSaw returns the reopen count the latest page step of the
	// execution called name (a FirstPage or PageLevel state: the escalate
	// function, which reads the incident) read in its latest succeeded
	// invocation: Output's reopen_count. known is false when it ran none,
	// its output has no reopen_count (a run of an older version), or the
	// execution does not exist. Step Functions answers it from the
	// execution's history, the local runner from its own record. The
	// watchdog asks it only for a SUCCEEDED earlier escalation of a reopened
	// incident that may have paged the reopen (Watchdog.coveredByEarlier).
	LastPageSaw(ctx context.Context, name string) (reopenCount int, known bool, err error)
}

// maxRunningLookback bounds how many earlier executions of a reopened
// incident the Starter asks about.
const maxRunningLookback = 10

// StarterConfigs is where the Starter reads a service's config and policy.
type StarterConfigs interface {
	// ServiceConfig returns a service's config, or an error matching
	// errkind.NotFound for a service with none.
	ServiceConfig(ctx context.Context, name string) (incident.ServiceConfig, error)
	// Policy returns an escalation policy, or an error matching
	// errkind.NotFound.
	Policy(ctx context.Context, id string) (oncall.Policy, error)
}

// StarterConfig wires a Starter.
type StarterConfig struct {
	Configs    StarterConfigs
	Executions Executions
	// Fallback is the platform's fallback target, snapshotted with the policy
	// (FALLBACK_USER); escalate fills in its own when this is nil.
	Fallback *oncall.Target
	Logger   *slog.Logger
}

// StartInput is the state machine's input: what OpenWarRoom and the first
// PageLevel read.
type StartInput struct {
	IncidentID string            `json:"incident_id"`
	State      oncall.Escalation `json:"state"`
}

// Starter starts an incident's escalation.
type Starter struct{ cfg StarterConfig }

// NewStarter returns a Starter.
func NewStarter(cfg StarterConfig) *Starter {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Starter{cfg: cfg}
}

// ExecutionName is the execution name of inc's escalation: one per incident
// and reopen, so a redelivered signal or stream record cannot start a second
// escalation while a reopened incident escalates again. Incident ids are
// short and of [0-9A-Za-z], well within Step Functions' 80 characters.
func ExecutionName(inc incident.Incident) string {
	return fmt.Sprintf("inc-%s-%d", inc.ID, inc.ReopenCount)
}

// Pages reports whether an incident of severity sev pages for a service of
// config c (defaults filled in).
func Pages(c incident.ServiceConfig, sev incident.Severity) bool {
	return slices.Contains(c.WithDefaults().PagingSeverities, sev)
}

// Start starts inc's escalation with its service's policy snapshotted, unless
// its severity does not page for the service. started is false when it does
// not page, when the escalation of this incident and reopen had started
// already, or when an earlier escalation of the reopened incident still runs
// and pages it (ExecutionStatus); none is an error. A service without a
// policy (or whose policy is gone) still escalates: to the fallback, so no
// page is dropped.
func (s *Starter) Start(ctx context.Context, inc incident.Incident) (started bool, err error) {
	return s.StartNamed(ctx, inc, ExecutionName(inc))
}

// StartNamed is Start under the execution name name (the watchdog restarts
// an escalation Step Functions refuses to redrive under a new name: see
// RestartName). The same rules apply.
func (s *Starter) StartNamed(ctx context.Context, inc incident.Incident, name string) (started bool, err error) {
	log := s.cfg.Logger.With(slog.String("incident_id", inc.ID), slog.String("service", inc.Service),
		slog.String("severity", string(inc.Severity)))
	if !incident.ValidID(inc.ID) {
		return false, errkind.Invalidf("incident id %q is not an incident id", inc.ID)
	}
	cfg, err := s.cfg.Configs.ServiceConfig(ctx, inc.Service)
	if errors.Is(err, errkind.NotFound) {
		cfg = incident.ServiceConfig{Name: inc.Service}
	} else if err != nil {
		return false, fmt.Errorf("read service %s: %w", inc.Service, err)
	}
	if !Pages(cfg, inc.Severity) {
		log.InfoContext(ctx, "escalation not started: severity does not page",
			slog.Any("paging_severities", cfg.WithDefaults().PagingSeverities))
		return false, nil
	}
	if running := s.runningEarlier(ctx, log, inc); running != "" {
		log.InfoContext(ctx, "escalation not started: an earlier one still runs and pages the reopened incident",
			slog.String("running", running), slog.String("execution", name))
		return false, nil
	}
	var policy *oncall.Policy
	if cfg.Policy != "" {
		p, err := s.cfg.Configs.Policy(ctx, cfg.Policy)
		switch {
		case errors.Is(err, errkind.NotFound):
			log.WarnContext(ctx, "escalation policy not found: paging the fallback", slog.String("policy", cfg.Policy))
		case err != nil:
			return false, fmt.Errorf("read policy %s: %w", cfg.Policy, err)
		default:
			policy = &p
		}
	}
	input, err := json.Marshal(StartInput{IncidentID: inc.ID, State: oncall.Start(policy, s.cfg.Fallback)})
	if err != nil {
		return false, fmt.Errorf("encode escalation input: %w", err)
	}
	err = s.cfg.Executions.Start(ctx, name, input)
	if errors.Is(err, ErrAlreadyStarted) {
		log.InfoContext(ctx, "escalation already started", slog.String("execution", name))
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start escalation %s: %w", name, err)
	}
	log.InfoContext(ctx, "escalation started", slog.String("execution", name), slog.String("policy", cfg.Policy))
	return true, nil
}

// runningEarlier returns the name of a running escalation of an earlier
// opening of the reopened incident inc, or "" when none runs, inc was never
// reopened, the backend cannot tell (no ExecutionStatus), or asking failed
// (logged; the caller starts a new escalation rather than risk no page).
func (s *Starter) runningEarlier(ctx context.Context, log *slog.Logger, inc incident.Incident) string {
	status, ok := s.cfg.Executions.(ExecutionStatus)
	if !ok || inc.ReopenCount <= 0 {
		return ""
	}
	for _, name := range earlierExecutions(inc) {
		running, err := status.Running(ctx, name)
		if err != nil {
			log.WarnContext(ctx, "escalation status unknown: starting a new one", slog.String("execution", name), slog.Any("error", err))
			return ""
		}
		if running {
			return name
		}
	}
	return ""
}

// earlierExecutions are the execution names of the earlier openings of the
// reopened incident inc, newest first, at most maxRunningLookback of them.
func earlierExecutions(inc incident.Incident) []string {
	var names []string
	for n := inc.ReopenCount - 1; n >= 0 && n >= inc.ReopenCount-maxRunningLookback; n-- {
		earlier := inc
		earlier.ReopenCount = n
		names = append(names, ExecutionName(earlier))
	}
	return names
}
