package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The runner's retries are the deployed state machine's: PageLevel retries
// a failed invocation 3 times, 2, 4 and 8 s apart (not time-scaled), then
// its failure is caught and the step runs again after RetryLater;
// OpenWarRoom retries only Lambda's own service errors, which a local
// function never raises, and its failure is caught.
func TestRunnerRetriesAsTheDefinition(t *testing.T) {
	def := mustDefinition(t)
	tests := []struct {
		state      string
		err        string
		wantDelays []time.Duration
		wantCatch  string
	}{
		{state: "PageLevel", err: "errorString", wantDelays: []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}, wantCatch: "RetryLater"},
		{state: "PageLevel", err: "States.Timeout", wantCatch: "RetryLater"},
		{state: "PageLevel", err: "States.Runtime"},
		{state: "FirstPage", err: "errorString", wantDelays: []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}, wantCatch: "RetryFirstPage"},
		{state: "OpenWarRoom", err: "errorString", wantCatch: "Done?"},
		{state: "OpenWarRoom", err: "Lambda.ServiceException", wantDelays: []time.Duration{time.Second, 2 * time.Second}, wantCatch: "Done?"},
	}
	for _, tt := range tests {
		t.Run(tt.state+" "+tt.err, func(t *testing.T) {
			s := def.States[tt.state]
			te := &taskError{Name: tt.err}
			var delays []time.Duration
			if i := retrier(s, te); i >= 0 {
				for n := 0; ; n++ {
					d, ok := s.Retry[i].delay(n)
					if !ok {
						break
					}
					delays = append(delays, d)
				}
			}
			if !slices.Equal(delays, tt.wantDelays) {
				t.Errorf("retry delays: got %v, want %v", delays, tt.wantDelays)
			}
			var caught string
			if c := catcher(s, te); c != nil {
				caught = c.Next
			}
			if caught != tt.wantCatch {
				t.Errorf("caught to: got %q, want %q", caught, tt.wantCatch)
			}
		})
	}
}

// A first page that fails once is retried (after the definition's 2 s) and
// the execution goes on with its output, to the war room; the state and the
// execution name reach the functions as the definition's paths say.
func TestRunnerRetriesFirstPage(t *testing.T) {
	if testing.Short() {
		t.Skip("waits the definition's 2 s retry interval")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var calls []string
	done := make(chan struct{})
	escalated := 0
	r := &runner{
		def: mustDefinition(t),
		invoke: func(_ context.Context, fn string, payload []byte) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, fn+" "+string(payload))
			switch {
			case fn == "warroom":
				close(done)
				return []byte(`{"channel_id":"C1"}`), nil
			case escalated == 0:
				escalated++
				return nil, errors.New("throttled")
			default:
				return []byte(`{"incident_id":"01ABC","state":{"level":2},"done":true}`), nil
			}
		},
		scale: 60, log: discardLogger(), ctx: ctx,
	}
	start := time.Now()
	if err := r.Start(ctx, "inc-01ABC-0", []byte(`{"incident_id":"01ABC","state":{"level":1}}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("FirstPage was not retried within 10s")
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("retry after %v, want the definition's 2s", took)
	}
	cancel()
	r.wait()
	want := []string{
		`escalate {"execution":"inc-01ABC-0","incident_id":"01ABC","state":{"level":1}}`,
		`escalate {"execution":"inc-01ABC-0","incident_id":"01ABC","state":{"level":1}}`,
		`warroom {"incident_id":"01ABC","state":{"level":2}}`,
	}
	if !slices.Equal(calls, want) {
		t.Errorf("invocations:\ngot  %q\nwant %q", calls, want)
	}
}

// A definition using ASL the runner does not interpret is refused when
// loaded, not run differently from AWS.
func TestParseStateMachineRefusesWhatItCannotRun(t *testing.T) {
	tests := []struct {
		name    string
		def     string
		wantErr string
	}{
		{"parallel", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[],"End":true}}}`, "unknown field"},
		{"map type", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true}}}`, "type Map does not run locally"},
		{"service integration", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","End":true}}}`, "not a Lambda function ARN"},
		{"numeric choice", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":1,"Next":"C"}],"Default":"C"}}}`, "unknown field"},
		{"JSONata", `{"StartAt":"S","QueryLanguage":"JSONata","States":{"S":{"Type":"Succeed"}}}`, "only JSONPath"},
		{"missing next", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"Nope"}}}`, `next state "Nope" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseStateMachine([]byte(tt.def))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
