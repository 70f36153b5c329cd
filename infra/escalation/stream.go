package escalation

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/incidentd/incidentd/infra/dlq"
	"github.com/incidentd/incidentd/infra/function"
)

// Stream is the table's DynamoDB stream consumer: the stream function, which
// starts an incident's escalation when it opens, reopens or its severity
// rises, and the queue of the batches it could not handle.
type Stream struct {
	Function *function.Function
	// Failures receives a description of the records that failed after the
	// retries (where in the stream they are, not the records themselves).
	Failures awssqs.Queue
}

// StreamProps configure the stream consumer.
type StreamProps struct {
	Functions function.Shared
	// Table is the incidentd table; its stream carries new and old images.
	Table awsdynamodb.ITable
	// FallbackUser is snapshotted into each escalation's state ("" for none).
	FallbackUser string
}

// AddStream creates the stream function on props.Table's stream, allowed to
// start executions of the state machine. The caller grants it the table's
// items (service configs and policies).
func (e *Escalation) AddStream(props StreamProps) *Stream {
	s := &Stream{}
	s.Function = function.New(e.Construct, "StreamFunction", props.Functions, function.Props{
		Name:        "stream",
		Description: "incidentd: the table's DynamoDB stream (starts escalations of incidents that open, reopen or rise into a paging severity)",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(30)),
		Environment: map[string]*string{"FALLBACK_USER": jsii.String(props.FallbackUser)},
	})
	e.GrantStart(s.Function)
	s.Failures = dlq.New(e.Construct, "StreamFailures")
	s.Function.Lambda.AddEventSource(awslambdaeventsources.NewDynamoEventSource(props.Table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition: awslambda.StartingPosition_LATEST,
		BatchSize:        jsii.Number(25),
		// A record that keeps failing is narrowed down by halving its batch,
		// retried a few times, then left in the DLQ: it must not hold up the
		// shard (every later incident's escalation) for the stream's 24 hours.
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(3),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(1)),
		ReportBatchItemFailures: jsii.Bool(true),
		OnFailure:               awslambdaeventsources.NewSqsDlq(s.Failures),
		// Only incident items reach the function; timeline entries, dedup and
		// delivery records (and TTL removals) are most of the stream.
		Filters: &[]*map[string]interface{}{
			awslambda.FilterCriteria_Filter(&map[string]interface{}{
				"dynamodb": map[string]interface{}{
					"NewImage": map[string]interface{}{
						"type": map[string]interface{}{"S": awslambda.FilterRule_IsEqual(jsii.String("incident"))},
					},
				},
			}),
		},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(s.Function.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("dynamodb:ListStreams takes no resource (CDK's stream-read grant); " +
			"reading the records themselves is granted on the table's stream ARN alone."),
		AppliesTo: &[]interface{}{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
	return s
}
