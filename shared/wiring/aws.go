package wiring

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/slack"
)

// The AWS set is built by each function's main, once per cold start, from
// the Lambda's settings and AWS configuration (building an SDK client makes
// no call): AWS gives the table and the logger, AWSWithSlack adds the Slack
// secret and Slack, and a main adds the clients of its own function (alarms:
// CloudWatch tags; api: the PagingTopic's subscriptions; escalate: the
// PagingTopic's pager; stream: IncidentEventsTopic and Step Functions). Those
// stay in the mains, and Slack and the Secrets Manager client out of alarms and
// logs, because a Lambda binary links every SDK client its main can reach (and
// every package it imports): one set for all added 0.2 to 0.6 MB to each
// bootstrap (measured 2026-12-03). shared/layers' TestBootstrapLinks keeps it so.

// AWS is the table and the logger: alarms and logs need no more of the set.
func AWS(l settings.Lambda) Adapters {
	return Adapters{DynamoDB: dynamodb.NewFromConfig(l.AWS), Logger: l.Logger}
}

// AWSWithSlack is AWS with the Slack secret (SLACK_SECRET_ARN, read by
// settings.Settings.Slack with read, which the main passes:
// secrets.SlackReader) and Slack's Web API: api, escalate, warroom, stream.
// The reader comes from the main so that this package, which alarms and logs
// link too, links no Secrets Manager client.
func AWSWithSlack(l settings.Lambda, read settings.SlackSecretReader) Adapters {
	a := AWS(l)
	a.SlackCredentials = func(ctx context.Context) (string, string, error) { return l.Slack(ctx, read) }
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
