// Command web is the Lambda behind the HTTP API's pages and documents: API
// Gateway sends it the routes package httpapi's Routes table gives it (GET
// /status, GET /metrics/dora and /metrics/dora/history, GET and PUT
// /incidents/{id}/postmortem, GET and POST /ack/{token}), payload format
// 2.0; every other route goes to the api function.
//
// Its handler is built by wiring.Web from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses: the table, the post-mortem bucket and the platform's secret
// (ack_link_key; no SNS).
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
	a := wiring.AWS(env)
	// GET and PUT /incidents/{id}/postmortem read the post-mortem bucket
	// (README "Post-mortems").
	a.Postmortems = func(bucket string) wiring.PostmortemStore { return s3.New(s3.NewClient(env.AWS), bucket) }
	// GET and POST /ack/{token} verify acknowledge links with ack_link_key
	// of the platform's secret (README "Acknowledge from the page").
	a.AckLinkReader = secrets.AckLinkReader(secrets.NewClient(env.AWS))
	h, err := wiring.Web(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
