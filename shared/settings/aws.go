package settings

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
)

// The AWS configuration of a Lambda is built from what the Lambda runtime puts
// in the function's environment, not with config.LoadDefaultConfig: that
// links the SDK's whole credential chain (shared config files, SSO, STS web
// identity and assume-role, the container endpoint, EC2 instance metadata),
// about 0.6 MB of each bootstrap that a Lambda never runs, because the runtime
// always provides the first link of the chain, the environment variables
// (README, "Bootstrap size"). What the clients do with the configuration is
// unchanged: the region and the same credentials; Retryer and HTTPClient are
// left nil, so every client builds the SDK's standard retryer (3 attempts,
// jittered exponential backoff, retry token bucket) and HTTP client, as it
// does under LoadDefaultConfig when no AWS_RETRY_MODE or AWS_MAX_ATTEMPTS is
// set (the stack sets neither). Options that are local only (DynamoDB Local's
// DisableValidateResponseChecksum, static "local" credentials, an endpoint)
// stay in dynamolocal.Client and never reach this configuration.

// Variables Lambda sets for every function (the runtime's reserved variables).
const (
	envRegion        = "AWS_REGION"
	envDefaultRegion = "AWS_DEFAULT_REGION"
	envAccessKeyID   = "AWS_ACCESS_KEY_ID"
	envSecretKey     = "AWS_SECRET_ACCESS_KEY"
	envSessionToken  = "AWS_SESSION_TOKEN"
	envAccountID     = "AWS_ACCOUNT_ID"
)

// credentialSource names where the credentials came from, in the SDK's
// aws.Credentials.Source (it shows in the SDK's debug logs).
const credentialSource = "LambdaEnvironment"

// AWSFromEnv returns the AWS configuration of a Lambda function from its
// environment, read through getenv: the region (AWS_REGION, else
// AWS_DEFAULT_REGION) and the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for temporary credentials
// as Lambda's are, AWS_SESSION_TOKEN; AWS_ACCOUNT_ID when set, as the SDK's
// own environment provider reads it). A missing region or key is an error
// naming every missing variable. logger receives the SDK's own log lines
// (e.g. a retry quota exhausted) as JSON, beside the function's.
//
// The credentials never expire for the SDK, as with the SDK's own
// environment provider, which LoadDefaultConfig would pick in Lambda: the
// runtime sets these variables once, when it starts the execution
// environment, and every invocation of that environment uses the same values
// (a process's environment cannot be replaced while it runs). So Lambda issues
// credentials that hold for the environment's whole life and replaces the
// environment (a cold start, with new variables), never the credentials in
// it; the Lambda developer guide says as much when it notes that running
// instances keep their credentials until an update of the function replaces
// them. There is nothing to refresh, and nothing a refresh could read.
func AWSFromEnv(getenv func(string) string, logger *slog.Logger) (aws.Config, error) {
	region := strings.TrimSpace(getenv(envRegion))
	if region == "" {
		region = strings.TrimSpace(getenv(envDefaultRegion))
	}
	creds := aws.Credentials{
		AccessKeyID:     strings.TrimSpace(getenv(envAccessKeyID)),
		SecretAccessKey: strings.TrimSpace(getenv(envSecretKey)),
		SessionToken:    strings.TrimSpace(getenv(envSessionToken)),
		AccountID:       strings.TrimSpace(getenv(envAccountID)),
		Source:          credentialSource,
	}
	var missing []string
	if region == "" {
		missing = append(missing, envRegion)
	}
	if creds.AccessKeyID == "" {
		missing = append(missing, envAccessKeyID)
	}
	if creds.SecretAccessKey == "" {
		missing = append(missing, envSecretKey)
	}
	if len(missing) > 0 {
		return aws.Config{}, fmt.Errorf("AWS configuration: %s not set (Lambda sets them for every function; to run a function elsewhere, set them as Lambda would)",
			strings.Join(missing, ", "))
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
	}
	if logger != nil {
		cfg.Logger = sdkLogger(logger)
	}
	return cfg, nil
}

// sdkLogger passes the SDK's log lines to logger: warnings as warnings, the
// rest (debug output, only when a client is told to log) at debug level.
func sdkLogger(logger *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		logger.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk")
	})
}
