package sfn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/sfn"
)

// describer answers DescribeExecution with status or err, recording the ARN asked.
type describer struct {
	recorder
	status types.ExecutionStatus
	stop   *time.Time
	err    error
	asked  string
}

func (d *describer) DescribeExecution(_ context.Context, in *awssfn.DescribeExecutionInput, _ ...func(*awssfn.Options)) (*awssfn.DescribeExecutionOutput, error) {
	d.asked = aws.ToString(in.ExecutionArn)
	if d.err != nil {
		return nil, d.err
	}
	return &awssfn.DescribeExecutionOutput{Status: d.status, StopDate: d.stop}, nil
}

func TestRunning(t *testing.T) {
	tests := []struct {
		name    string
		give    *describer
		want    bool
		wantErr bool
	}{
		{name: "running", give: &describer{status: types.ExecutionStatusRunning}, want: true},
		{name: "succeeded", give: &describer{status: types.ExecutionStatusSucceeded}, want: false},
		{name: "failed", give: &describer{status: types.ExecutionStatusFailed}, want: false},
		{name: "never started", give: &describer{err: &types.ExecutionDoesNotExist{Message: aws.String("no")}}, want: false},
		{name: "access denied", give: &describer{err: errors.New("AccessDeniedException")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &sfn.Executions{Client: tt.give, StateMachineARN: arn}
			got, err := e.Running(context.Background(), "inc-abc-1")
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("got %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
			if want := "arn:aws:states:us-east-1:123456789012:execution:esc:inc-abc-1"; tt.give.asked != want {
				t.Errorf("got ARN %q, want %q", tt.give.asked, want)
			}
		})
	}
}

func TestRunningWithoutDescribeIsAnError(t *testing.T) {
	e := &sfn.Executions{Client: &recorder{}, StateMachineARN: arn}
	if got, err := e.Running(context.Background(), "inc-abc-1"); got || err == nil {
		t.Errorf("got %v, %v; want false and an error", got, err)
	}
}

func TestState(t *testing.T) {
	stopped := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name     string
		give     *describer
		want     string
		wantStop time.Time
		wantErr  bool
	}{
		{name: "running", give: &describer{status: types.ExecutionStatusRunning}, want: "RUNNING"},
		{name: "timed out", give: &describer{status: types.ExecutionStatusTimedOut, stop: &stopped}, want: "TIMED_OUT", wantStop: stopped},
		{name: "never started", give: &describer{err: &types.ExecutionDoesNotExist{Message: aws.String("no")}}, want: ""},
		{name: "access denied", give: &describer{err: errors.New("AccessDeniedException")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &sfn.Executions{Client: tt.give, StateMachineARN: arn}
			got, stop, err := e.State(context.Background(), "inc-abc-1")
			if got != tt.want || !stop.Equal(tt.wantStop) || (err != nil) != tt.wantErr {
				t.Errorf("got %q stopped %v, %v; want %q stopped %v, error %v", got, stop, err, tt.want, tt.wantStop, tt.wantErr)
			}
		})
	}
}

// redriver answers RedriveExecution with err, recording the ARN.
type redriver struct {
	recorder
	err   error
	asked string
}

func (r *redriver) RedriveExecution(_ context.Context, in *awssfn.RedriveExecutionInput, _ ...func(*awssfn.Options)) (*awssfn.RedriveExecutionOutput, error) {
	r.asked = aws.ToString(in.ExecutionArn)
	return &awssfn.RedriveExecutionOutput{}, r.err
}

func TestRedrive(t *testing.T) {
	tests := []struct {
		name         string
		give         error
		wantErr      bool
		wantRefusals bool
	}{
		{name: "redriven"},
		{name: "refused", give: &types.ExecutionNotRedrivable{Message: aws.String("history limit")}, wantErr: true, wantRefusals: true},
		{name: "other error", give: errors.New("ThrottlingException"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &redriver{err: tt.give}
			err := (&sfn.Executions{Client: r, StateMachineARN: arn}).Redrive(context.Background(), "inc-abc-1")
			if (err != nil) != tt.wantErr || errors.Is(err, errkind.Conflict) != tt.wantRefusals {
				t.Errorf("got %v; want error %v, refusal %v", err, tt.wantErr, tt.wantRefusals)
			}
			if want := "arn:aws:states:us-east-1:123456789012:execution:esc:inc-abc-1"; r.asked != want {
				t.Errorf("got ARN %q, want %q", r.asked, want)
			}
		})
	}
}
