// Command alarms is the Lambda that turns CloudWatch alarm state changes into
// incidents. One function receives all three deliveries: the AlarmTopic's SNS
// notifications, the EventBridge "CloudWatch Alarm State Change" rule, and
// alarms that invoke it directly as their action.
//
// Environment: TABLE_NAME (required), DEFAULT_SERVICE (default "unassigned"),
// LOG_LEVEL (debug, info, warn, error; default info).
package main

import (
	"context"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/alarms"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
)

func main() {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		log.Fatal("TABLE_NAME is not set")
	}
	defaultService := os.Getenv("DEFAULT_SERVICE")
	if defaultService == "" {
		defaultService = incident.DefaultServiceName
	}
	if err := incident.ValidateServiceName(defaultService); err != nil {
		log.Fatalf("DEFAULT_SERVICE: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: logLevel(os.Getenv("LOG_LEVEL"))}))
	slog.SetDefault(logger)

	// Built once per cold start and reused by every invocation.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	store := dynamo.New(dynamodb.NewFromConfig(cfg), table)
	svc := incident.NewService(store, incident.Rules{DefaultService: defaultService})
	h := alarms.NewHandler(svc, store, alarms.Config{
		DefaultService: defaultService,
		Logger:         logger,
		// Alarms without markers are routed by their tags when they have any
		// (needs cloudwatch:ListTagsForResource).
		Tags: alarms.CloudWatchTags{Client: cloudwatch.NewFromConfig(cfg)},
	})
	lambda.Start(h.Handle)
}

// logLevel reads LOG_LEVEL; anything unknown means info.
func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return slog.LevelInfo
	}
	return l
}
