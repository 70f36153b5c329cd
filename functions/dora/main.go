// Command dora runs every hour (an EventBridge schedule): for each service
// in each environment, and for every service of an environment, it computes
// the DORA metrics over 7, 30 and 90 days ending at the run's hour, writes
// them as the day's snapshot (GET /metrics/dora/history reads them) and
// prints them as CloudWatch embedded-metric-format lines, namespace DORA
// (package dorajob).
//
// Its handler is built by wiring.DORA from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses.
package main

import (
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	a := wiring.AWS(env)
	// Lambda sends standard output to the log group, where CloudWatch reads
	// the embedded-metric-format lines.
	a.Metrics = os.Stdout
	h, err := wiring.DORA(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
