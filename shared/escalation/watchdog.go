package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// The watchdog (functions/watchdog, every minute) re-drives what the stream
// and the state machine could not finish (README, "Failure modes"): the table
// is the source of truth. Every open incident is read through the
// open-incidents index (a paginated Query, never a Scan), and
//
//   - a triggered incident in a paging severity of its service, opened or
//     reopened more than DefaultWatchdogGrace ago, whose escalation is not
//     running gets one: none of its name → started (the Starter's rules:
//     policy snapshot, one escalation at a time); FAILED, TIMED_OUT or
//     ABORTED → redriven from the state that failed; one Step Functions
//     refuses to redrive (history limit, 14 days) → started afresh under
//     RestartName(inc, k), k = 1…MaxRestarts, whose pages are recorded apart
//     (the new run pages from level 1); SUCCEEDED (the policy ran to its end,
//     the fallback paged) → nothing;
//   - a flapping incident of an auto-resolving service whose monitor settled
//     in OK and stayed quiet for the reopen window is resolved
//     (incident.Service.SettleFlapping), since its alarm sends nothing more.
//
// Each action is one log line; one incident's error is logged and the run
// goes on. The run fails only when the open incidents cannot be listed (the
// store is unreachable), so that its record in the stack's failure queue
// (a Lambda destination record naming the watchdog; infra/README.md, "The
// failure queue") means that.

// WatchdogActor is the actor of the watchdog's timeline entries.
const WatchdogActor = "watchdog"

// DefaultWatchdogGrace is how long after an incident opened or reopened the
// watchdog leaves its escalation to the stream (WATCHDOG_GRACE): the stream
// starts one within a second or two, or retries its record; two minutes
// keep the watchdog from racing a start that is merely slow (a race would be
// harmless: the execution name lets one start through).
const DefaultWatchdogGrace = 2 * time.Minute

// MaxRestarts bounds the fresh runs the watchdog starts for one incident and
// reopen after Step Functions refused a redrive (RestartName's k).
const MaxRestarts = 3

// watchdogPage is how many open incidents one Query reads.
const watchdogPage = 100

// RestartName is the name of the k-th fresh escalation run of inc (k ≥ 1)
// after the run ExecutionName(inc) could not be redriven: inc-<id>-<n>-r<k>.
// k = 0 is ExecutionName(inc).
func RestartName(inc incident.Incident, k int) string {
	if k == 0 {
		return ExecutionName(inc)
	}
	return fmt.Sprintf("%s-r%d", ExecutionName(inc), k)
}

// WatchdogIncidents is what the watchdog needs of the incident service.
type WatchdogIncidents interface {
	// List returns a page of incidents (Query{Status: "open"} reads the
	// open-incidents index).
	List(ctx context.Context, q incident.Query) (incident.Page, error)
	// SettleFlapping resolves a flapping incident whose monitor settled in
	// OK; false when it is not (or no longer) one.
	SettleFlapping(ctx context.Context, id, actor string) (incident.Incident, bool, error)
}

// WatchdogConfig wires a Watchdog.
type WatchdogConfig struct {
	Incidents WatchdogIncidents
	// Configs are the services' configs (paging severities).
	Configs StarterConfigs
	// Executions answers for and redrives executions.
	Executions ExecutionRedriver
	// Starter starts a missing escalation (with Executions as its backend).
	Starter *Starter
	// Grace: see DefaultWatchdogGrace (0: that).
	Grace time.Duration
	// ReopenWindow (REOPEN_WINDOW): how long a flapping incident's monitor
	// must stay quiet before the watchdog resolves it.
	ReopenWindow time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
}

// Watchdog re-drives escalations and settles flapping incidents.
type Watchdog struct {
	cfg WatchdogConfig

	mu sync.Mutex
	// saw keeps LastPageSaw's answer for each SUCCEEDED execution asked
	// about (lastPageSaw), at most maxSawCache of them.
	saw map[string]pageSaw
}

