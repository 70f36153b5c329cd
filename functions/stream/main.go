// Command stream consumes the table's DynamoDB stream: an incident that opens,
// reopens or whose severity rises starts its escalation (a Step Functions
// execution named after the incident and its reopen count, so a record
// handled twice starts one). Failed records are reported in BatchItemFailures.
//
// Environment (package settings): TABLE_NAME (required), LOG_LEVEL;
// STATE_MACHINE_ARN (required), FALLBACK_USER (snapshotted as the
// escalation's fallback; escalate's own applies when empty).
package main

import (
	"context"
	"log"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/sfn"
)

func main() {
	env, err := settings.ForLambda(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	arn := strings.TrimSpace(os.Getenv("STATE_MACHINE_ARN"))
	if arn == "" {
		log.Fatal("STATE_MACHINE_ARN is not set")
	}
	store := dynamo.New(dynamodb.NewFromConfig(env.AWS), env.Table)
	cfg := escalation.StarterConfig{
		Configs:    store,
		Executions: &sfn.Executions{Client: awssfn.NewFromConfig(env.AWS), StateMachineARN: arn},
		Logger:     env.Logger,
		Fallback:   env.Fallback(),
	}
	lambda.Start(lifecycle.NewHandler(escalation.NewStarter(cfg), env.Logger).Handle)
}
