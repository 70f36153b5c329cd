// Command alarms is the Lambda that turns CloudWatch alarm state changes into
// incidents. One function receives all three deliveries: the AlarmTopic's SNS
// notifications, the EventBridge "CloudWatch Alarm State Change" rule, and
// alarms that invoke it directly as their action.
//
// Environment (package settings): TABLE_NAME (required), DEFAULT_SERVICE
// (default "unassigned"), REOPEN_WINDOW (default 30m),
// LOG_LEVEL (debug, info, warn, error; default info).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/alarms"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/settings"
)

func main() {
	env, err := settings.ForLambda(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	store := dynamo.New(dynamodb.NewFromConfig(env.AWS), env.Table)
	h := alarms.NewHandler(incident.NewService(store, env.Rules()), store, alarms.Config{
		DefaultService: env.DefaultService,
		Logger:         env.Logger,
		// Alarms without markers are routed by their tags when they have any
		// (needs cloudwatch:ListTagsForResource).
		Tags: alarms.CloudWatchTags{Client: cloudwatch.NewFromConfig(env.AWS)},
	})
	lambda.Start(h.Handle)
}
