// Command warroom is the OpenWarRoom task of the escalation state machine: it
// opens the incident's Slack channel, invites the first step's on-call people
// and the stakeholders, posts the summary and records the channel. Its errors
// are caught by the state machine: paging goes on without a war room.
//
// Its handler is built by wiring.WarRoom from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses; the constructor turns each adapter on or off by its setting.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	h, err := wiring.WarRoom(env.Settings, wiring.AWSWithSlack(env, secrets.SlackReader(secrets.NewClient(env.AWS))))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
