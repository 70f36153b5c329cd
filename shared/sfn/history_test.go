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

// task is a Task state entered at at that invokes its function once per
// output, 2 s apart: "" is an attempt that failed, anything else one that
// succeeded with that output (LambdaFunctionSucceeded).
func task(state string, at time.Duration, outputs ...string) []types.HistoryEvent {
	events := []types.HistoryEvent{ev(types.HistoryEventTypeTaskStateEntered, at, state)}
	a := at
	for _, out := range outputs {
		a += 10 * time.Millisecond
		end := ev(types.HistoryEventTypeLambdaFunctionFailed, a+50*time.Millisecond)
		if out != "" {
			end = ev(types.HistoryEventTypeLambdaFunctionSucceeded, a+50*time.Millisecond)
			end.LambdaFunctionSucceededEventDetails = &types.LambdaFunctionSucceededEventDetails{
				Output: aws.String(out), OutputDetails: &types.HistoryEventExecutionDataDetails{}}
		}
		events = append(events, ev(types.HistoryEventTypeLambdaFunctionScheduled, a), ev(types.HistoryEventTypeLambdaFunctionStarted, a+20*time.Millisecond), end)
		a += 2 * time.Second
	}
	return append(events, ev(types.HistoryEventTypeTaskStateExited, a))
}

// integration is a Task state entered at at that invokes its function
// through the lambda:invoke service integration (TaskSucceeded), whose
// result holds the function's output under Payload.
func integration(state string, at time.Duration, output string) []types.HistoryEvent {
	end := ev(types.HistoryEventTypeTaskSucceeded, at+50*time.Millisecond)
	end.TaskSucceededEventDetails = &types.TaskSucceededEventDetails{
		Resource: aws.String("invoke"), ResourceType: aws.String("lambda"),
		Output: aws.String(`{"ExecutedVersion":"$LATEST","Payload":` + output + `,"StatusCode":200}`)}
	return []types.HistoryEvent{
		ev(types.HistoryEventTypeTaskStateEntered, at, state),
		ev(types.HistoryEventTypeTaskScheduled, at+10*time.Millisecond), ev(types.HistoryEventTypeTaskStarted, at+20*time.Millisecond), end,
		ev(types.HistoryEventTypeTaskStateExited, at+60*time.Millisecond),
	}
}

