// Command stream consumes the table's DynamoDB stream (package lifecycle):
// an incident that opens, reopens or whose severity rises starts its
// escalation (a Step Functions execution named after the incident and its
// reopen count, so a record handled twice starts one); every timeline entry
// added is posted to the incident's war room in Slack, published to
// IncidentEventsTopic as a lifecycle event, and an acknowledgement or
// resolution takes the buttons off the incident's Slack pages. Failed records
// are reported in BatchItemFailures.
//
// Its handler is built by wiring.Stream from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses; the constructor turns each adapter on or off by its setting.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/sfn"
	"github.com/incidentd/incidentd/shared/sns"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	a := wiring.AWSWithSlack(env, secrets.SlackReader(secrets.NewClient(env.AWS)))
	a.Events = &sns.Events{Client: sns.NewClient(env.AWS), TopicARN: env.IncidentEventsTopicARN}
	a.Executions = &sfn.Executions{Client: sfn.NewClient(env.AWS), StateMachineARN: env.StateMachineARN}
	h, err := wiring.Stream(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
