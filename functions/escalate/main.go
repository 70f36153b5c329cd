// Command escalate is the PageLevel task of the escalation state machine: it
// pages the on-call people of the escalation's current step (SNS first, then
// Slack) unless the incident was acknowledged, and returns the next step and
// how long to wait for it (see package escalation for the task's JSON).
//
// Its handler is built by wiring.Escalate from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses; the constructor turns each adapter on or off by its setting.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/sns"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	sm := secrets.NewClient(env.AWS)
	a := wiring.AWSWithSlack(env, secrets.SlackReader(sm))
	a.Pager = &sns.Pager{Client: sns.NewClient(env.AWS), TopicARN: env.PagingTopicARN}
	// Every SNS page carries an acknowledge link signed with ack_link_key
	// of the platform's secret (README "Acknowledge from the page").
	a.AckLinkReader = secrets.AckLinkReader(sm)
	h, err := wiring.Escalate(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
