package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// escalationDefinition is the escalation state machine as the stack deploys
// it: the synthesized definition (asl.Resolve, each function's ARN ending in
// its folder under functions/), checked in. TestLocalDefinitionIsSynthesized
// in package infra fails when it differs from the synthesized one (rewrite it
// with -update there).
//
//go:embed escalation.asl.json
var escalationDefinition []byte

// stateMachine is the part of the Amazon States Language (JSONPath) the local
// runner interprets: Task states invoking a function by ARN, with Parameters,
// ResultPath, Retry and Catch; Choice with BooleanEquals; Wait with Seconds
// or SecondsPath; Succeed and Fail. A definition using anything else is
// refused when it is loaded, not skipped over while it runs.
//
// The tests run the same definition under aws-local-stepfunctions (infra/asl,
// infra/sfn_test.go), AWS's semantics as that library implements them. Under
// `make local` this small interpreter runs it instead: executions live as long
// as the platform, many at once, with waits divided by LOCAL_TIME_SCALE, and
// the tasks are the in-process handlers of package wiring; the library would
// need a Node 22 process bridged to them for every execution.
type stateMachine struct {
	StartAt       string               `json:"StartAt"`
	States        map[string]*aslState `json:"States"`
	Comment       string               `json:"Comment"`
	QueryLanguage string               `json:"QueryLanguage"`
}

type aslState struct {
	Type       string          `json:"Type"`
	Comment    string          `json:"Comment"`
	Resource   string          `json:"Resource"`
	Parameters map[string]any  `json:"Parameters"`
	ResultPath json.RawMessage `json:"ResultPath"`
	Next       string          `json:"Next"`
	End        bool            `json:"End"`
	Retry      []aslRetrier    `json:"Retry"`
	Catch      []aslCatcher    `json:"Catch"`
	// Wait
	Seconds     *float64 `json:"Seconds"`
	SecondsPath string   `json:"SecondsPath"`
	// Choice
	Choices []aslChoice `json:"Choices"`
	Default string      `json:"Default"`
	// Fail
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

type aslRetrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds *float64 `json:"IntervalSeconds"`
	MaxAttempts     *int     `json:"MaxAttempts"`
	BackoffRate     *float64 `json:"BackoffRate"`
}

type aslCatcher struct {
	ErrorEquals []string        `json:"ErrorEquals"`
	ResultPath  json.RawMessage `json:"ResultPath"`
	Next        string          `json:"Next"`
}

type aslChoice struct {
	Variable      string `json:"Variable"`
	BooleanEquals *bool  `json:"BooleanEquals"`
	Next          string `json:"Next"`
}

// parseStateMachine decodes and checks a definition.
func parseStateMachine(def []byte) (*stateMachine, error) {
	dec := json.NewDecoder(bytes.NewReader(def))
	dec.DisallowUnknownFields()
	var sm stateMachine
	if err := dec.Decode(&sm); err != nil {
		return nil, fmt.Errorf("state machine definition: %w (the local runner interprets a part of ASL only)", err)
	}
	if sm.QueryLanguage != "" && sm.QueryLanguage != "JSONPath" {
		return nil, fmt.Errorf("state machine definition: QueryLanguage %s: only JSONPath runs locally", sm.QueryLanguage)
	}
	next := func(name, to string) error {
		if _, ok := sm.States[to]; !ok {
			return fmt.Errorf("state machine definition: state %s: next state %q does not exist", name, to)
		}
		return nil
	}
	if err := next("StartAt", sm.StartAt); err != nil {
		return nil, err
	}
	for name, s := range sm.States {
		switch s.Type {
		case "Task":
			if _, err := functionOf(s.Resource); err != nil {
				return nil, fmt.Errorf("state machine definition: state %s: %w", name, err)
			}
			for _, c := range s.Catch {
				if err := next(name, c.Next); err != nil {
					return nil, err
				}
			}
		case "Wait":
			if (s.Seconds == nil) == (s.SecondsPath == "") {
				return nil, fmt.Errorf("state machine definition: state %s: want one of Seconds and SecondsPath", name)
			}
		case "Choice":
			for _, c := range s.Choices {
				if c.BooleanEquals == nil {
					return nil, fmt.Errorf("state machine definition: state %s: only BooleanEquals choices run locally", name)
				}
				if err := next(name, c.Next); err != nil {
					return nil, err
				}
			}
			if err := next(name, s.Default); err != nil {
				return nil, err
			}
			continue
		case "Succeed", "Fail":
			continue
		default:
			return nil, fmt.Errorf("state machine definition: state %s: type %s does not run locally", name, s.Type)
		}
		if !s.End {
			if err := next(name, s.Next); err != nil {
				return nil, err
			}
		}
	}
	return &sm, nil
}

// functionOf returns the function a Task's Resource names: the last part of
// a Lambda function ARN, without a qualifier.
func functionOf(resource string) (string, error) {
	_, name, ok := strings.Cut(resource, ":function:")
	if !ok || name == "" {
		return "", fmt.Errorf("resource %q is not a Lambda function ARN (only those run locally)", resource)
	}
	name, _, _ = strings.Cut(name, ":")
	return name, nil
}

