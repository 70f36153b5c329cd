package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Describer is the part of the Step Functions client Running uses; the
// SDK's client has it. It is apart from Client so that a client that only
// starts executions still starts them.
type Describer interface {
	DescribeExecution(ctx context.Context, in *awssfn.DescribeExecutionInput, optFns ...func(*awssfn.Options)) (*awssfn.DescribeExecutionOutput, error)
}

// Running reports whether the execution called name of the state machine
// runs (escalation.ExecutionStatus): the Starter starts no second escalation
// for a reopened incident while an earlier one still pages it (README,
// flapping). An execution that does not exist is not running. It needs
// states:DescribeExecution on the state machine's executions; a client
// without DescribeExecution is an error, so the Starter starts a new
// escalation rather than drop a page.
func (e *Executions) Running(ctx context.Context, name string) (bool, error) {
	d, ok := e.Client.(Describer)
	if !ok {
		return false, fmt.Errorf("describe execution %s: the client cannot describe executions", name)
	}
	arn, err := ExecutionARN(e.StateMachineARN, name)
	if err != nil {
		return false, err
	}
	out, err := d.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("describe execution %s: %w", name, err)
	}
	return out.Status == types.ExecutionStatusRunning, nil
}

// ExecutionARN is the ARN of the execution called name of the state machine
// stateMachineARN (arn:<partition>:states:<region>:<account>:stateMachine:<machine>
// → …:execution:<machine>:<name>).
func ExecutionARN(stateMachineARN, name string) (string, error) {
	const marker = ":stateMachine:"
	i := strings.Index(stateMachineARN, marker)
	if !strings.HasPrefix(stateMachineARN, "arn:") || i < 0 || name == "" {
		return "", fmt.Errorf("execution %q of state machine %q: not a state machine ARN", name, stateMachineARN)
	}
	return stateMachineARN[:i] + ":execution:" + stateMachineARN[i+len(marker):] + ":" + name, nil
}

// Redriver is the part of the Step Functions client Redrive uses; the SDK's
// client has it.
type Redriver interface {
	RedriveExecution(ctx context.Context, in *awssfn.RedriveExecutionInput, optFns ...func(*awssfn.Options)) (*awssfn.RedriveExecutionOutput, error)
}

// State returns the status of the execution called name as Step Functions
// names it (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE),
// or "" when it does not exist, and its stop date (zero while it runs)
// (escalation.ExecutionRedriver). It needs states:DescribeExecution on the
// state machine's executions.
func (e *Executions) State(ctx context.Context, name string) (string, time.Time, error) {
	d, ok := e.Client.(Describer)
	if !ok {
		return "", time.Time{}, fmt.Errorf("describe execution %s: the client cannot describe executions", name)
	}
	arn, err := ExecutionARN(e.StateMachineARN, name)
	if err != nil {
		return "", time.Time{}, err
	}
	out, err := d.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("describe execution %s: %w", name, err)
	}
	return string(out.Status), aws.ToTime(out.StopDate), nil
}

// Redrive restarts the failed, timed-out or aborted execution called name
// from its unsuccessful state (RedriveExecution).
// Step Functions' refusal (ExecutionNotRedrivable: the history limit, 14
// days after the failure, a failure it caused itself) is an error matching
// errkind.Conflict (escalation.ErrNotRedrivable is that kind). It needs
// states:RedriveExecution on the state machine's executions.
func (e *Executions) Redrive(ctx context.Context, name string) error {
	r, ok := e.Client.(Redriver)
	if !ok {
		return fmt.Errorf("redrive execution %s: the client cannot redrive executions", name)
	}
	arn, err := ExecutionARN(e.StateMachineARN, name)
	if err != nil {
		return err
	}
	_, err = r.RedriveExecution(ctx, &awssfn.RedriveExecutionInput{ExecutionArn: aws.String(arn)})
	var refused *types.ExecutionNotRedrivable
	if errors.As(err, &refused) {
		return fmt.Errorf("redrive execution %s: %s: %w", name, aws.ToString(refused.Message), errkind.Conflict)
	}
	if err != nil {
		return fmt.Errorf("redrive execution %s: %w", name, err)
	}
	return nil
}

// PageSteps are the Task states of the escalation state machine that page:
// they invoke the escalate function, which reads the incident's status
// (infra/escalation's FirstPage and PageLevel; infra's
// TestWatchdogPageSteps holds the two lists together).
var PageSteps = []string{"FirstPage", "PageLevel"}

