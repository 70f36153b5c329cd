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

// AWS is the AWS set of adapters, built once per cold start from the
// Lambda's settings and AWS configuration: DynamoDB, the PagingTopic (pages
// and subscriptions, when PAGING_TOPIC_ARN is set), IncidentEventsTopic (when
// INCIDENT_EVENTS_TOPIC_ARN is set), Step Functions (when STATE_MACHINE_ARN
// is set), CloudWatch alarm tags, the Slack secret and Slack. Building an SDK
// client makes no call.
func AWS(l settings.Lambda) Adapters {
	a := Adapters{
		DynamoDB:         dynamodb.NewFromConfig(l.AWS),
		Tags:             alarms.CloudWatchTags{Client: cloudwatch.NewFromConfig(l.AWS)},
		SlackCredentials: l.Slack,
		Slack:            SlackClient(l.Logger),
		Logger:           l.Logger,
	}
	if topic := l.PagingTopicARN; topic != "" {
		client := awssns.NewFromConfig(l.AWS)
		a.Pager = &sns.Pager{Client: client, TopicARN: topic}
		a.Subscriber = sns.NewSubscriptions(client, topic, l.Logger)
	}
	if topic := l.IncidentEventsTopicARN; topic != "" {
		a.Events = &sns.Events{Client: awssns.NewFromConfig(l.AWS), TopicARN: topic}
	}
	if arn := l.StateMachineARN; arn != "" {
		a.Executions = &sfn.Executions{Client: awssfn.NewFromConfig(l.AWS), StateMachineARN: arn}
	}
	return a
}

// SlackClient makes Slack Web API clients (the AWS set's Slack, and the local
// set's when SLACK_BOT_TOKEN is given).
func SlackClient(logger *slog.Logger) func(botToken string) slack.Messenger {
	return func(token string) slack.Messenger {
		return slack.NewClient(token, slack.Config{Logger: logger})
	}
}
