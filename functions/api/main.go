// Command api is the Lambda behind the API Gateway HTTP API (payload format
// 2.0, $default route): it serves every route of package httpapi.
//
// Environment (package settings): TABLE_NAME (required), DEFAULT_SERVICE
// (default "unassigned"), REOPEN_WINDOW (default 30m),
// PUBLIC_REPORTS ("true" lets POST /reports through without a token; default
// false), SLACK_SECRET_ARN (the Slack secret, read once at cold start; its
// signing_secret turns POST /slack/commands and /slack/interactions on; empty:
// they are 404; locally SLACK_SIGNING_SECRET instead), PAGING_TOPIC_ARN (the
// PagingTopic: PUT /users/{id} subscribes the user's email and phone to it,
// filtered on the responder attribute; empty: no subscriptions are made),
// LOG_LEVEL (debug, info, warn, error; default info).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/sns"
)

func main() {
	env, err := settings.ForLambda(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	// An unreadable Slack secret must not take the API down: the Slack
	// routes are off (404) for this instance, and the error is in the logs.
	_, signingSecret, err := env.Slack(context.Background())
	if err != nil {
		env.Logger.Error("Slack routes off: the Slack secret is unreadable", "error", err)
		signingSecret = ""
	}
	// The authenticator's token cache lives as long as the instance.
	store := dynamo.New(dynamodb.NewFromConfig(env.AWS), env.Table)
	incidents := incident.NewService(store, env.Rules())
	oncallCfg := oncall.Config{Services: incidents, Logger: env.Logger}
	if topic := env.PagingTopicARN; topic != "" {
		oncallCfg.Subscriber = sns.NewSubscriptions(awssns.NewFromConfig(env.AWS), topic, env.Logger)
	} else {
		env.Logger.Warn("PAGING_TOPIC_ARN is not set: PUT /users makes no PagingTopic subscriptions")
	}
	api := httpapi.New(httpapi.Config{
		Incidents:          incidents,
		Tokens:             auth.NewAuthenticator(store),
		OnCall:             oncall.NewService(store, oncallCfg),
		PublicReports:      env.PublicReports,
		SlackSigningSecret: signingSecret,
		Logger:             env.Logger,
	})
	lambda.Start(httpapi.NewLambda(api, env.Logger).Handle)
}
