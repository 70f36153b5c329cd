// Command watchdog runs every minute (an EventBridge schedule): it finds the
// open incidents through the open-incidents index and re-drives what the
// stream and the state machine could not finish: a triggered paging incident
// whose escalation never started gets one, a failed, timed-out or aborted one
// is redriven (or started afresh where Step Functions refuses), and a
// flapping incident whose alarm settled in OK is resolved (package
// escalation, Watchdog).
//
// Its handler is built by wiring.Watchdog from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/sfn"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	a := wiring.AWS(env)
	a.Executions = &sfn.Executions{Client: sfn.NewClient(env.AWS), StateMachineARN: env.StateMachineARN}
	h, err := wiring.Watchdog(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