// truncated marks the output of every succeeded invocation in events as
// truncated (Step Functions cuts data beyond its size limit).
func truncated(events []types.HistoryEvent) []types.HistoryEvent {
	for _, e := range events {
		if d := e.LambdaFunctionSucceededEventDetails; d != nil {
			d.OutputDetails.Truncated = true
			d.Output = aws.String(`{"incident_id":"01ABC","reopen_co`)
		}
	}
	return events
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

// saw is a page step's output that read reopen n.
func saw(n int) string {
	return `{"incident_id":"01ABC","execution":"inc-abc-0","state":{},"done":true,"wait_seconds":0,"paged":[],"reopen_count":` + strconv.Itoa(n) + `}`
}

// TestLastPageSaw: the reopen count the execution's latest page step read
// in its latest succeeded invocation, from the history read newest first
// with the execution's data, in one call of 50 events when it is near the
// end; not known for an output without one (an older version's run), a
// truncated one, an execution that ran no page step or does not exist; an
// error when it cannot be told.
func TestLastPageSaw(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	tests := []struct {
		name      string
		give      *historian
		want      int
		wantKnown bool
		wantCalls int
		wantErr   bool
	}{
		{name: "PageLevel then the end", give: &historian{events: history(
			task("FirstPage", sec(0), saw(0)), task("OpenWarRoom", sec(1), `{"channel_id":"C1"}`),
			waits(1, sec(2)), task("PageLevel", sec(300), saw(1)), succeeded(sec(300.2)))},
			want: 1, wantKnown: true, wantCalls: 1},
		{name: "a retried invocation: a failed attempt, then the one that succeeded", give: &historian{events: history(
			task("FirstPage", sec(0), saw(0)), task("OpenWarRoom", sec(1), `{"channel_id":"C1"}`),
			task("PageLevel", sec(300), "", saw(2)), succeeded(sec(306.3)))},
			want: 2, wantKnown: true, wantCalls: 1},
		{name: "FirstPage found it done; the war room opened after: FirstPage's, not the war room's", give: &historian{events: history(
			// A war room output with a reopen_count (it has none) shows it is not read.
			task("FirstPage", sec(0), saw(1)), task("OpenWarRoom", sec(1), "", `{"channel_id":"C1","reopen_count":9}`), succeeded(sec(2.3)))},
			want: 1, wantKnown: true, wantCalls: 1},
		{name: "a lambda:invoke integration: TaskSucceeded's Payload", give: &historian{events: history(
			integration("FirstPage", sec(0), saw(0)), waits(1, sec(1)), integration("PageLevel", sec(300), saw(3)), succeeded(sec(300.2)))},
			want: 3, wantKnown: true, wantCalls: 1},
		{name: "a page step further back than one call", give: &historian{events: history(
			task("PageLevel", sec(60), saw(1)), waits(40, sec(61)), succeeded(sec(120)))},
			want: 1, wantKnown: true, wantCalls: 2},
		{name: "the newest page step never succeeded: the one before it", give: &historian{events: history(
			task("PageLevel", sec(60), saw(1)), waits(1, sec(61)), task("PageLevel", sec(120), "", "", ""), succeeded(sec(130)))},
			want: 1, wantKnown: true, wantCalls: 1},
		{name: "an output without reopen_count (an older version)", give: &historian{events: history(
			task("FirstPage", sec(0), `{"incident_id":"01ABC","state":{},"done":true}`), succeeded(sec(1)))},
			wantCalls: 1},
		{name: "a truncated output", give: &historian{events: history(truncated(task("FirstPage", sec(0), saw(1))), succeeded(sec(1)))},
			wantCalls: 1},
		{name: "no page step in the history", give: &historian{events: history(succeeded(sec(1)))}, wantCalls: 1},
		{name: "no page step within 200 events", give: &historian{events: history(
			task("PageLevel", sec(60), saw(1)), waits(101, sec(61)), succeeded(sec(120)))},
			wantCalls: 4, wantErr: true},
		{name: "does not exist", give: &historian{err: &types.ExecutionDoesNotExist{Message: aws.String("no")}}, wantCalls: 1},
		{name: "access denied", give: &historian{err: errors.New("AccessDeniedException")}, wantCalls: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &sfn.Executions{Client: tt.give, StateMachineARN: arn}
			got, known, err := e.LastPageSaw(context.Background(), "inc-abc-0")
			if got != tt.want || known != tt.wantKnown || (err != nil) != tt.wantErr {
				t.Errorf("got %d, known %v, %v; want %d, known %v, error %v", got, known, err, tt.want, tt.wantKnown, tt.wantErr)
			}
			if len(tt.give.calls) != tt.wantCalls {
				t.Errorf("got %d GetExecutionHistory calls, want %d", len(tt.give.calls), tt.wantCalls)
			}
			for _, in := range tt.give.calls {
				if got, want := aws.ToString(in.ExecutionArn), "arn:aws:states:us-east-1:123456789012:execution:esc:inc-abc-0"; got != want {
					t.Errorf("got ARN %q, want %q", got, want)
				}
				if !in.ReverseOrder || in.MaxResults != 50 || !aws.ToBool(in.IncludeExecutionData) {
					t.Errorf("got ReverseOrder %v, MaxResults %d, IncludeExecutionData %v; want true, 50, true",
						in.ReverseOrder, in.MaxResults, aws.ToBool(in.IncludeExecutionData))
				}
			}
		})
	}
}

func TestLastPageSawWithoutHistoryIsAnError(t *testing.T) {
	e := &sfn.Executions{Client: &recorder{}, StateMachineARN: arn}
	if got, known, err := e.LastPageSaw(context.Background(), "inc-abc-0"); got != 0 || known || err == nil {
		t.Errorf("got %d, known %v, %v; want 0, not known and an error", got, known, err)
	}
}
