package main

import (
	"encoding/json"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/incidentd/incidentd/infra/alarmtopic"
	"github.com/incidentd/incidentd/infra/api"
	"github.com/incidentd/incidentd/infra/deploys"
	"github.com/incidentd/incidentd/infra/detection"
	"github.com/incidentd/incidentd/infra/dlq"
	"github.com/incidentd/incidentd/infra/dorajob"
	"github.com/incidentd/incidentd/infra/escalation"
	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/monitoring"
	"github.com/incidentd/incidentd/infra/postmortems"
	"github.com/incidentd/incidentd/infra/seed"
	"github.com/incidentd/incidentd/infra/services"
	"github.com/incidentd/incidentd/infra/storage"
)

// StackProps configure the incidentd stack.
type StackProps struct {
	awscdk.StackProps
	// ModuleRoot is the directory holding go.mod; functions/<name> is built from it.
	ModuleRoot string
	// Services are the monitored services (infra/services.json).
	Services services.Config
	// ServicesFile is the services file's name, relative to the module
	// root (the context value services): its services are written into the
	// table at deploy, marked with it (infra/seed).
	ServicesFile string
	// LogLevel is every function's LOG_LEVEL.
	LogLevel string
	// ReopenWindow is every function's REOPEN_WINDOW (a Go duration).
	ReopenWindow string
	// DORADashboard adds the DORA metrics' CloudWatch dashboard (context
	// doraDashboard; off by default: README, "DORA job", Dashboard).
	DORADashboard bool
	// DORASuspectWindow is every function's DORA_SUSPECT_WINDOW (a Go
	// duration; "" leaves it unset: dora.DefaultSuspectWindow).
	DORASuspectWindow string
	// Tracing turns on X-Ray for every function.
	Tracing bool
	// PublicReports lets people report problems (POST /reports) without a token.
	PublicReports bool
	// PublicStatus serves the status page (GET /status) without a token.
	PublicStatus bool
	// RateLimit and BurstLimit throttle the API; 0 means api's defaults.
	RateLimit, BurstLimit float64
	// FallbackUser is paged when an escalation policy names no fallback ("" for none).
	FallbackUser string
	// Stakeholders are comma-separated Slack user ids invited to every war room.
	Stakeholders string
	// PagingConcurrency is the concurrency reserved for each function of
	// PagingPath; 0 reserves none (infra/README.md, "Reserved concurrency").
	PagingConcurrency int
	// IndexUpgradeStep is a step of the upgrade of a table made before the
	// indexes changed (storage.Props); 0 for none.
	IndexUpgradeStep int
	// AckLinkTTL is escalate's ACK_LINK_TTL ("": the default, 24h).
	AckLinkTTL string
	// PublicAPIURL is the base of acknowledge links (escalate's
	// PUBLIC_API_URL); "": the HTTP API's own URL.
	PublicAPIURL string
}

// PagingPath are the functions between an alarm and a page: alarms turns
// alarm state changes into incidents, stream starts their escalations,
// escalate pages. Each gets StackProps.PagingConcurrency reserved, so that
// no other workload of the account can starve them.
var PagingPath = []string{"alarms", "stream", "escalate"}

