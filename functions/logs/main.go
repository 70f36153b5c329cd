// Command logs is the Lambda behind the CloudWatch Logs subscription filters of
// the monitored services' log groups. It counts error lines per service and
// fingerprint in fixed windows and opens (or adds to) an incident when a
// fingerprint reaches the threshold within a window; see shared/logscan.
//
// Environment (package settings): TABLE_NAME (required), DEFAULT_SERVICE
// (default "unassigned"), REOPEN_WINDOW (default 30m),
// LOG_THRESHOLD (errors per window, default 5), LOG_WINDOW (Go duration between
// 1m and 24h, default 5m), LOG_GROUP_SERVICES (optional JSON object mapping a
// log group, or a prefix ending in "*", to a service), LOG_LEVEL (debug, info,
// warn, error; default info).
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/logscan"
	"github.com/incidentd/incidentd/shared/settings"
)

func main() {
	env, err := settings.ForLambda(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := logscan.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	store := dynamo.New(dynamodb.NewFromConfig(env.AWS), env.Table)
	h := logscan.NewHandler(store, incident.NewService(store, env.Rules()), cfg, env.Logger)
	lambda.Start(h.Handle)
}
