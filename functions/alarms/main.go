// Command alarms is the Lambda that turns CloudWatch alarm state changes into
// incidents. One function receives all three deliveries: the AlarmTopic's SNS
// notifications, the EventBridge "CloudWatch Alarm State Change" rule, and
// alarms that invoke it directly as their action.
//
// Its handler is built by wiring.Alarms from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses; the constructor turns each adapter on or off by its setting.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/cloudwatch"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	a := wiring.AWS(env)
	a.Tags = cloudwatch.NewTags(env.AWS)
	h, err := wiring.Alarms(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
