package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/sfn"
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

	// startFault, when set, is asked before each Start: an error fails
	// that start (fault injection in tests).
	startFault func(name string) error

	mu sync.Mutex
	// execs are the executions started, by name, with their status
	// (escalation.ExecutionRedriver) and where a failed one failed.
	execs map[string]*execution
	wg    sync.WaitGroup
}

// execution is one local execution's record, as DescribeExecution keeps it.
type execution struct {
	incidentID string
	status     string // escalation.Execution*
	// failedState and failedInput are where a FAILED execution failed: a
	// redrive runs that state again with that input.
	failedState string
	failedInput any
	// stopped is when it ended (zero while it runs).
	stopped time.Time
	// redrivable is false for an execution stopped by maxRunSteps (as
	// AWS's history limit refuses a redrive) or ended by a Fail state.
	redrivable bool
	// pageSaw is the reopen count its latest page step (sfn.PageSteps)
	// read in its latest succeeded invocation of escalate (the output's
	// reopen_count), as its history would show; pageSawKnown is false for
	// none yet, or an output without one.
	pageSaw      int
	pageSawKnown bool
}

var (
	_ escalation.Executions        = (*runner)(nil)
	_ escalation.ExecutionStatus   = (*runner)(nil)
	_ escalation.ExecutionRedriver = (*runner)(nil)
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
	if r.startFault != nil {
		if err := r.startFault(name); err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.execs == nil {
		r.execs = map[string]*execution{}
	}
	if r.execs[name] != nil {
		return escalation.ErrAlreadyStarted
	}
	if r.ctx.Err() != nil {
		return fmt.Errorf("start %s: the local runtime is stopping", name)
	}
	ex := &execution{incidentID: in.IncidentID}
	r.execs[name] = ex
	r.launch(name, ex, r.def.StartAt, data)
	return nil
}

// launch runs ex from state with data in a goroutine; r.mu is held.
func (r *runner) launch(name string, ex *execution, state string, data any) {
	ex.status, ex.stopped = escalation.ExecutionRunning, time.Time{}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		end := r.run(r.ctx, name, ex.incidentID, state, data)
		r.mu.Lock()
		defer r.mu.Unlock()
		ex.status, ex.failedState, ex.failedInput, ex.redrivable = end.status, end.state, end.input, end.redrivable
		ex.stopped = time.Now()
	}()
}

// Running implements escalation.ExecutionStatus as DescribeExecution does: an
// execution started and not ended yet runs; one never started does not.
func (r *runner) Running(ctx context.Context, name string) (bool, error) {
	s, _, err := r.State(ctx, name)
	return s == escalation.ExecutionRunning, err
}

// State implements escalation.ExecutionRedriver as DescribeExecution does:
// RUNNING, SUCCEEDED, FAILED or ABORTED (the platform stopping), "" for an
// execution never started, and when it stopped.
func (r *runner) State(_ context.Context, name string) (string, time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ex := r.execs[name]; ex != nil {
		return ex.status, ex.stopped, nil
	}
	return escalation.ExecutionMissing, time.Time{}, nil
}

// Redrive implements escalation.ExecutionRedriver as RedriveExecution does:
// a FAILED execution runs again from the state that failed, with that
// state's input. One stopped by maxRunSteps (AWS: the history limit) or a
// Fail state, or one not failed, is refused (escalation.ErrNotRedrivable).
func (r *runner) Redrive(_ context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ex := r.execs[name]
	if ex == nil || ex.status != escalation.ExecutionFailed || !ex.redrivable {
		return fmt.Errorf("redrive %s: not a redrivable failed execution: %w", name, escalation.ErrNotRedrivable)
	}
	if r.ctx.Err() != nil {
		return fmt.Errorf("redrive %s: the local runtime is stopping", name)
	}
	r.log.Info("escalation execution redriven (local)", slog.String("execution", name), slog.String("state", ex.failedState))
	r.launch(name, ex, ex.failedState, ex.failedInput)
	return nil
}

// LastPageSaw implements escalation.ExecutionRedriver as the execution
// history tells it in AWS (sfn.Executions.LastPageSaw): the reopen count the
// latest page step of the execution called name read in its latest
// succeeded invocation of escalate; not known for none, an output without
// one, or an execution never started.
func (r *runner) LastPageSaw(_ context.Context, name string) (int, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ex := r.execs[name]; ex != nil {
		return ex.pageSaw, ex.pageSawKnown, nil
	}
	return 0, false, nil
}

