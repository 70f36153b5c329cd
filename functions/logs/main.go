// Command logs is the Lambda behind the CloudWatch Logs subscription filters of
// the monitored services' log groups. It counts error lines per service and
// fingerprint in fixed windows and opens (or adds to) an incident when a
// fingerprint reaches the threshold within a window; see shared/logscan.
//
// Its handler is built by wiring.Logs from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses; the constructor turns each adapter on or off by its setting.
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
	h, err := wiring.Logs(env.Settings, wiring.AWS(env))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
