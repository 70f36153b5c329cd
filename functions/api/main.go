// Command api is the Lambda behind the API Gateway HTTP API (payload format
// 2.0, $default route): it serves every route of package httpapi.
//
// Environment: TABLE_NAME (required), DEFAULT_SERVICE (default "unassigned"),
// PUBLIC_REPORTS ("true" lets POST /reports through without a token; default
// false), LOG_LEVEL (debug, info, warn, error; default info).
package main

import (
	"context"
	"log"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/httpapi"
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
	public := false
	if s := strings.TrimSpace(os.Getenv("PUBLIC_REPORTS")); s != "" {
		var err error
		if public, err = strconv.ParseBool(s); err != nil {
			log.Fatalf("PUBLIC_REPORTS=%q is not true or false", s)
		}
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: logLevel(os.Getenv("LOG_LEVEL"))}))
	slog.SetDefault(logger)

	// Built once per cold start and reused by every invocation; the
	// authenticator's token cache lives as long as the instance.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	store := dynamo.New(dynamodb.NewFromConfig(cfg), table)
	api := httpapi.New(httpapi.Config{
		Incidents:     incident.NewService(store, incident.Rules{DefaultService: defaultService}),
		Tokens:        auth.NewAuthenticator(store),
		PublicReports: public,
		Logger:        logger,
	})
	lambda.Start(httpapi.NewLambda(api, logger).Handle)
}

// logLevel reads LOG_LEVEL; anything unknown means info.
func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return slog.LevelInfo
	}
	return l
}
