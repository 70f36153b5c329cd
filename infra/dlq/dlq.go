// Package dlq creates the stack's failure queue: the one dead-letter queue
// that catches what the asynchronous deliveries gave up on (a Lambda's async
// invocation, the table stream's event source mappings, AlarmTopic's
// subscription, the alarm and deployment rules' targets; the exceptions are
// in infra/README.md, "The failure queue"). One queue rather than one per
// source: each message names its source, so the queue need not.
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
// SNS and EventBridge add their send permissions to its policy when it is
// given to them, Lambda destinations theirs to the function's role.
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
		Reason: jsii.String("This queue is itself a dead-letter queue (the failure destination of the async Lambdas, the stream's event source mappings, the SNS subscription and the EventBridge targets); a DLQ of a DLQ would only move the same messages."),
	}}, jsii.Bool(true))
	return q
}
