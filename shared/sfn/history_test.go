package sfn_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/incidentd/incidentd/shared/sfn"
)

// historian answers GetExecutionHistory as Step Functions does: events, in
// the order they happened, served newest first in pages of MaxResults with
// a NextToken; or err. It records each call's input.
type historian struct {
	recorder
	events []types.HistoryEvent
	err    error
	calls  []awssfn.GetExecutionHistoryInput
}

func (h *historian) GetExecutionHistory(_ context.Context, in *awssfn.GetExecutionHistoryInput, _ ...func(*awssfn.Options)) (*awssfn.GetExecutionHistoryOutput, error) {
	h.calls = append(h.calls, *in)
	if h.err != nil {
		return nil, h.err
	}
	if !in.ReverseOrder {
		return nil, errors.New("the test serves the history newest first only")
	}
	from := 0
	if in.NextToken != nil {
		from, _ = strconv.Atoi(*in.NextToken)
	}
	out := &awssfn.GetExecutionHistoryOutput{}
	for i := len(h.events) - 1 - from; i >= 0 && len(out.Events) < int(in.MaxResults); i-- {
		out.Events = append(out.Events, h.events[i])
	}
	if next := from + len(out.Events); next < len(h.events) {
		out.NextToken = aws.String(strconv.Itoa(next))
	}
	return out, nil
}

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// ev is an event at t0 + at; a state name makes it a state-entered event.
func ev(typ types.HistoryEventType, at time.Duration, state ...string) types.HistoryEvent {
	e := types.HistoryEvent{Type: typ, Timestamp: aws.Time(t0.Add(at))}
	if len(state) > 0 {
		e.StateEnteredEventDetails = &types.StateEnteredEventDetails{Name: aws.String(state[0])}
	}
	return e
}

// task is a Task state entered at at whose invocations are scheduled at
// each of attempts (all failing but the last).
func task(state string, at time.Duration, attempts ...time.Duration) []types.HistoryEvent {
	events := []types.HistoryEvent{ev(types.HistoryEventTypeTaskStateEntered, at, state)}
	for i, a := range attempts {
		end := types.HistoryEventTypeLambdaFunctionSucceeded
		if i < len(attempts)-1 {
			end = types.HistoryEventTypeLambdaFunctionFailed
		}
		events = append(events, ev(types.HistoryEventTypeLambdaFunctionScheduled, a), ev(types.HistoryEventTypeLambdaFunctionStarted, a+20*time.Millisecond), ev(end, a+50*time.Millisecond))
	}
	return append(events, ev(types.HistoryEventTypeTaskStateExited, attempts[len(attempts)-1]+60*time.Millisecond))
}

// succeeded is the end of an execution after its last Task, at at.
func succeeded(at time.Duration) []types.HistoryEvent {
	return []types.HistoryEvent{
		ev(types.HistoryEventTypeChoiceStateEntered, at, "Done?"), ev(types.HistoryEventTypeChoiceStateExited, at),
		ev(types.HistoryEventTypeSucceedStateEntered, at, "Escalated"), ev(types.HistoryEventTypeSucceedStateExited, at),
		ev(types.HistoryEventTypeExecutionSucceeded, at),
	}
}

func history(parts ...[]types.HistoryEvent) []types.HistoryEvent {
	all := []types.HistoryEvent{ev(types.HistoryEventTypeExecutionStarted, 0)}
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// waits is n Wait states entered and left (no page step).
func waits(n int, at time.Duration) []types.HistoryEvent {
	var events []types.HistoryEvent
	for range n {
		events = append(events, ev(types.HistoryEventTypeWaitStateEntered, at, "Wait"), ev(types.HistoryEventTypeWaitStateExited, at))
	}
	return events
}

// TestLastPageStarted: when the execution's latest page step started its
// latest invocation, read from the history newest first in one call of 50
// events when it is near the end, without the execution's data; zero for an
// execution that ran none or does not exist; an error when it cannot be told.
func TestLastPageStarted(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	tests := []struct {
		name      string
		give      *historian
		want      time.Time
		wantCalls int
		wantErr   bool
	}{
		{name: "PageLevel then the end", give: &historian{events: history(
			task("FirstPage", sec(0), sec(0.01)), task("OpenWarRoom", sec(1), sec(1.01)),
			waits(1, sec(2)), task("PageLevel", sec(300), sec(300.01)), succeeded(sec(300.2)))},
			want: t0.Add(sec(300.01)), wantCalls: 1},
		{name: "a retried invocation: its latest attempt", give: &historian{events: history(
			task("FirstPage", sec(0), sec(0.01)), task("OpenWarRoom", sec(1), sec(1.01)),
			task("PageLevel", sec(300), sec(300.01), sec(302.1), sec(306.1)), succeeded(sec(306.3)))},
			want: t0.Add(sec(306.1)), wantCalls: 1},
		{name: "FirstPage found it done; the war room opened after: FirstPage's", give: &historian{events: history(
			task("FirstPage", sec(0), sec(0.01)), task("OpenWarRoom", sec(1), sec(1.01), sec(2.1)), succeeded(sec(2.3)))},
			want: t0.Add(sec(0.01)), wantCalls: 1},
		{name: "a page step further back than one call", give: &historian{events: history(
			task("PageLevel", sec(60), sec(60.01)), waits(40, sec(61)), succeeded(sec(120)))},
			want: t0.Add(sec(60.01)), wantCalls: 2},
		{name: "no page step in the history", give: &historian{events: history(succeeded(sec(1)))}, wantCalls: 1},
		{name: "no page step within 200 events", give: &historian{events: history(
			task("PageLevel", sec(60), sec(60.01)), waits(101, sec(61)), succeeded(sec(120)))},
			wantCalls: 4, wantErr: true},
		{name: "does not exist", give: &historian{err: &types.ExecutionDoesNotExist{Message: aws.String("no")}}, wantCalls: 1},
		{name: "access denied", give: &historian{err: errors.New("AccessDeniedException")}, wantCalls: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &sfn.Executions{Client: tt.give, StateMachineARN: arn}
			got, err := e.LastPageStarted(context.Background(), "inc-abc-0")
			if !got.Equal(tt.want) || (err != nil) != tt.wantErr {
				t.Errorf("got %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
			if len(tt.give.calls) != tt.wantCalls {
				t.Errorf("got %d GetExecutionHistory calls, want %d", len(tt.give.calls), tt.wantCalls)
			}
			for _, in := range tt.give.calls {
				if got, want := aws.ToString(in.ExecutionArn), "arn:aws:states:us-east-1:123456789012:execution:esc:inc-abc-0"; got != want {
					t.Errorf("got ARN %q, want %q", got, want)
				}
				if !in.ReverseOrder || in.MaxResults != 50 || aws.ToBool(in.IncludeExecutionData) {
					t.Errorf("got ReverseOrder %v, MaxResults %d, IncludeExecutionData %v; want true, 50, false",
						in.ReverseOrder, in.MaxResults, aws.ToBool(in.IncludeExecutionData))
				}
			}
		})
	}
}

func TestLastPageStartedWithoutHistoryIsAnError(t *testing.T) {
	e := &sfn.Executions{Client: &recorder{}, StateMachineARN: arn}
	if got, err := e.LastPageStarted(context.Background(), "inc-abc-0"); !got.IsZero() || err == nil {
		t.Errorf("got %v, %v; want zero and an error", got, err)
	}
}
