// Package dlq creates the dead-letter queues that catch what an asynchronous
// delivery (SNS, EventBridge, a Lambda's async invocation) could not deliver.
package dlq

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Retention is how long a failed event waits for someone to look at it and redrive
// it: the SQS maximum, so a failure found after a long weekend is still there.
var Retention = awscdk.Duration_Days(jsii.Number(14))

// New creates an encrypted dead-letter queue that accepts only TLS requests.
//
// Encryption is SQS-managed (SSE-SQS) rather than a customer key: SNS and
// EventBridge deliver to it without a key policy, and the messages are copies of
// events that were encrypted in transit anyway.
func New(scope constructs.Construct, id string) awssqs.Queue {
	q := awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: Retention,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself a dead-letter queue (the failure destination of an async Lambda, SNS subscription or EventBridge target); a DLQ of a DLQ would only move the same messages."),
	}}, jsii.Bool(true))
	return q
}
