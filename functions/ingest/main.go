// Command ingest is the Lambda behind the HTTP API's PagerDuty- and
// Opsgenie-compatible endpoints: API Gateway sends it the routes package
// httpapi's Routes table gives it (POST /v2/enqueue, POST /v2/alerts and
// the alert actions), payload format 2.0; every other route goes to the api
// function.
//
// Its handler is built by wiring.Ingest from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses: the table alone.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	h, err := wiring.Ingest(env.Settings, wiring.AWS(env))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
