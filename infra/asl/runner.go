package asl

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runScript drives aws-local-stepfunctions' JS API; see its header.
//
//go:embed run.mjs
var runScript string

// Handler runs one Task locally: it gets the task's input after Parameters
// (for a task invoking a function ARN, the function's payload) and returns the
// task's result (the function's response). An error fails the task, as a
// Lambda function's error would (the Task's Retry and Catch apply).
type Handler func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// TaskError is a Task failure with a Step Functions error name (Error in
// Catch and Retry); any other error a Handler returns is States.TaskFailed.
type TaskError struct {
	Name    string
	Message string
}

func (e *TaskError) Error() string { return e.Name + ": " + e.Message }

// RunOptions configure Run.
type RunOptions struct {
	// NodeModules is the folder holding the pinned Node tools: .bin/node (Node
	// 22) and aws-local-stepfunctions.
	NodeModules string
	// ExecutionName is $$.Execution.Name.
	ExecutionName string
	// Handlers run the Task states, by state name: every top-level Task must
	// have one, so that nothing calls AWS.
	Handlers map[string]Handler
	// Waits are the Wait states' durations, by state name; a Wait state not
	// named waits 0. Retries always wait 0.
	Waits map[string]time.Duration
	// Timeout bounds the whole execution (0: one minute).
	Timeout time.Duration
}

// Event is one entry of the execution's event log.
type Event struct {
	Type  string `json:"type"`  // ExecutionStarted, StateEntered, StateExited, StateRetried, StateCaught...
	State string `json:"state"` // the state's name, for state events
	// Input is the state's input, for StateEntered.
	Input json.RawMessage `json:"input,omitempty"`
}

// Execution is the outcome of Run.
type Execution struct {
	// Status is SUCCEEDED or FAILED.
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	// Error and Cause say why a FAILED execution failed.
	Error  string  `json:"error"`
	Cause  string  `json:"cause"`
	Events []Event `json:"events"`
}

// States are the names of the states entered, in order.
func (e Execution) States() []string {
	var out []string
	for _, ev := range e.Events {
		if ev.Type == "StateEntered" {
			out = append(out, ev.State)
		}
	}
	return out
}

// Transitions counts the execution's state transitions as Step Functions
// bills them: one per state entered, retries included.
func (e Execution) Transitions() int {
	n := 0
	for _, ev := range e.Events {
		if ev.Type == "StateEntered" || ev.Type == "StateRetried" {
			n++
		}
	}
	return n
}

// Run executes definition (ASL JSON) with input under aws-local-stepfunctions,
// in a Node process of its own. The Task states call back handlers over HTTP
// on 127.0.0.1; nothing else is reached. A FAILED execution is not an error:
// its Status, Error and Cause say what failed. Run returns once Node has
// exited, and kills it when ctx ends or the timeout passes.
func Run(ctx context.Context, definition, input []byte, opts RunOptions) (Execution, error) {
	node := filepath.Join(opts.NodeModules, ".bin", "node")
	module := filepath.Join(opts.NodeModules, "aws-local-stepfunctions", "build", "main.node.esm.js")
	for _, p := range []string{node, module} {
		if _, err := os.Stat(p); err != nil {
			return Execution{}, fmt.Errorf("local Step Functions runner not installed (%w): run `make test` (or `npm ci`) once to install the pinned Node tools", err)
		}
	}
	tasks, waits, retries, err := overrides(definition, opts)
	if err != nil {
		return Execution{}, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Execution{}, fmt.Errorf("listen for task callbacks: %w", err)
	}
	srv := &http.Server{
		Handler:           taskServer(ctx, opts.Handlers),
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Close below
	defer srv.Close()

	cfg, err := json.Marshal(map[string]any{
		"module":     module,
		"definition": json.RawMessage(definition),
		"input":      json.RawMessage(input),
		"context":    map[string]any{"Execution": map[string]any{"Name": opts.ExecutionName}},
		"tasks":      tasks,
		"callback":   "http://" + ln.Addr().String() + "/task/",
		"waits":      waits,
		"retries":    retries,
	})
	if err != nil {
		return Execution{}, fmt.Errorf("encode runner input: %w", err)
	}
	cmd := exec.CommandContext(ctx, node, "--input-type=module", "--eval", runScript)
	cmd.Stdin = bytes.NewReader(cfg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Execution{}, fmt.Errorf("local execution: %w (after %s)\n%s", ctx.Err(), timeout, stderr.Bytes())
		}
		return Execution{}, fmt.Errorf("local execution: %w\n%s", err, stderr.Bytes())
	}
	var ex Execution
	if err := json.Unmarshal(stdout.Bytes(), &ex); err != nil {
		return Execution{}, fmt.Errorf("decode runner output %q: %w\n%s", stdout.Bytes(), err, stderr.Bytes())
	}
	return ex, nil
}

// overrides checks that every top-level Task has a handler and returns the
// task names and the wait and retry overrides (milliseconds) of every state.
func overrides(definition []byte, opts RunOptions) (tasks []string, waits, retries map[string]int64, err error) {
	var def struct {
		States map[string]struct {
			Type  string `json:"Type"`
			Retry []any  `json:"Retry"`
		} `json:"States"`
	}
	if err := json.Unmarshal(definition, &def); err != nil {
		return nil, nil, nil, fmt.Errorf("decode definition: %w", err)
	}
	waits, retries = map[string]int64{}, map[string]int64{}
	var missing []string
	for name, s := range def.States {
		switch s.Type {
		case "Task":
			if opts.Handlers[name] == nil {
				missing = append(missing, name)
			}
			tasks = append(tasks, name)
		case "Wait":
			waits[name] = opts.Waits[name].Milliseconds()
		}
		if len(s.Retry) > 0 {
			retries[name] = 0
		}
	}
	if len(missing) > 0 {
		return nil, nil, nil, fmt.Errorf("tasks %s: no handler (an un-overridden Task would call AWS)", strings.Join(missing, ", "))
	}
	for name := range opts.Handlers {
		if s, ok := def.States[name]; !ok || s.Type != "Task" {
			return nil, nil, nil, fmt.Errorf("handler %s: no such Task state", name)
		}
	}
	return tasks, waits, retries, nil
}

// taskServer answers the runner's task callbacks: POST /task/<state name>.
func taskServer(ctx context.Context, handlers map[string]Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/task/")
		h := handlers[name]
		if r.Method != http.MethodPost || h == nil {
			http.Error(w, "no such task", http.StatusNotFound)
			return
		}
		var in json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeTaskError(w, &TaskError{Name: "States.Runtime", Message: "decode task input: " + err.Error()})
			return
		}
		out, err := h(ctx, in)
		if err != nil {
			writeTaskError(w, err)
			return
		}
		if !json.Valid(out) {
			writeTaskError(w, &TaskError{Name: "States.Runtime", Message: "task result is not JSON"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out) //nolint:errcheck // the runner sees a broken reply
	})
}

func writeTaskError(w http.ResponseWriter, err error) {
	te := &TaskError{Name: "States.TaskFailed", Message: err.Error()}
	if errors.As(err, &te) {
		te = &TaskError{Name: te.Name, Message: te.Message}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	json.NewEncoder(w).Encode(map[string]string{"errorType": te.Name, "errorMessage": te.Message}) //nolint:errcheck
}
