// Command logs is the Lambda behind the CloudWatch Logs subscription filters of
// the monitored services' log groups. It counts error lines per service and
// fingerprint in fixed windows and opens (or adds to) an incident when a
// fingerprint reaches the threshold within a window; see shared/logscan.
//
// Environment: TABLE_NAME (required), DEFAULT_SERVICE (default "unassigned"),
// LOG_THRESHOLD (errors per window, default 5), LOG_WINDOW (Go duration between
// 1m and 24h, default 5m), LOG_GROUP_SERVICES (optional JSON object mapping a
// log group, or a prefix ending in "*", to a service), LOG_LEVEL (debug, info,
// warn, error; default info).
package main

import (
	"context"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/logscan"
)

func main() {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		log.Fatal("TABLE_NAME is not set")
	}
	cfg, err := logscan.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: logLevel(os.Getenv("LOG_LEVEL"))}))
	slog.SetDefault(logger)

	// Built once per cold start and reused by every invocation.
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), table)
	svc := incident.NewService(store, incident.Rules{DefaultService: cfg.DefaultService})
	h := logscan.NewHandler(store, svc, cfg, logger)
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
