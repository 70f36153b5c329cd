// Package sfn starts escalations as AWS Step Functions executions.
package sfn

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Client is the part of the Step Functions client Executions uses.
type Client interface {
	StartExecution(ctx context.Context, in *awssfn.StartExecutionInput, optFns ...func(*awssfn.Options)) (*awssfn.StartExecutionOutput, error)
}

// Executions starts executions of one state machine (STATE_MACHINE_ARN).
type Executions struct {
	Client          Client
	StateMachineARN string
}

// Start starts an execution called name (escalation.Executions). A name in
// use (ExecutionAlreadyExists: a standard workflow keeps names for 90 days) is
// an error matching errkind.Duplicate (escalation.ErrAlreadyStarted is that
// kind).
// Step Functions itself answers success for a running execution started again
// with the same name and input.
func (e *Executions) Start(ctx context.Context, name string, input []byte) error {
	_, err := e.Client.StartExecution(ctx, &awssfn.StartExecutionInput{
		StateMachineArn: aws.String(e.StateMachineARN),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return fmt.Errorf("execution %s: %w", name, errkind.Duplicate)
	}
	if err != nil {
		return fmt.Errorf("start execution %s: %w", name, err)
	}
	return nil
}

// NewClient returns the Step Functions client of an AWS configuration, for
// Executions.
func NewClient(cfg aws.Config) *awssfn.Client { return awssfn.NewFromConfig(cfg) }
