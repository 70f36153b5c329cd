package sfn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/sfn"
)

// recorder records StartExecution calls and answers with err.
type recorder struct {
	calls []*awssfn.StartExecutionInput
	err   error
}

func (r *recorder) StartExecution(_ context.Context, in *awssfn.StartExecutionInput, _ ...func(*awssfn.Options)) (*awssfn.StartExecutionOutput, error) {
	r.calls = append(r.calls, in)
	if r.err != nil {
		return nil, r.err
	}
	return &awssfn.StartExecutionOutput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:esc:" + aws.ToString(in.Name))}, nil
}

const arn = "arn:aws:states:us-east-1:123456789012:stateMachine:esc"

func TestStartSendsNameAndInput(t *testing.T) {
	rec := &recorder{}
	e := &sfn.Executions{Client: rec, StateMachineARN: arn}
	if err := e.Start(context.Background(), "inc-abc-0", []byte(`{"incident_id":"abc"}`)); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 1 {
		t.Fatalf("got %d calls, want 1", len(rec.calls))
	}
	c := rec.calls[0]
	if got := aws.ToString(c.StateMachineArn); got != arn {
		t.Errorf("got state machine %q, want %q", got, arn)
	}
	if got := aws.ToString(c.Name); got != "inc-abc-0" {
		t.Errorf("got name %q, want inc-abc-0", got)
	}
	if got := aws.ToString(c.Input); got != `{"incident_id":"abc"}` {
		t.Errorf("got input %q", got)
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantStarted bool // errors.Is(err, ErrAlreadyStarted)
		wantErr     bool
	}{
		{name: "already exists", err: &types.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists")}, wantStarted: true, wantErr: true},
		{name: "throttled", err: &types.InvalidArn{Message: aws.String("bad arn")}, wantErr: true},
		{name: "network", err: errors.New("connection reset"), wantErr: true},
		{name: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &sfn.Executions{Client: &recorder{err: tt.err}, StateMachineARN: arn}
			err := e.Start(context.Background(), "inc-abc-0", []byte(`{}`))
			if got := err != nil; got != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got := errors.Is(err, escalation.ErrAlreadyStarted); got != tt.wantStarted {
				t.Errorf("got already started %v, want %v (error %v)", got, tt.wantStarted, err)
			}
		})
	}
}
