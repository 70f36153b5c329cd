// Command escalate is the PageLevel task of the escalation state machine: it
// pages the on-call people of the escalation's current step (SNS first, then
// Slack) unless the incident was acknowledged, and returns the next step and
// how long to wait for it (see package escalation for the task's JSON).
//
// Environment (package settings): TABLE_NAME (required), LOG_LEVEL;
// PAGING_TOPIC_ARN (required), SLACK_SECRET_ARN (the Slack secret, read once
// at cold start; locally SLACK_BOT_TOKEN instead: without a bot token pages go
// by SNS only), FALLBACK_USER (paged when the state names no fallback).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/slack"
	"github.com/incidentd/incidentd/shared/sns"
)

func main() {
	env, err := settings.ForLambda(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	topic := env.PagingTopicARN
	if topic == "" {
		log.Fatal("PAGING_TOPIC_ARN is not set")
	}
	// An unreadable Slack secret must not stop pages: SNS goes on, Slack is
	// off for this instance, and the error is in the logs.
	token, _, err := env.Slack(context.Background())
	if err != nil {
		env.Logger.Error("Slack off: the Slack secret is unreadable", "error", err)
		token = ""
	}
	store := dynamo.New(dynamodb.NewFromConfig(env.AWS), env.Table)
	cfg := escalation.Config{
		Incidents: incident.NewService(store, env.Rules()),
		Directory: store,
		Pager:     &sns.Pager{Client: awssns.NewFromConfig(env.AWS), TopicARN: topic},
		Logger:    env.Logger,
		Fallback:  env.Fallback(),
	}
	if token != "" {
		cfg.Slack = slack.NewNotifier(slack.NewClient(token, slack.Config{Logger: env.Logger}))
		// The stream function takes the buttons off these once acknowledged.
		cfg.SlackPages = store
	}
	lambda.Start(escalation.NewEscalator(cfg).Handle)
}
