// Command postmortem writes incidents' post-mortems: subscribed to
// IncidentEventsTopic (incident.resolved and incident.postmortem_updated),
// it renders the incident's post-mortem, stores it in the post-mortem bucket
// as a new version when it changed, links it on the incident and announces
// it in the war-room channel (README "Post-mortems").
//
// Its handler is built by wiring.Postmortem from the settings (the
// environment variables are documented once, in package settings) and the
// AWS adapters it uses.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/s3"
	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	a := wiring.AWSWithSlack(env, secrets.SlackReader(secrets.NewClient(env.AWS)))
	a.Postmortems = func(bucket string) wiring.PostmortemStore { return s3.New(s3.NewClient(env.AWS), bucket) }
	h, err := wiring.Postmortem(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
