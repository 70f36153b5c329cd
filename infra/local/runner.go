package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/escalation"
)

// DefaultTimeScale shortens escalation waits locally: a policy minute lasts a
// second, so a demo escalation climbs its levels while you watch.
const DefaultTimeScale = 60

// maxRunSteps bounds the Task states one local execution enters, far beyond
// any policy (20 levels × 10 passes + the fallback): a runaway loop ends
// instead of paging forever. It bounds the RetryLater loop too, as the
// execution history does in AWS: a PageLevel failing at every round (14 s of
// retries, RetryLater) is re-driven for about 4 hours.
const maxRunSteps = 1000

// runner is the local Step Functions: an escalation.Executions that runs the
// deployed state machine (escalationDefinition, interpreted by
// stateMachine) in a goroutine per execution. Its Tasks invoke the
// platform's functions by the name their Resource ARN ends in, with JSON in
// and out as Step Functions invokes Lambda; Retry and Catch are the
// definition's. Retry intervals are Lambda's seconds and are not scaled;
// Waits are divided by scale: the policy's minutes (Wait), and RetryLater's
// 30 s (0.5 s at the default 60).
type runner struct {
	def *stateMachine
	// invoke runs a function of the platform (wiring.Functions) by name.
	invoke func(ctx context.Context, function string, payload []byte) ([]byte, error)
	// scale divides every Wait (wait_seconds).
	scale float64
	log   *slog.Logger
	// ctx is the runner's life: executions outlive the stream batch that
	// started them, and all end with it.
	ctx context.Context

	mu      sync.Mutex
	started map[string]bool
	// running are the executions not ended yet (escalation.ExecutionStatus).
	running map[string]bool
	wg      sync.WaitGroup
}

var (
	_ escalation.Executions      = (*runner)(nil)
	_ escalation.ExecutionStatus = (*runner)(nil)
)

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
	var data any
	if err := json.Unmarshal(input, &data); err != nil {
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
	if r.running == nil {
		r.running = map[string]bool{}
	}
	r.running[name] = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.running, name)
			r.mu.Unlock()
		}()
		r.run(r.ctx, name, in.IncidentID, data)
	}()
	return nil
}

// Running implements escalation.ExecutionStatus as DescribeExecution does: an
// execution started and not ended yet runs; one never started does not.
func (r *runner) Running(_ context.Context, name string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running[name], nil
}

// startedFor counts the executions started for an incident (named
// inc-<id>-<reopen count>).
func (r *runner) startedFor(incidentID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for name := range r.started {
		if strings.HasPrefix(name, "inc-"+incidentID+"-") {
			n++
		}
	}
	return n
}

// wait blocks until every execution has ended (after the runner's ctx is done).
func (r *runner) wait() { r.wg.Wait() }

