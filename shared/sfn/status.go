package sfn

import (
	"context"
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

// HistoryReader is the part of the Step Functions client LastPageStarted
// uses; the SDK's client has it.
type HistoryReader interface {
	GetExecutionHistory(ctx context.Context, in *awssfn.GetExecutionHistoryInput, optFns ...func(*awssfn.Options)) (*awssfn.GetExecutionHistoryOutput, error)
}

// historyPage is how many events one GetExecutionHistory call reads, newest
// first: the end of a succeeded execution back to its last page step is
// about 15 events (Done?, Escalated, OpenWarRoom after FirstPage, a few
// retried invocations), so one call nearly always answers.
const historyPage = 50

// maxHistoryPages bounds the calls of one LastPageStarted.
const maxHistoryPages = 4

// LastPageStarted returns when the latest page step (PageSteps) of the
// execution called name started its latest attempt, zero when it ran none
// (or does not exist) (escalation.ExecutionRedriver). It reads the history
// newest first (GetExecutionHistory, ReverseOrder, without the data): the
// latest TaskStateEntered of a page step, or the latest LambdaFunctionScheduled
// (TaskScheduled for a service integration) inside it when Step Functions
// retried the invocation; an invocation inside another Task state
// (OpenWarRoom) is not a page step's. A page step not within
// maxHistoryPages × historyPage events is an error. It needs
// states:GetExecutionHistory on the state machine's executions.
func (e *Executions) LastPageStarted(ctx context.Context, name string) (time.Time, error) {
	h, ok := e.Client.(HistoryReader)
	if !ok {
		return time.Time{}, fmt.Errorf("history of execution %s: the client cannot read execution histories", name)
	}
	arn, err := ExecutionARN(e.StateMachineARN, name)
	if err != nil {
		return time.Time{}, err
	}
	in := &awssfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(arn), ReverseOrder: true,
		MaxResults: historyPage, IncludeExecutionData: aws.Bool(false),
	}
	var scheduled time.Time // the latest invocation of the Task state being read back
	for range maxHistoryPages {
		out, err := h.GetExecutionHistory(ctx, in)
		var missing *types.ExecutionDoesNotExist
		if errors.As(err, &missing) {
			return time.Time{}, nil
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("history of execution %s: %w", name, err)
		}
		for _, ev := range out.Events {
			switch ev.Type {
			case types.HistoryEventTypeLambdaFunctionScheduled, types.HistoryEventTypeTaskScheduled:
				if scheduled.IsZero() {
					scheduled = aws.ToTime(ev.Timestamp)
				}
			case types.HistoryEventTypeTaskStateEntered:
				if d := ev.StateEnteredEventDetails; d != nil && slices.Contains(PageSteps, aws.ToString(d.Name)) {
					if scheduled.IsZero() {
						scheduled = aws.ToTime(ev.Timestamp)
					}
					return scheduled, nil
				}
				scheduled = time.Time{}
			}
		}
		if out.NextToken == nil {
			return time.Time{}, nil
		}
		in.NextToken = out.NextToken
	}
	return time.Time{}, fmt.Errorf("history of execution %s: no page step in its latest %d events", name, maxHistoryPages*historyPage)
}