// NewWatchdog returns a Watchdog.
func NewWatchdog(cfg WatchdogConfig) *Watchdog {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultWatchdogGrace
	}
	return &Watchdog{cfg: cfg, saw: map[string]pageSaw{}}
}

// WatchdogReport counts what one run found and did.
type WatchdogReport struct {
	// Open is how many open incidents were read.
	Open int `json:"open"`
	// Checked is how many escalations were asked about.
	Checked int `json:"checked"`
	// Started, Redriven, Restarted: escalations the run got going.
	Started   int `json:"started"`
	Redriven  int `json:"redriven"`
	Restarted int `json:"restarted"`
	// Settled is how many flapping incidents it resolved.
	Settled int `json:"settled"`
	// Errors is how many incidents it could not handle (logged).
	Errors int `json:"errors"`
}

func (r WatchdogReport) acted() bool {
	return r.Started+r.Redriven+r.Restarted+r.Settled+r.Errors > 0
}

// Handle is the Lambda handler: Run, whatever the scheduled event says.
func (w *Watchdog) Handle(ctx context.Context, _ json.RawMessage) (WatchdogReport, error) {
	return w.Run(ctx)
}

// Run looks at every open incident once.
func (w *Watchdog) Run(ctx context.Context) (WatchdogReport, error) {
	var rep WatchdogReport
	configs := map[string]incident.ServiceConfig{}
	cursor := ""
	for {
		page, err := w.cfg.Incidents.List(ctx, incident.Query{Status: "open", Limit: watchdogPage, Cursor: cursor})
		if err != nil {
			w.summary(ctx, rep)
			return rep, fmt.Errorf("watchdog: list open incidents: %w", err)
		}
		for _, inc := range page.Items {
			rep.Open++
			if err := w.check(ctx, &rep, configs, inc); err != nil {
				rep.Errors++
				w.cfg.Logger.ErrorContext(ctx, "watchdog: incident skipped after an error (looked at again next run)",
					slog.String("incident_id", inc.ID), slog.Any("error", err))
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	w.summary(ctx, rep)
	return rep, nil
}

func (w *Watchdog) summary(ctx context.Context, rep WatchdogReport) {
	level := slog.LevelDebug
	if rep.acted() {
		level = slog.LevelInfo
	}
	w.cfg.Logger.Log(ctx, level, "watchdog run", slog.Int("open", rep.Open), slog.Int("checked", rep.Checked),
		slog.Int("started", rep.Started), slog.Int("redriven", rep.Redriven), slog.Int("restarted", rep.Restarted),
		slog.Int("settled", rep.Settled), slog.Int("errors", rep.Errors))
}

// check settles inc if it is a flapping incident that settled, else makes
// sure it escalates if it should. A service's config is read once a run, and
// only for an incident that needs it.
func (w *Watchdog) check(ctx context.Context, rep *WatchdogReport, configs map[string]incident.ServiceConfig, inc incident.Incident) error {
	now := w.cfg.Now()
	settled := inc.Flapping && w.cfg.ReopenWindow > 0 && inc.SettledFor(now, w.cfg.ReopenWindow)
	due := inc.Status == incident.StatusTriggered && now.Sub(openedAt(inc)) >= w.cfg.Grace
	if !settled && !due {
		return nil
	}
	cfg, ok := configs[inc.Service]
	if !ok {
		c, err := w.cfg.Configs.ServiceConfig(ctx, inc.Service)
		switch {
		case errors.Is(err, errkind.NotFound):
			c = incident.ServiceConfig{Name: inc.Service}
		case err != nil:
			return fmt.Errorf("read service %s: %w", inc.Service, err)
		}
		cfg, configs[inc.Service] = c.WithDefaults(), c.WithDefaults()
	}
	if settled && cfg.AutoResolve {
		got, resolved, err := w.cfg.Incidents.SettleFlapping(ctx, inc.ID, WatchdogActor)
		if err != nil {
			return fmt.Errorf("settle flapping incident: %w", err)
		}
		if resolved {
			rep.Settled++
			w.cfg.Logger.InfoContext(ctx, "watchdog: flapping incident resolved: its alarm settled in OK",
				slog.String("incident_id", inc.ID), slog.String("service", inc.Service), slog.Any("recovered_at", got.RecoveredAt))
			return nil
		}
	}
	if !due || !Pages(cfg, inc.Severity) {
		return nil
	}
	return w.escalate(ctx, rep, inc)
}

// openedAt is when inc opened or last reopened: the later of the latest
// reopen's event time and when the platform processed it. A late ALARM
// reopens at an event time minutes before it was processed; an earlier
// escalation that stopped in between never saw the reopen, and the stream
// starts the reopen's own escalation only once it is processed. An item
// written before the processing time was kept has only the event time.
func openedAt(inc incident.Incident) time.Time {
	t := inc.CreatedAt
	if n := len(inc.ReopenedAt); n > 0 && inc.ReopenedAt[n-1].After(t) {
		t = inc.ReopenedAt[n-1]
	}
	if inc.ReopenProcessedAt.After(t) {
		t = inc.ReopenProcessedAt
	}
	return t
}

// maxSawCache bounds the answers a Watchdog keeps of LastPageSaw: when full,
// all are dropped (each costs one history read again).
const maxSawCache = 10000

// pageSaw is what an execution's last page step saw (LastPageSaw).
type pageSaw struct {
	reopenCount int
	known       bool
}

// lastPageSaw is Executions.LastPageSaw of the SUCCEEDED execution called
// name, read once per Watchdog: a succeeded execution's history no longer
// changes, and a covered incident stays covered (and looked at) every
// minute until someone answers it. A read error is not kept.
func (w *Watchdog) lastPageSaw(ctx context.Context, name string) (pageSaw, error) {
	w.mu.Lock()
	saw, ok := w.saw[name]
	w.mu.Unlock()
	if ok {
		return saw, nil
	}
	n, known, err := w.cfg.Executions.LastPageSaw(ctx, name)
	if err != nil {
		return pageSaw{}, err
	}
	saw = pageSaw{reopenCount: n, known: known}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.saw) >= maxSawCache {
		clear(w.saw)
	}
	w.saw[name] = saw
	return saw, nil
}

// coveredByEarlier returns the name of an earlier escalation of the reopened
// incident inc that pages the reopen, or paged it to its end, or "". The
// stream starts no escalation for a reopen while an earlier one runs ("one
// escalation at a time": the running one pages the reopened incident, since
// its PageLevel reads the incident's status at every step), so a missing
// inc-<id>-<n> is no lost start when the latest earlier execution
//
//   - is RUNNING or PENDING_REDRIVE: it pages the reopen, its page steps
//     reading the incident. That holds for this run alone: the next run
//     asks again. Answering here, not leaving it to the Starter's own
//     question, keeps a run that ends SUCCEEDED between the two questions
//     (having paged the reopen) from getting a second escalation; or
//   - SUCCEEDED, stopped after openedAt(inc) (not before the reopen was
//     processed: the history is not read then), and its last page step
//     saw reopen count n or more (escalation.Output's reopen_count, read
//     from the execution's history): that step read the reopened incident,
//     so the run paged it, and SUCCEEDED means it ran the policy to its end
//     for it.
//
// No clock is compared: the reopen's processing time is taken before its
// write, which may land seconds later under throttling. An execution whose
// last page step read the incident before the reopen (still resolved:
// "done") covers nothing: the stream saw it running a moment before it ended
// and started nothing (README, "Failure modes", "Lost escalation start"); nor
// does one whose output has no reopen_count (an older version's run). The
// history is read for that candidate only, once per execution and Watchdog.
// Asking failed, or the history cannot be read: "" (start one rather than
// risk no page).
func (w *Watchdog) coveredByEarlier(ctx context.Context, inc incident.Incident) string {
	opened := openedAt(inc)
	for _, name := range earlierExecutions(inc) {
		state, stopped, err := w.cfg.Executions.State(ctx, name)
		if err != nil {
			return ""
		}
		switch {
		case state == ExecutionMissing:
			continue
		case state == ExecutionRunning || state == ExecutionPendingRedrive:
			return name
		case state != ExecutionSucceeded || !stopped.After(opened):
			return ""
		}
		saw, err := w.lastPageSaw(ctx, name)
		if err != nil {
			w.cfg.Logger.WarnContext(ctx, "watchdog: the earlier escalation's history cannot be read: starting the reopen's own",
				slog.String("incident_id", inc.ID), slog.String("earlier", name), slog.Any("error", err))
			return ""
		}
		if saw.known && saw.reopenCount >= inc.ReopenCount {
			return name
		}
		w.cfg.Logger.InfoContext(ctx, "watchdog: the earlier escalation ended after the reopen but its last page step did not see it",
			slog.String("incident_id", inc.ID), slog.String("earlier", name), slog.Int("reopen_count", inc.ReopenCount),
			slog.Int("page_step_saw", saw.reopenCount), slog.Bool("page_step_saw_known", saw.known))
		return ""
	}
	return ""
}

// escalate makes sure the triggered, paging incident inc has a live
// escalation, or one that ran to its end.
func (w *Watchdog) escalate(ctx context.Context, rep *WatchdogReport, inc incident.Incident) error {
	rep.Checked++
	log := w.cfg.Logger.With(slog.String("incident_id", inc.ID), slog.String("service", inc.Service))
	for k := 0; k <= MaxRestarts; k++ {
		name := RestartName(inc, k)
		state, _, err := w.cfg.Executions.State(ctx, name)
		if err != nil {
			return fmt.Errorf("state of escalation %s: %w", name, err)
		}
		switch state {
		case ExecutionRunning, ExecutionPendingRedrive, ExecutionSucceeded:
			return nil
		case ExecutionMissing:
			if k == 0 {
				if earlier := w.coveredByEarlier(ctx, inc); earlier != "" {
					log.DebugContext(ctx, "watchdog: the reopened incident was escalated by an earlier run", slog.String("earlier", earlier))
					return nil
				}
			}
			started, err := w.cfg.Starter.StartNamed(ctx, inc, name)
			if err != nil {
				return err
			}
			if started && k == 0 {
				rep.Started++
				log.InfoContext(ctx, "watchdog: escalation started: the stream had not started it", slog.String("execution", name))
			} else if started {
				rep.Restarted++
				log.WarnContext(ctx, "watchdog: escalation restarted under a new name: the earlier run could not be redriven",
					slog.String("execution", name), slog.String("earlier", RestartName(inc, k-1)))
			}
			return nil
		case ExecutionFailed, ExecutionTimedOut, ExecutionAborted:
			err := w.cfg.Executions.Redrive(ctx, name)
			if errors.Is(err, ErrNotRedrivable) {
				// Step Functions refuses to redrive an execution that runs
				// again too: an overlapping run (or a person) redrove it
				// since State was read. Start afresh only if it still stopped.
				now, _, serr := w.cfg.Executions.State(ctx, name)
				if serr != nil {
					return fmt.Errorf("state of escalation %s: %w", name, serr)
				}
				if now != state {
					log.InfoContext(ctx, "watchdog: escalation redriven meanwhile", slog.String("execution", name), slog.String("status", now))
					return nil
				}
				log.WarnContext(ctx, "watchdog: escalation not redrivable: starting a fresh run", slog.String("execution", name),
					slog.String("status", state), slog.Any("error", err))
				continue
			}
			if err != nil {
				return fmt.Errorf("redrive escalation %s: %w", name, err)
			}
			rep.Redriven++
			log.WarnContext(ctx, "watchdog: escalation redriven from the state that failed", slog.String("execution", name), slog.String("status", state))
			return nil
		default:
			return fmt.Errorf("escalation %s: unknown status %q", name, state)
		}
	}
	return fmt.Errorf("escalation %s: %d fresh runs ended without a page out of the watchdog's reach: page by hand",
		ExecutionName(inc), MaxRestarts)
}
