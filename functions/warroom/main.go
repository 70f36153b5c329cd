// Command warroom is the OpenWarRoom task of the escalation state machine: it
// opens the incident's Slack channel, invites the first step's on-call people
// and the stakeholders, posts the summary and records the channel. Its errors
// are caught by the state machine: paging goes on without a war room.
//
// Environment (package settings): TABLE_NAME (required), LOG_LEVEL;
// SLACK_SECRET_ARN (the Slack secret, read once at cold start; locally
// SLACK_BOT_TOKEN instead: without a bot token no war room opens),
// STAKEHOLDERS (comma-separated Slack user ids invited to every war room).
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/slack"
)

func main() {
	env, err := settings.ForLambda(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	// Failing here is recorded by the state machine as the war room's error
	// (paging goes on), which says more than a quiet "Slack is not configured".
	token, _, err := env.Slack(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	store := dynamo.New(dynamodb.NewFromConfig(env.AWS), env.Table)
	cfg := escalation.WarRoomConfig{
		Incidents:    incident.NewService(store, env.Rules()),
		Directory:    store,
		Stakeholders: escalation.SplitList(os.Getenv("STAKEHOLDERS")),
		Logger:       env.Logger,
	}
	if token != "" {
		cfg.Slack = slack.NewNotifier(slack.NewClient(token, slack.Config{Logger: env.Logger}))
	}
	lambda.Start(escalation.NewWarRoom(cfg).Handle)
}
