// Command stream consumes the table's DynamoDB stream (package lifecycle):
// an incident that opens, reopens or whose severity rises starts its
// escalation (a Step Functions execution named after the incident and its
// reopen count, so a record handled twice starts one); every timeline entry
// added is posted to the incident's war room in Slack, published to
// IncidentEventsTopic as a lifecycle event, and an acknowledgement or
// resolution takes the buttons off the incident's Slack pages. Failed records
// are reported in BatchItemFailures.
//
// Environment (package settings): TABLE_NAME (required), LOG_LEVEL;
// STATE_MACHINE_ARN (required), FALLBACK_USER (snapshotted as the
// escalation's fallback; escalate's own applies when empty),
// INCIDENT_EVENTS_TOPIC_ARN (empty: no lifecycle events), SLACK_SECRET_ARN
// (the Slack secret, read when the first war-room post or page update needs
// it, not at cold start, and read again while it fails; locally
// SLACK_BOT_TOKEN instead: without a bot token nothing goes to Slack).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/sfn"
	"github.com/incidentd/incidentd/shared/slack"
	"github.com/incidentd/incidentd/shared/sns"
)

func main() {
	env, err := settings.ForLambda(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	arn := env.StateMachineARN
	if arn == "" {
		log.Fatal("STATE_MACHINE_ARN is not set")
	}
	store := dynamo.New(dynamodb.NewFromConfig(env.AWS), env.Table)
	starter := escalation.NewStarter(escalation.StarterConfig{
		Configs:    store,
		Executions: &sfn.Executions{Client: awssfn.NewFromConfig(env.AWS), StateMachineARN: arn},
		Logger:     env.Logger,
		Fallback:   env.Fallback(),
	})
	// The Slack secret is read on first use: escalations never wait on it,
	// and an unreadable secret fails (and so retries) the records that need
	// Slack instead of turning Slack off for this instance's life.
	lazy := lifecycle.NewLazySlack(func(ctx context.Context) (string, error) {
		token, _, err := env.Slack(ctx)
		return token, err
	}, func(token string) lifecycle.Slack {
		return slack.NewNotifier(slack.NewClient(token, slack.Config{Logger: env.Logger}))
	})
	cfg := lifecycle.Config{
		Starter: starter, Decode: dynamo.DecodeStreamRecord, Incidents: store, Deliveries: store, SlackPages: store, Slack: lazy, Logger: env.Logger,
	}
	if topic := env.IncidentEventsTopicARN; topic != "" {
		cfg.Publisher = &sns.Events{Client: awssns.NewFromConfig(env.AWS), TopicARN: topic}
	}
	lambda.Start(lifecycle.NewHandler(cfg).Handle)
}
