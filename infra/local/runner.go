package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/escalation"
)

// DefaultTimeScale shortens escalation waits locally: a policy minute lasts a
// second, so a demo escalation climbs its levels while you watch.
const DefaultTimeScale = 60

// maxRunSteps bounds the PageLevel invocations of one local execution, far
// beyond any policy (20 levels × 10 passes + the fallback): a runaway loop
// ends instead of paging forever.
const maxRunSteps = 1000

// pageRetries are the state machine's retries of a failed PageLevel
// (infra/escalation: 3 attempts, 2 s interval, backoff 2). They are Lambda's
// seconds, not the policy's minutes, so they are not scaled.
var pageRetries = []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}

// runner is the local Step Functions: an escalation.Executions that runs the
// state machine of infra/escalation in a goroutine per execution, with the
// same handlers the deployed tasks invoke.
type runner struct {
	warroom func(context.Context, escalation.WarRoomInput) (escalation.WarRoomOutput, error)
	page    func(context.Context, escalation.Input) (escalation.Output, error)
	// scale divides every Wait (wait_seconds).
	scale float64
	log   *slog.Logger
	// ctx is the runner's life: executions outlive the stream batch that
	// started them, and all end with it.
	ctx context.Context

	mu      sync.Mutex
	started map[string]bool
	wg      sync.WaitGroup
}

var _ escalation.Executions = (*runner)(nil)

// parseTimeScale reads LOCAL_TIME_SCALE: a positive number, default 60.
func parseTimeScale(s string) (float64, error) {
	if s == "" {
		return DefaultTimeScale, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("LOCAL_TIME_SCALE %q is not a positive number (60: a policy minute lasts a second)", s)
	}
	return f, nil
}

// Start implements escalation.Executions as StartExecution does: a name used
// before is ErrAlreadyStarted, so a replayed signal starts one escalation.
func (r *runner) Start(_ context.Context, name string, input []byte) error {
	var in escalation.StartInput
	if err := json.Unmarshal(input, &in); err != nil {
		return fmt.Errorf("decode execution input: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started == nil {
		r.started = map[string]bool{}
	}
	if r.started[name] {
		return escalation.ErrAlreadyStarted
	}
	if r.ctx.Err() != nil {
		return fmt.Errorf("start %s: the local runtime is stopping", name)
	}
	r.started[name] = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.run(r.ctx, name, in)
	}()
	return nil
}

// wait blocks until every execution has ended (after the runner's ctx is done).
func (r *runner) wait() { r.wg.Wait() }

// run is one execution: OpenWarRoom (failure caught) → PageLevel → Done? →
// Wait → PageLevel …
func (r *runner) run(ctx context.Context, name string, in escalation.StartInput) {
	log := r.log.With(slog.String("execution", name), slog.String("incident_id", in.IncidentID))
	log.InfoContext(ctx, "escalation execution started (local)")
	state := in.State
	if _, err := r.warroom(ctx, escalation.WarRoomInput{IncidentID: in.IncidentID, State: &state}); err != nil {
		// Caught as the state machine catches it: paging goes on.
		log.WarnContext(ctx, "OpenWarRoom failed; paging goes on", slog.Any("error", err))
	}
	next := escalation.Input{IncidentID: in.IncidentID, Execution: name, State: in.State}
	for range maxRunSteps {
		out, err := r.pageLevel(ctx, next)
		if err != nil {
			log.ErrorContext(ctx, "escalation execution failed (local)", slog.Any("error", err))
			return
		}
		if out.Done {
			log.InfoContext(ctx, "escalation execution succeeded (local)", slog.String("reason", out.Reason))
			return
		}
		if !sleep(ctx, r.scaled(out.WaitSeconds)) {
			return
		}
		next = escalation.Input{IncidentID: out.IncidentID, Execution: name, State: out.State}
	}
	log.ErrorContext(ctx, "escalation execution stopped: too many steps", slog.Int("steps", maxRunSteps))
}

// pageLevel invokes PageLevel with the state machine's retries.
func (r *runner) pageLevel(ctx context.Context, in escalation.Input) (escalation.Output, error) {
	for i := 0; ; i++ {
		out, err := r.page(ctx, in)
		if err == nil || i == len(pageRetries) || ctx.Err() != nil {
			return out, err
		}
		r.log.WarnContext(ctx, "PageLevel failed; retrying", slog.String("execution", in.Execution), slog.Any("error", err))
		if !sleep(ctx, pageRetries[i]) {
			return out, ctx.Err()
		}
	}
}

func (r *runner) scaled(seconds int) time.Duration {
	return time.Duration(float64(seconds) * float64(time.Second) / r.scale)
}

// sleep waits d or until ctx ends; false means ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