// run is one execution of the definition, from StartAt to a Succeed or Fail
// state, an End, an uncaught error or the end of ctx.
func (r *runner) run(ctx context.Context, name, incidentID string, data any) {
	log := r.log.With(slog.String("execution", name), slog.String("incident_id", incidentID))
	log.InfoContext(ctx, "escalation execution started (local)")
	ec := execContext{Name: name}
	state, tasks := r.def.StartAt, 0
	for ctx.Err() == nil {
		s := r.def.States[state]
		next := s.Next
		switch s.Type {
		case "Task":
			if tasks++; tasks > maxRunSteps {
				log.ErrorContext(ctx, "escalation execution stopped: too many steps", slog.Int("steps", maxRunSteps))
				return
			}
			out, err := r.task(ctx, log, state, s, data, ec)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				c := catcher(s, err)
				if c == nil {
					log.ErrorContext(ctx, "escalation execution failed (local)", slog.String("state", state), slog.Any("error", err))
					return
				}
				// Caught as the state machine catches it (OpenWarRoom: paging goes on).
				log.WarnContext(ctx, state+" failed; caught, going on with "+c.Next, slog.Any("error", err))
				caught, rerr := withResult(c.ResultPath, data, map[string]any{"Error": err.Name, "Cause": err.Cause})
				if rerr != nil {
					log.ErrorContext(ctx, "escalation execution failed (local)", slog.String("state", state), slog.Any("error", runtimeError(rerr)))
					return
				}
				data = caught
				state = c.Next
				continue
			}
			data = out
		case "Choice":
			next = s.Default
			for _, c := range s.Choices {
				v, err := path(c.Variable, data, ec)
				if err != nil {
					log.ErrorContext(ctx, "escalation execution failed (local)", slog.String("state", state), slog.Any("error", runtimeError(err)))
					return
				}
				if b, ok := v.(bool); ok && b == *c.BooleanEquals {
					next = c.Next
					break
				}
			}
		case "Wait":
			seconds, err := r.waitSeconds(s, data, ec)
			if err != nil {
				log.ErrorContext(ctx, "escalation execution failed (local)", slog.String("state", state), slog.Any("error", runtimeError(err)))
				return
			}
			if !sleep(ctx, r.scaled(seconds)) {
				return
			}
		case "Succeed":
			reason, _ := path("$.reason", data, ec)
			log.InfoContext(ctx, "escalation execution succeeded (local)", slog.Any("reason", reason))
			return
		case "Fail":
			log.ErrorContext(ctx, "escalation execution failed (local)", slog.String("state", state), slog.String("error", s.Error), slog.String("cause", s.Cause))
			return
		}
		if s.End {
			log.InfoContext(ctx, "escalation execution succeeded (local)")
			return
		}
		state = next
	}
}

// task runs a Task state: its Parameters, the function its Resource names,
// the state's Retry, and its ResultPath.
func (r *runner) task(ctx context.Context, log *slog.Logger, name string, s *aslState, data any, ec execContext) (any, *taskError) {
	input := data
	if s.Parameters != nil {
		p, err := parameters(s.Parameters, data, ec)
		if err != nil {
			return nil, runtimeError(err)
		}
		input = p
	}
	payload, err := json.Marshal(input)
	if err != nil {
		return nil, runtimeError(err)
	}
	fn, err := functionOf(s.Resource)
	if err != nil {
		return nil, runtimeError(err)
	}
	attempts := make([]int, len(s.Retry))
	for {
		out, err := r.invoke(ctx, fn, payload)
		if err == nil {
			var result any
			if err := json.Unmarshal(out, &result); err != nil {
				return nil, runtimeError(fmt.Errorf("%s answered no JSON: %w", fn, err))
			}
			res, err := withResult(s.ResultPath, data, result)
			if err != nil {
				return nil, runtimeError(err)
			}
			return res, nil
		}
		te := asTaskError(err)
		i := retrier(s, te)
		if i < 0 || ctx.Err() != nil {
			return nil, te
		}
		d, ok := s.Retry[i].delay(attempts[i])
		if !ok {
			return nil, te
		}
		attempts[i]++
		log.WarnContext(ctx, name+" failed; retrying", slog.Duration("after", d), slog.Any("error", err))
		if !sleep(ctx, d) {
			return nil, te
		}
	}
}

// retrier returns the index of the first of s's retriers err matches, or -1.
func retrier(s *aslState, err *taskError) int {
	for i, r := range s.Retry {
		if matches(r.ErrorEquals, err.Name) {
			return i
		}
	}
	return -1
}

// catcher returns the first of s's catchers err matches, or nil.
func catcher(s *aslState, err *taskError) *aslCatcher {
	for i, c := range s.Catch {
		if matches(c.ErrorEquals, err.Name) {
			return &s.Catch[i]
		}
	}
	return nil
}

// waitSeconds is a Wait state's Seconds or the number at its SecondsPath.
func (r *runner) waitSeconds(s *aslState, data any, ec execContext) (float64, error) {
	if s.Seconds != nil {
		return *s.Seconds, nil
	}
	v, err := path(s.SecondsPath, data, ec)
	if err != nil {
		return 0, err
	}
	f, ok := v.(float64)
	if !ok || f < 0 {
		return 0, fmt.Errorf("SecondsPath %s: %v is not a non-negative number", s.SecondsPath, v)
	}
	return f, nil
}

func (r *runner) scaled(seconds float64) time.Duration {
	return time.Duration(seconds * float64(time.Second) / r.scale)
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