// States' error names (ASL).
const (
	errAll        = "States.ALL"
	errTaskFailed = "States.TaskFailed"
	errRuntime    = "States.Runtime"
	errTimeout    = "States.Timeout"
)

// matches reports whether an error named name is one of errorEquals, as ASL
// matches them: States.ALL matches every error but States.Runtime (the
// definition and the data disagree: no retry or catch helps, the execution
// fails), States.TaskFailed every error of a task but States.Timeout.
func matches(errorEquals []string, name string) bool {
	if name == errRuntime {
		return false
	}
	for _, e := range errorEquals {
		if e == name || e == errAll || (e == errTaskFailed && name != errTimeout) {
			return true
		}
	}
	return false
}

// delay is the wait before retry attempt n (0-based) of r, with ASL's
// defaults (IntervalSeconds 1, BackoffRate 2.0); false when r allows no more
// attempts (MaxAttempts, default 3).
func (r aslRetrier) delay(n int) (time.Duration, bool) {
	interval, rate, max := 1.0, 2.0, 3
	if r.IntervalSeconds != nil {
		interval = *r.IntervalSeconds
	}
	if r.BackoffRate != nil {
		rate = *r.BackoffRate
	}
	if r.MaxAttempts != nil {
		max = *r.MaxAttempts
	}
	if n >= max {
		return 0, false
	}
	return time.Duration(interval * math.Pow(rate, float64(n)) * float64(time.Second)), true
}

// execContext is the context object ($$) of an execution.
type execContext struct {
	Name string
}

// path evaluates a JSONPath reference of the simple form the definition
// uses: $, $.a.b, $$.Execution.Name.
func path(p string, input any, ctx execContext) (any, error) {
	if p == "$$.Execution.Name" {
		return ctx.Name, nil
	}
	if p == "$" {
		return input, nil
	}
	rest, ok := strings.CutPrefix(p, "$.")
	if !ok {
		return nil, fmt.Errorf("path %q: only $, $.field… and $$.Execution.Name run locally", p)
	}
	v := input
	for _, k := range strings.Split(rest, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("path %q: no field %s in the input", p, k)
		}
		if v, ok = m[k]; !ok {
			return nil, fmt.Errorf("path %q: no field %s in the input", p, k)
		}
	}
	return v, nil
}

// parameters builds a Task's effective input from its Parameters template:
// "key.$" fields take the value of their path, the others are literal.
func parameters(tpl map[string]any, input any, ctx execContext) (map[string]any, error) {
	out := make(map[string]any, len(tpl))
	for k, v := range tpl {
		if name, ok := strings.CutSuffix(k, ".$"); ok {
			p, _ := v.(string)
			got, err := path(p, input, ctx)
			if err != nil {
				return nil, err
			}
			out[name] = got
			continue
		}
		if m, ok := v.(map[string]any); ok {
			sub, err := parameters(m, input, ctx)
			if err != nil {
				return nil, err
			}
			out[k] = sub
			continue
		}
		out[k] = v
	}
	return out, nil
}

// withResult applies a ResultPath: absent or "$" is the result itself, null
// keeps the input, "$.a.b" puts the result there in (a copy of) the input.
func withResult(resultPath json.RawMessage, input, result any) (any, error) {
	if len(resultPath) == 0 {
		return result, nil
	}
	if string(resultPath) == "null" {
		return input, nil
	}
	var p string
	if err := json.Unmarshal(resultPath, &p); err != nil {
		return nil, fmt.Errorf("ResultPath %s: %w", resultPath, err)
	}
	if p == "$" {
		return result, nil
	}
	rest, ok := strings.CutPrefix(p, "$.")
	if !ok {
		return nil, fmt.Errorf("ResultPath %q: only $ and $.field… run locally", p)
	}
	keys := strings.Split(rest, ".")
	root, ok := copyObject(input)
	if !ok {
		return nil, fmt.Errorf("ResultPath %q: the input is not an object", p)
	}
	m := root
	for _, k := range keys[:len(keys)-1] {
		sub, ok := copyObject(m[k])
		if !ok {
			sub = map[string]any{}
		}
		m[k] = sub
		m = sub
	}
	m[keys[len(keys)-1]] = result
	return root, nil
}

func copyObject(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out, true
}

// taskError is a failed state: its ASL error name and cause.
type taskError struct {
	Name  string `json:"Error"`
	Cause string `json:"Cause"`
}

func (e *taskError) Error() string { return e.Name + ": " + e.Cause }

// runtimeError is States.Runtime: the definition and the data disagree.
func runtimeError(err error) *taskError { return &taskError{Name: errRuntime, Cause: err.Error()} }

// asTaskError names a function's error as Step Functions does: its
// errorType (the Lambda runtime's name for it).
func asTaskError(err error) *taskError {
	var te *taskError
	if errors.As(err, &te) {
		return te
	}
	return &taskError{Name: errorType(err), Cause: err.Error()}
}
