// Package wiring builds every function's handler from the settings and a set
// of adapters: the one place where the use cases (incident, escalation,
// lifecycle, logscan, alarms, httpapi, oncall) meet their adapters (dynamo,
// sns, sfn, slack). functions/<name>/main.go calls its constructor with the
// AWS set (AWS or AWSWithSlack, plus the SDK clients of its own function);
// infra/local calls the same constructors with its local set (DynamoDB Local,
// the printing pager, the Slack recorder, the local executions), so a
// variable the Lambdas read is read locally the same way: by package settings.
//
// Adding a function: its folder under functions/ (a main that builds its AWS
// adapters and calls its constructor here), its constructor and entry in
// Functions here, and its construct in infra/. The local invoke endpoint
// serves every entry of Functions.
package wiring

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/alarms"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/postmortemjob"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/slack"
)

// Adapters are what the functions talk to. Each constructor uses the fields
// its function needs. The four that stand for an AWS resource are used only
// when the settings name it, in AWS and locally alike (the local runtime names
// stand-ins): Pager and Executions are required (PAGING_TOPIC_ARN,
// STATE_MACHINE_ARN: without them escalate and stream refuse to start),
// Subscriber and Events are off without PAGING_TOPIC_ARN and
// INCIDENT_EVENTS_TOPIC_ARN.
type Adapters struct {
	// DynamoDB is the table's client (dynamodb.Client, or DynamoDB Local's).
	DynamoDB dynamo.Client
	// Pager publishes pages (escalate): the PagingTopic, or the printing
	// pager locally (PAGING_TOPIC_ARN).
	Pager escalation.Pager
	// Subscriber subscribes responders' e-mail and phone to the pages (api;
	// PAGING_TOPIC_ARN).
	Subscriber oncall.Subscriber
	// Events publishes lifecycle events (stream; INCIDENT_EVENTS_TOPIC_ARN).
	Events lifecycle.Publisher
	// Executions starts escalations (stream, watchdog): Step Functions, or
	// the local runner (STATE_MACHINE_ARN). The watchdog needs it to be an
	// escalation.ExecutionRedriver too (both are).
	Executions escalation.Executions
	// Tags looks up alarms' tags (alarms); nil: routing without tags.
	Tags alarms.TagSource
	// SlackCredentials returns the Slack app's bot token and signing secret
	// (in AWS: the secret SLACK_SECRET_ARN, through settings.Lambda.Slack);
	// nil: Slack is off.
	SlackCredentials func(ctx context.Context) (botToken, signingSecret string, err error)
	// GitHubReader reads the GitHub webhook's secret from the secret
	// GITHUB_SECRET_ARN (secrets.GitHubReader in AWS); settings.GitHub calls
	// it, or takes GITHUB_WEBHOOK_SECRET without an ARN (locally).
	GitHubReader settings.GitHubSecretReader
	// AckLinkReader reads ack_link_key of the secret ACK_LINK_SECRET_ARN
	// (secrets.AckLinkReader in AWS); settings.AckLinkSecret calls it, or
	// takes ACK_LINK_KEY without an ARN (locally).
	AckLinkReader settings.AckLinkSecretReader
	// Slack returns the Slack client for a bot token; an empty token is
	// Slack off (nil) and never reaches it.
	Slack func(botToken string) slack.Messenger
	// Postmortems opens the post-mortem bucket (POSTMORTEM_BUCKET): S3 in
	// the mains that serve or write post-mortems (s3.New), gofakes3
	// locally; nil: no post-mortems.
	Postmortems func(bucket string) PostmortemStore
	// Metrics receives CloudWatch embedded-metric-format lines (dora): the
	// function's standard output in Lambda (functions/dora's main); nil:
	// discarded.
	Metrics io.Writer
	// CustomResources answers CloudFormation's custom resource requests
	// (seed): a PUT to the request's pre-signed URL in AWS
	// (customresource.HTTPResponder), a printed line locally. Its type is
	// customresource.Responder's method, written out so that the functions
	// that do not answer CloudFormation link nothing of it.
	CustomResources interface {
		Respond(ctx context.Context, url string, body []byte) error
	}
	// Logger is every handler's logger.
	Logger *slog.Logger
}

// PostmortemStore is the post-mortem bucket: what the postmortem function
// writes and the API reads (*s3.Documents).
type PostmortemStore interface {
	postmortemjob.Documents
	httpapi.PostmortemDocs
}

// Function is one entry of Functions.
type Function struct {
	// Name is the folder under functions/ (and the local invoke endpoint's
	// function name).
	Name string
	// New builds the function's handler, as its main does in Lambda.
	New func(settings.Settings, Adapters) (lambda.Handler, error)
	// HTTP, for a function behind the HTTP API (httpapi.Routes), builds its
	// http.Handler, which a runtime serving HTTP itself (infra/local)
	// dispatches to; New is HTTP's handler behind the API Gateway adapter.
	HTTP func(settings.Settings, Adapters) (http.Handler, error)
}

// Functions lists every function of the platform, in the order of
// functions/. It is a function, not a variable, so that a Lambda's binary
// links only the constructor its main calls.
func Functions() []Function {
	return []Function{
		{Name: "alarms", New: Alarms},
		{Name: "api", New: API, HTTP: HTTPAPI},
		{Name: "deploys", New: Deploys},
		{Name: "dora", New: DORA},
		{Name: "escalate", New: Escalate},
		{Name: "ingest", New: Ingest, HTTP: IngestHTTP},
		{Name: "logs", New: Logs},
		{Name: "postmortem", New: Postmortem},
		{Name: "seed", New: Seed},
		{Name: "stream", New: Stream},
		{Name: "warroom", New: WarRoom},
		{Name: "watchdog", New: Watchdog},
		{Name: "web", New: Web, HTTP: WebHTTP},
	}
}