// notePageSaw records the output of a page step's succeeded invocation of
// escalate in the execution called name.
func (r *runner) notePageSaw(name string, output any) {
	n, known := 0, false
	if m, ok := output.(map[string]any); ok {
		if f, ok := m["reopen_count"].(float64); ok && f == math.Trunc(f) && f >= 0 {
			n, known = int(f), true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ex := r.execs[name]; ex != nil {
		ex.pageSaw, ex.pageSawKnown = n, known
	}
}

// startedFor counts the executions started for an incident (named
// inc-<id>-<reopen count>).
func (r *runner) startedFor(incidentID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for name := range r.execs {
		if strings.HasPrefix(name, "inc-"+incidentID+"-") {
			n++
		}
	}
	return n
}

// wait blocks until every execution has ended (after the runner's ctx is done).
func (r *runner) wait() { r.wg.Wait() }

// ending is how an execution ended: its status and, for a failure, the
// state that failed with its input.
type ending struct {
	status     string
	state      string
	input      any
	redrivable bool
}

// run is one execution of the definition, from state (StartAt, or where a
// redrive resumes) to a Succeed or Fail state, an End, an uncaught error or
// the end of ctx.
func (r *runner) run(ctx context.Context, name, incidentID, state string, data any) ending {
	log := r.log.With(slog.String("execution", name), slog.String("incident_id", incidentID))
	log.InfoContext(ctx, "escalation execution started (local)", slog.String("state", state))
	ec := execContext{Name: name}
	tasks := 0
	failed := func(input any) ending {
		return ending{status: escalation.ExecutionFailed, state: state, input: input, redrivable: true}
	}
	for ctx.Err() == nil {
		s := r.def.States[state]
		next := s.Next
		switch s.Type {
		case "Task":
			if tasks++; tasks > maxRunSteps {
				log.ErrorContext(ctx, "escalation execution stopped: too many steps", slog.Int("steps", maxRunSteps))
				return ending{status: escalation.ExecutionFailed, state: state, input: data}
			}
			out, err := r.task(ctx, log, state, s, data, ec)
			if err != nil {
				if ctx.Err() != nil {
					return ending{status: escalation.ExecutionAborted}
				}
				c := catcher(s, err)
				if c == nil {
					log.ErrorContext(ctx, "escalation execution failed (local)", slog.String("state", state), slog.Any("error", err))
					return failed(data)
				}
				// Caught as the state machine catches it (OpenWarRoom: paging goes on).
				log.WarnContext(ctx, state+" failed; caught, going on with "+c.Next, slog.Any("error", err))
				caught, rerr := withResult(c.ResultPath, data, map[string]any{"Error": err.Name, "Cause": err.Cause})
				if rerr != nil {
					log.ErrorContext(ctx, "escalation execution failed (local)", slog.String("state", state), slog.Any("error", runtimeError(rerr)))
					return failed(data)
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
					return failed(data)
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
				return failed(data)
			}
			if !sleep(ctx, r.scaled(seconds)) {
				return ending{status: escalation.ExecutionAborted}
			}
		case "Succeed":
			reason, _ := path("$.reason", data, ec)
			log.InfoContext(ctx, "escalation execution succeeded (local)", slog.Any("reason", reason))
			return ending{status: escalation.ExecutionSucceeded}
		case "Fail":
			log.ErrorContext(ctx, "escalation execution failed (local)", slog.String("state", state), slog.String("error", s.Error), slog.String("cause", s.Cause))
			return ending{status: escalation.ExecutionFailed, state: state, input: data}
		}
		if s.End {
			log.InfoContext(ctx, "escalation execution succeeded (local)")
			return ending{status: escalation.ExecutionSucceeded}
		}
		state = next
	}
	return ending{status: escalation.ExecutionAborted}
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
	page := slices.Contains(sfn.PageSteps, name)
	for {
		out, err := r.invoke(ctx, fn, payload)
		if err == nil {
			var result any
			if err := json.Unmarshal(out, &result); err != nil {
				return nil, runtimeError(fmt.Errorf("%s answered no JSON: %w", fn, err))
			}
			if page {
				r.notePageSaw(ec.Name, result)
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
