package escalation

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/function"
)

// Stream is the table's DynamoDB stream consumer: the stream function, which
// starts an incident's escalation when it opens, reopens or its severity
// rises, and fans every new timeline entry out (the war room in Slack,
// IncidentEventsTopic, the Slack pages' buttons), and the queue of the
// batches it could not handle.
//
// The function has two event source mappings on the stream, one per job, each
// with its own position in every shard and its own retries: a fan-out record
// that Slack keeps failing is retried (holding up its shard for that mapping)
// while escalations go on. Pages never wait behind Slack. The escalation
// mapping retries a failing record until it is EscalationRecordAge old, to
// outlast a store or Step Functions outage; the fan-out until its records are
// 6 hours old, to outlast a Slack outage. A DynamoDB stream
// serves at most two readers per shard at once: these two are all this one
// has room for.
//
// The records that failed after the retries are described (where in the
// stream they are, not the records themselves) in the stack's failure queue
// (StreamProps.Functions.Failures): a message with DDBStreamBatchInfo
// (infra/README.md, "The failure queue").
type Stream struct {
	Function *function.Function
}

// EscalationRecordAge is how long the escalation mapping retries a record
// that fails: 20 hours, so that its description reaches the failure queue
// while the stream (24 hours) still holds the records it names.
var EscalationRecordAge = awscdk.Duration_Hours(jsii.Number(20))

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
		Name: "stream",
		Description: "incidentd: the table's DynamoDB stream (starts escalations of incidents that open, reopen or rise into a paging severity; " +
			"posts timeline entries to the war room, publishes lifecycle events, closes answered Slack pages)",
		OnError: "Stream batches are retried (escalations until 20 hours old, the fan-out until 6 hours old), then described in the failure queue: escalations may not have started.",
		// A fan-out batch makes a few Slack calls per record, each bounded to
		// 5 s; the handler starts none it could not finish in time.
		Timeout: awscdk.Duration_Seconds(jsii.Number(30)),
		Environment: map[string]*string{
			"FALLBACK_USER":             jsii.String(props.FallbackUser),
			"INCIDENT_EVENTS_TOPIC_ARN": e.IncidentEventsTopic.TopicArn(),
			"SLACK_SECRET_ARN":          e.SlackSecret.SecretArn(),
		},
	})
	e.GrantStart(s.Function)
	// The one IAM5 suppression of the role also covers the stream-read grant
	// of the event sources below.
	grantPublish(e.IncidentEventsTopic, e.IncidentEventsKey, s.Function, "AllowStreamFunctionToPublish",
		"dynamodb:ListStreams takes no resource (CDK's stream-read grant); "+
			"reading the records themselves is granted on the table's stream ARN alone. "+
			"kms:GenerateDataKey* is on the stack's topic key alone (CDK's publish grant to an encrypted topic): SNS needs a data key per publish.",
		"Resource::*")
	e.SlackSecret.GrantRead(s.Function.Lambda, nil)
	// Both mappings describe what they gave up on in the stack's failure
	// queue: the function's failures end there (monitoring alarms on it and
	// on the iterator age, not on its Errors).
	failures := props.Functions.Failures
	s.Function.Failures = failures
	// Escalations: incident items.
	s.Function.Lambda.AddEventSource(awslambdaeventsources.NewDynamoEventSource(props.Table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition: awslambda.StartingPosition_LATEST,
		BatchSize:        jsii.Number(25),
		// A record that fails is narrowed down by halving its batch and
		// retried without a count until it is 20 hours old: a start that fails
		// because the store, Step Functions or Lambda is down starts once they
		// are back, however long that takes, instead of being given up after 3
		// quick retries. While it is retried, the incidents behind it in its
		// shard wait too (incidentd-stream-iterator-age fires at 5 minutes).
		// So does a record that only a fix can help (one the function cannot
		// decode): once the fix is deployed it starts its escalation, where
		// dropping it would have lost the page. After 20 hours its
		// description (shard, sequence numbers) goes to the failure queue,
		// with 4 hours left to read the records again from the stream
		// (infra/README.md, "Escalation").
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(-1),
		MaxRecordAge:            EscalationRecordAge,
		ReportBatchItemFailures: jsii.Bool(true),
		OnFailure:               awslambdaeventsources.NewSqsDlq(failures),
		// Only incident items and pending signals inserted (folded into
		// their incidents: signal_count, last_signal_at, the signal's
		// timeline entry) reach this mapping; timeline entries, dedup and
		// delivery records (and TTL removals) are most of the stream.
		Filters: &[]*map[string]interface{}{
			awslambda.FilterCriteria_Filter(&map[string]interface{}{
				"dynamodb": map[string]interface{}{
					"NewImage": map[string]interface{}{
						"type": map[string]interface{}{"S": awslambda.FilterRule_IsEqual(jsii.String("incident"))},
					},
				},
			}),
			awslambda.FilterCriteria_Filter(&map[string]interface{}{
				"eventName": awslambda.FilterRule_IsEqual(jsii.String("INSERT")),
				"dynamodb": map[string]interface{}{
					"NewImage": map[string]interface{}{
						"type": map[string]interface{}{"S": awslambda.FilterRule_IsEqual(jsii.String("signal"))},
					},
				},
			}),
		},
	}))
	// The fan-out: timeline entries inserted, in smaller batches (each record
	// may wait on Slack). A second DynamoEventSource on the same table would
	// collide with the first's construct id; the stream read is granted by it.
	//
	// It has a mapping of its own so that it can wait: it retries a failing
	// record until the record is 6 hours old (RetryAttempts -1: no count),
	// so that a Slack outage of minutes or hours delays war-room posts and
	// page closes instead of losing them (3 retries are gone within a
	// minute). While it waits, later entries of the shard (and their
	// IncidentEventsTopic events) wait too; a record that can never succeed
	// does not stall it: Slack's permanent answers (channel_not_found,
	// invalid_auth…) are dropped by the handler (lifecycle.Permanent), not
	// failed. A Slack secret that cannot be read does fail them (it is read
	// on first use and again while it fails), until it is readable or the
	// records are 6 hours old. After 6 hours a record goes to the failure
	// queue.
	s.Function.Lambda.AddEventSourceMapping(jsii.String("FanOut"), &awslambda.EventSourceMappingOptions{
		EventSourceArn:          props.Table.TableStreamArn(),
		StartingPosition:        awslambda.StartingPosition_LATEST,
		BatchSize:               jsii.Number(10),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(-1),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(6)),
		ReportBatchItemFailures: jsii.Bool(true),
		OnFailure:               awslambdaeventsources.NewSqsDlq(failures),
		Filters: &[]*map[string]interface{}{
			awslambda.FilterCriteria_Filter(&map[string]interface{}{
				"eventName": awslambda.FilterRule_IsEqual(jsii.String("INSERT")),
				"dynamodb": map[string]interface{}{
					"NewImage": map[string]interface{}{
						"type": map[string]interface{}{"S": awslambda.FilterRule_IsEqual(jsii.String("entry"))},
					},
				},
			}),
		},
	})
	return s
}