// NewStack composes the platform from its constructs. It holds no resources of
// its own: what each capability needs lives in its package, and what they share
// (the table, the functions' environment) is wired here.
func NewStack(scope constructs.Construct, id string, props *StackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	awscdk.Tags_Of(stack).Add(jsii.String("app"), jsii.String("incidentd"), nil)

	store := storage.New(stack, "Storage", storage.Props{IndexUpgradeStep: props.IndexUpgradeStep})
	// Every function defined with fns is recorded: grants and monitoring
	// below follow from the constructs.
	registry := &function.Registry{}
	// One failure queue for the whole stack: every asynchronous function's
	// on-failure destination, the stream mappings', AlarmTopic's
	// subscription's and the EventBridge targets' dead letters, with one
	// alarm (monitoring below). Each message names its source
	// (infra/README.md, "The failure queue").
	failures := dlq.New(stack, "Failures")
	fns := function.Shared{
		Failures:   failures,
		Registry:   registry,
		ModuleRoot: props.ModuleRoot,
		Environment: map[string]*string{
			"TABLE_NAME":      store.TableName(),
			"DEFAULT_SERVICE": jsii.String(props.Services.DefaultService),
			"LOG_LEVEL":       jsii.String(props.LogLevel),
			"REOPEN_WINDOW":   jsii.String(props.ReopenWindow),
		},
		LogLevel: props.LogLevel,
		Tracing:  props.Tracing,
	}
	if props.DORASuspectWindow != "" {
		fns.Environment["DORA_SUSPECT_WINDOW"] = jsii.String(props.DORASuspectWindow)
	}
	if props.PagingConcurrency > 0 {
		fns.ReservedConcurrency = map[string]int{}
		for _, name := range PagingPath {
			fns.ReservedConcurrency[name] = props.PagingConcurrency
		}
	}
	// One KMS key for every SNS topic of the stack (a key costs the same
	// whatever it encrypts; README, "Cost"): its policy lets CloudWatch
	// alarms publish to the encrypted AlarmTopic and OpsTopic.
	topicKey := alarmtopic.NewKey(stack, "TopicKey")
	detect := detection.New(stack, "Detection", detection.Props{
		Functions: fns,
		TopicKey:  topicKey,
		Services:  props.Services,
		// The platform's own alarms go to OpsTopic alone, never into the
		// platform as incidents.
		IgnoreAlarmsPrefixed: monitoring.AlarmNamePrefix,
	})
	esc := escalation.New(stack, "Escalation", escalation.Props{
		Functions:    fns,
		TopicKey:     topicKey,
		FallbackUser: props.FallbackUser,
		Stakeholders: props.Stakeholders,
	})

	// PUT /users subscribes responders' e-mail and phone to the PagingTopic.
	// A map of strings always marshals; services.Parse bounds its size.
	sources, _ := json.Marshal(props.Services.DeployServices())
	deployServices := string(sources)
	httpAPI := api.New(stack, "Api", api.Props{
		Functions:     fns,
		PublicReports: props.PublicReports,
		PublicStatus:  props.PublicStatus,
		// A map of strings always marshals; services.Parse bounds its size.
		DeployServices: deployServices,
		RateLimit:      props.RateLimit,
		BurstLimit:     props.BurstLimit,
		PagingTopic:    esc.PagingTopic,
	})

	// The API verifies Slack's requests with the secret's signing_secret.
	httpAPI.Function.Lambda.AddEnvironment(jsii.String("SLACK_SECRET_ARN"), esc.SlackSecret.SecretArn(), nil)
	esc.SlackSecret.GrantRead(httpAPI.Function.Lambda, nil)

	// Acknowledge links (README "Acknowledge from the page"): escalate signs
	// each SNS page's link with ack_link_key of the platform's secret (it
	// reads the secret already), under the API's public URL; the web
	// function verifies them (GET and POST /ack/{token}). escalate's
	// environment naming the API's URL adds no cycle: nothing of the API
	// refers to escalate.
	publicURL := httpAPI.URL
	if props.PublicAPIURL != "" {
		publicURL = jsii.String(props.PublicAPIURL)
	}
	esc.Escalate.Lambda.AddEnvironment(jsii.String("PUBLIC_API_URL"), publicURL, nil)
	if props.AckLinkTTL != "" {
		esc.Escalate.Lambda.AddEnvironment(jsii.String("ACK_LINK_TTL"), jsii.String(props.AckLinkTTL), nil)
	}
	for _, fn := range []*function.Function{esc.Escalate, httpAPI.Web} {
		fn.Lambda.AddEnvironment(jsii.String("ACK_LINK_SECRET_ARN"), esc.SlackSecret.SecretArn(), nil)
	}
	esc.SlackSecret.GrantRead(httpAPI.Web.Lambda, nil)

	// The table's stream: incidents that open, reopen or rise in severity
	// start their escalation; new timeline entries go to the war room, to
	// IncidentEventsTopic and to the Slack pages they answer.
	stream := esc.AddStream(escalation.StreamProps{
		Functions: fns, Table: store.Table, FallbackUser: props.FallbackUser,
	})

	// Deployments for the DORA metrics: CodePipeline and CodeDeploy state
	// changes (the deploys function), the GitHub webhook's secret (read by
	// the api); POST /deployments is a route of the api.
	deploys.New(stack, "Deploys", deploys.Props{
		Functions: fns, Services: props.Services, API: httpAPI.Function, Secret: esc.SlackSecret,
	})

	// The DORA job: every hour, the day's DORA snapshots and the DORA
	// metrics (embedded metric format).
	dorajob.New(stack, "Dora", dorajob.Props{Functions: fns, Services: props.Services, Dashboard: props.DORADashboard})

	// Post-mortems: the versioned bucket, and the postmortem function on
	// IncidentEventsTopic's incident.resolved and incident.postmortem_updated.
	// The web function serves GET and PUT /incidents/{id}/postmortem (the
	// document from the bucket; the fields to the table).
	pms := postmortems.New(stack, "Postmortems", postmortems.Props{
		Functions: fns, Events: esc.IncidentEventsTopic, Secret: esc.SlackSecret,
	})
	pms.GrantRead(httpAPI.Web.Lambda)

	// The services file's services become the services' settings in the
	// table at every deploy (the ServicesFile custom resource).
	file := props.ServicesFile
	if file == "" {
		file = DefaultServicesFile
	}
	seed.New(stack, "Seed", seed.Props{Functions: fns, File: file, Services: props.Services})

	// The watchdog re-drives escalations the stream or the state machine
	// could not finish, from the table (the source of truth).
	esc.AddWatchdog(escalation.WatchdogProps{Functions: fns, FallbackUser: props.FallbackUser})

	// Every function reads and writes items, API tokens excepted (it may
	// read them, never write them: only the token CLI does); none gets more
	// of the table (the stream function also reads the stream, through its
	// event source).
	for _, fn := range registry.Functions() {
		store.GrantItems(fn.Lambda)
	}
	// Escalations start from the table's stream (the stream function), wherever
	// an incident opened: the functions that open incidents need no Step
	// Functions permission.

	// Self-monitoring: every function's failures (the failure queue, the
	// API's 5xx answers, or its Errors), the paging path's throttling, the
	// state machine, the stream's iterator age and the table's throttling
	// alarm to OpsTopic, for the platform team.
	ops := monitoring.New(stack, "Monitoring", monitoring.Props{
		TopicKey:     topicKey,
		Functions:    registry.Functions(),
		APIFunctions: []*function.Function{httpAPI.Function, httpAPI.Web, httpAPI.Ingest},
		PagingPath:   PagingPath,
		Failures:     failures,
		Escalation:   esc.StateMachine,
		Stream:       stream.Function,
		Table:        store.Table,
		TableIndexes: store.IndexNames(),
		API:          httpAPI.HttpApi,
		APIAccessLog: httpAPI.AccessLog,
	})

	output(stack, "ApiUrl", httpAPI.URL, "Base URL of the HTTP API")
	output(stack, "AlarmTopicArn", detect.AlarmTopic.TopicArn(), "Alarm actions of other alarms may publish here")
	output(stack, "AlarmsFunctionArn", detect.Alarms.Lambda.FunctionArn(), "Usable as a Lambda alarm action by alarms of this account")
	output(stack, "TableName", store.TableName(), "The incidentd table")
	output(stack, "EscalationStateMachineArn", esc.StateMachine.StateMachineArn(), "The escalation state machine")
	output(stack, "PagingTopicArn", esc.PagingTopic.TopicArn(), "Pages; responders subscribe filtered on the responder attribute")
	output(stack, "IncidentEventsTopicArn", esc.IncidentEventsTopic.TopicArn(), "Incident lifecycle events for other systems")
	output(stack, "OpsTopicArn", ops.OpsTopic.TopicArn(), "Subscribe the platform team here: the platform's own alarms")
	output(stack, "PostmortemBucketName", pms.Bucket.BucketName(), "The post-mortems: postmortems/<incident id>.md, one version per rendering")
	output(stack, "SlackSecretArn", esc.SlackSecret.SecretArn(), `The platform's secret: set {"bot_token","signing_secret"} of the Slack app and "github_webhook_secret" of the GitHub webhook here`)
	return stack
}

func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}

// Check applies cdk-nag's AWS Solutions rules to everything in scope, so that
// `cdk synth` and `cdk deploy` stop on an unexplained finding just as the tests do.
func Check(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
	}), nil)
}