// HistoryReader is the part of the Step Functions client LastPageSaw uses;
// the SDK's client has it.
type HistoryReader interface {
	GetExecutionHistory(ctx context.Context, in *awssfn.GetExecutionHistoryInput, optFns ...func(*awssfn.Options)) (*awssfn.GetExecutionHistoryOutput, error)
}

// historyPage is how many events one GetExecutionHistory call reads, newest
// first: the end of a succeeded execution back to its last page step is
// about 15 events (Done?, Escalated, OpenWarRoom after FirstPage, a few
// retried invocations), so one call nearly always answers.
const historyPage = 50

// maxHistoryPages bounds the calls of one LastPageSaw.
const maxHistoryPages = 4

// LastPageSaw returns the reopen count the latest page step (PageSteps) of
// the execution called name read in its latest succeeded invocation of
// escalate: the reopen_count of that invocation's output
// (escalation.Output) (escalation.ExecutionRedriver). known is false when
// the execution does not exist, ran no page step that succeeded, or its
// output has no reopen_count (a run of an older version) or cannot be read
// (truncated). It reads the history newest first (GetExecutionHistory,
// ReverseOrder, with the data): the newest LambdaFunctionSucceeded
// (TaskSucceeded for a service integration, whose output holds the
// function's under Payload) inside the newest page step's
// TaskStateEntered; an invocation inside another Task state (OpenWarRoom)
// is not a page step's. A newest page step without a succeeded invocation
// (its failures caught into RetryLater) gives way to the one before it,
// which read the incident earlier: it saw no later a reopen. A page step
// not within maxHistoryPages × historyPage events is an error. It needs
// states:GetExecutionHistory on the state machine's executions.
func (e *Executions) LastPageSaw(ctx context.Context, name string) (reopenCount int, known bool, err error) {
	h, ok := e.Client.(HistoryReader)
	if !ok {
		return 0, false, fmt.Errorf("history of execution %s: the client cannot read execution histories", name)
	}
	arn, err := ExecutionARN(e.StateMachineARN, name)
	if err != nil {
		return 0, false, err
	}
	in := &awssfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(arn), ReverseOrder: true,
		MaxResults: historyPage, IncludeExecutionData: aws.Bool(true),
	}
	// The newest succeeded invocation of the Task state being read back:
	// whether there is one, its output, and whether that was truncated.
	var found, truncated bool
	var output string
	note := func(out *string, d *types.HistoryEventExecutionDataDetails) {
		if !found {
			found, output, truncated = true, aws.ToString(out), d != nil && d.Truncated
		}
	}
	for range maxHistoryPages {
		out, err := h.GetExecutionHistory(ctx, in)
		var missing *types.ExecutionDoesNotExist
		if errors.As(err, &missing) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("history of execution %s: %w", name, err)
		}
		for _, ev := range out.Events {
			switch {
			case ev.Type == types.HistoryEventTypeLambdaFunctionSucceeded && ev.LambdaFunctionSucceededEventDetails != nil:
				note(ev.LambdaFunctionSucceededEventDetails.Output, ev.LambdaFunctionSucceededEventDetails.OutputDetails)
			case ev.Type == types.HistoryEventTypeTaskSucceeded && ev.TaskSucceededEventDetails != nil:
				note(ev.TaskSucceededEventDetails.Output, ev.TaskSucceededEventDetails.OutputDetails)
			case ev.Type == types.HistoryEventTypeTaskStateEntered:
				if d := ev.StateEnteredEventDetails; found && d != nil && slices.Contains(PageSteps, aws.ToString(d.Name)) {
					if truncated {
						return 0, false, nil
					}
					n, ok := reopenCountOf(output)
					return n, ok, nil
				}
				found = false
			}
		}
		if out.NextToken == nil {
			return 0, false, nil
		}
		in.NextToken = out.NextToken
	}
	return 0, false, fmt.Errorf("history of execution %s: no succeeded page step in its latest %d events", name, maxHistoryPages*historyPage)
}

// reopenCountOf reads reopen_count from a page step's output: the escalate
// function's response (LambdaFunctionSucceeded), or a lambda:invoke
// integration's result with that response under Payload (TaskSucceeded).
// false when it has none.
func reopenCountOf(output string) (int, bool) {
	var out struct {
		ReopenCount *int `json:"reopen_count"`
		Payload     *struct {
			ReopenCount *int `json:"reopen_count"`
		} `json:"Payload"`
	}
	if err := json.Unmarshal([]byte(output), &out); err != nil {
		return 0, false
	}
	switch {
	case out.ReopenCount != nil:
		return *out.ReopenCount, true
	case out.Payload != nil && out.Payload.ReopenCount != nil:
		return *out.Payload.ReopenCount, true
	}
	return 0, false
}
