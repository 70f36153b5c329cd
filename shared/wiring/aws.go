package wiring

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/incidentd/incidentd/shared/alarms"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/sfn"
	"github.com/incidentd/incidentd/shared/slack"
	"github.com/incidentd/incidentd/shared/sns"
)

// The AWS set: what each function's main hands its constructor in Lambda,
// built once per cold start from the Lambda's settings and AWS configuration
// (building an SDK client makes no call). There is one builder per function,
// holding just the clients that function uses, because a Lambda binary links
// every client its main reaches: one set for all six added 0.2 to 0.6 MB to
// each bootstrap (measured 2026-12-03).

// AlarmsAWS is the AWS set of Alarms: the table and CloudWatch alarm tags.
func AlarmsAWS(l settings.Lambda) Adapters {
	a := table(l)
	a.Tags = alarms.CloudWatchTags{Client: cloudwatch.NewFromConfig(l.AWS)}
	return a
}

// LogsAWS is the AWS set of Logs: the table.
func LogsAWS(l settings.Lambda) Adapters { return table(l) }

// APIAWS is the AWS set of API: the table, the Slack secret (its signing
// secret) and, when PAGING_TOPIC_ARN is set, the PagingTopic's subscriptions.
func APIAWS(l settings.Lambda) Adapters {
	a := table(l)
	a.SlackCredentials = l.Slack
	if topic := l.PagingTopicARN; topic != "" {
		a.Subscriber = sns.NewSubscriptions(awssns.NewFromConfig(l.AWS), topic, l.Logger)
	}
	return a
}

// EscalateAWS is the AWS set of Escalate: the table, Slack and, when
// PAGING_TOPIC_ARN is set, the PagingTopic's pager.
func EscalateAWS(l settings.Lambda) Adapters {
	a := withSlack(table(l), l)
	if topic := l.PagingTopicARN; topic != "" {
		a.Pager = &sns.Pager{Client: awssns.NewFromConfig(l.AWS), TopicARN: topic}
	}
	return a
}

// WarRoomAWS is the AWS set of WarRoom: the table and Slack.
func WarRoomAWS(l settings.Lambda) Adapters { return withSlack(table(l), l) }

// StreamAWS is the AWS set of Stream: the table, Slack, IncidentEventsTopic
// (when INCIDENT_EVENTS_TOPIC_ARN is set) and Step Functions (when
// STATE_MACHINE_ARN is set).
func StreamAWS(l settings.Lambda) Adapters {
	a := withSlack(table(l), l)
	if topic := l.IncidentEventsTopicARN; topic != "" {
		a.Events = &sns.Events{Client: awssns.NewFromConfig(l.AWS), TopicARN: topic}
	}
	if arn := l.StateMachineARN; arn != "" {
		a.Executions = &sfn.Executions{Client: awssfn.NewFromConfig(l.AWS), StateMachineARN: arn}
	}
	return a
}

func table(l settings.Lambda) Adapters {
	return Adapters{DynamoDB: dynamodb.NewFromConfig(l.AWS), Logger: l.Logger}
}

func withSlack(a Adapters, l settings.Lambda) Adapters {
	a.SlackCredentials = l.Slack
	a.Slack = SlackClient(l.Logger)
	return a
}

// SlackClient makes Slack Web API clients (the AWS set's Slack, and the local
// set's when SLACK_BOT_TOKEN is given).
func SlackClient(logger *slog.Logger) func(botToken string) slack.Messenger {
	return func(token string) slack.Messenger {
		return slack.NewClient(token, slack.Config{Logger: logger})
	}
}
