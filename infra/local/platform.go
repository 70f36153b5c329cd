package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/s3"
	"github.com/incidentd/incidentd/shared/s3/s3local"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/slack"
	"github.com/incidentd/incidentd/shared/wiring"
)

// localTable is the table's name in DynamoDB Local.
const localTable = "incidentd-local"

// localGitHubSecret is make local's default GITHUB_WEBHOOK_SECRET: public,
// the secret the events/api-webhook-github-* fixtures are signed with.
const localGitHubSecret = "fixture-webhook-secret"

// localBucket is the post-mortem bucket's name in the local S3.
const localBucket = "incidentd-local-postmortems"

// platform is every function of the platform wired in one process, as the CDK
// stack wires them in AWS.
type platform struct {
	api       http.Handler
	functions map[string]Function
	token     string
	services  []string
	settings  settings.Settings
	// timeScale divides escalation waits (LOCAL_TIME_SCALE).
	timeScale float64
	// slackReal: SLACK_BOT_TOKEN is set, Slack calls go to Slack.
	slackReal bool
	// close stops the stream poller and every escalation, and waits for them.
	close func()
	// executions counts the escalations started for an incident.
	executions func(incidentID string) int
	// s3 is the local post-mortem bucket's endpoint (gofakes3).
	s3 string
}

// platformOptions are what tests replace.
type platformOptions struct {
	// pager receives every page (default: printed to out and logged).
	pager escalation.Pager
	// out is where pages are printed (default os.Stdout).
	out io.Writer
	// level, when set, is the logger's level: set to LOG_LEVEL as the
	// settings read it, as the Lambdas' loggers are.
	level *slog.LevelVar
	// beforeTask, when set, is called before each Task invocation of the
	// local Step Functions (fault injection in tests).
	beforeTask func(ctx context.Context, function string, payload []byte)
	// schedules turns the scheduled functions' timers on (the watchdog,
	// every minute divided by LOCAL_TIME_SCALE): `make local` runs them;
	// tests that do not test them leave them off.
	schedules bool
	// startFault, when set, can fail the local Step Functions' starts.
	startFault func(name string) error
	// postmortems opens the local post-mortem bucket (set by newPlatform).
	postmortems func(bucket string) wiring.PostmortemStore
	// escalationRecordAge, when set, replaces the escalation mapping's
	// maximum record age (20 h): a test makes it give a record up at once.
	escalationRecordAge time.Duration
}

type platformOption func(*platformOptions)

// withPager sends the pages to p instead of printing them.
func withPager(p escalation.Pager) platformOption {
	return func(o *platformOptions) { o.pager = p }
}

// withBeforeTask calls f before each Task invocation of an escalation, with
// the function and its payload: a test injects a fault at that moment.
func withBeforeTask(f func(ctx context.Context, function string, payload []byte)) platformOption {
	return func(o *platformOptions) { o.beforeTask = f }
}

// withSchedules runs the scheduled functions on their timers.
func withSchedules() platformOption {
	return func(o *platformOptions) { o.schedules = true }
}

// withStartFault asks f before every start of an escalation: an error fails
// it (fault injection).
func withStartFault(f func(name string) error) platformOption {
	return func(o *platformOptions) { o.startFault = f }
}

// withEscalationRecordAge makes the escalation mapping give up a failing
// record once it is older than d.
func withEscalationRecordAge(d time.Duration) platformOption {
	return func(o *platformOptions) { o.escalationRecordAge = d }
}

// withLogLevel makes newPlatform set level to the settings' LOG_LEVEL.
func withLogLevel(level *slog.LevelVar) platformOption {
	return func(o *platformOptions) { o.level = level }
}

// demoServices are seeded as through the API (the services file's,
// checkout and payments of infra/services.example.json, are applied as the
// stack applies them: servicesfile.go), so that the fixtures in events/ land
// on known services (their alarms are named checkout-…, payments-…) and one
// service can be changed and deleted through the API.
var demoServices = []incident.ServiceConfig{
	{Name: "search", DefaultSeverity: incident.SEV3, PagingSeverities: []incident.Severity{incident.SEV1, incident.SEV2}},
	// A throwaway (oncall.go): events/api-delete-service.json deletes it.
	{Name: throwawayID, DefaultSeverity: incident.SEV4},
}

// LocalAckLinkKey signs make local's acknowledge links unless ACK_LINK_KEY
// is set: a fixed, public development key, like the development token.
// Never use it in AWS.
const LocalAckLinkKey = "incidentd-local-ack-link-key-not-secret-0000"

// newPlatform creates the table in the DynamoDB Local at endpoint, seeds it and
// wires the functions. getenv supplies the same variables the Lambdas read.
func newPlatform(ctx context.Context, endpoint string, getenv func(string) string, logger *slog.Logger, opts ...platformOption) (*platform, error) {
	o := platformOptions{out: os.Stdout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.pager == nil {
		o.pager = &printPager{out: o.out, log: logger}
	}
	timeScale, err := parseTimeScale(getenv("LOCAL_TIME_SCALE"))
	if err != nil {
		return nil, err
	}
	// The monitored services file the stack deploys from gives the defaults of
	// DEFAULT_SERVICE, LOG_GROUP_SERVICES and DEPLOY_SERVICES, as the stack
	// sets them in AWS.
	root, err := dynamolocal.ModuleRoot()
	if err != nil {
		return nil, err
	}
	servicesFile, monitored, err := loadServicesFile(root, getenv)
	if err != nil {
		return nil, err
	}
	groups, err := json.Marshal(monitored.LogGroupServices())
	if err != nil {
		return nil, err
	}
	deploySources, err := json.Marshal(monitored.DeployServices())
	if err != nil {
		return nil, err
	}
	// The AWS resources the stack names in the functions' environment are
	// named here too, standing for their local counterparts (the printing
	// pager and events, the local executions), so that package wiring turns
	// the same adapters on as in AWS.
	defaults := map[string]string{
		"TABLE_NAME":                localTable,
		"DEFAULT_SERVICE":           monitored.DefaultService,
		"LOG_GROUP_SERVICES":        string(groups),
		"DEPLOY_SERVICES":           string(deploySources),
		"PAGING_TOPIC_ARN":          localARN("sns", "incidentd-local-paging"),
		"INCIDENT_EVENTS_TOPIC_ARN": localARN("sns", "incidentd-local-incident-events"),
		"STATE_MACHINE_ARN":         localARN("states", "stateMachine:incidentd-local-escalation"),
		"POSTMORTEM_BUCKET":         localBucket,
		// Acknowledge links: signed with the public development key (the
		// events/web-*ack*.json fixtures are too), under the API port
		// (main sets PUBLIC_API_URL to LOCAL_API_PORT's).
		"ACK_LINK_KEY":   LocalAckLinkKey,
		"PUBLIC_API_URL": "http://127.0.0.1:3000",
		// GitHub's webhook is on, with the public secret the
		// events/api-webhook-github-* fixtures are signed with (as the
		// dev token, never for AWS).
		"GITHUB_WEBHOOK_SECRET": localGitHubSecret,
		// The watchdog's grace, shortened as the waits are.
		"WATCHDOG_GRACE": max(time.Second, time.Duration(float64(escalation.DefaultWatchdogGrace)/timeScale)).Round(time.Second).String(),
	}
	env := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return defaults[k]
	}
	set, err := settings.FromEnv(env)
	if err != nil {
		return nil, err
	}
	if o.level != nil {
		o.level.Set(set.LogLevel)
	}
	// The post-mortem bucket: gofakes3 in process (LOCAL_S3_PORT, default
	// a free port), versioned as the stack's bucket.
	s3Port, err := portEnv(getenv, "LOCAL_S3_PORT", 0, 0)
	if err != nil {
		return nil, err
	}
	s3srv, err := s3local.Start(fmt.Sprintf("127.0.0.1:%d", s3Port))
	if err != nil {
		return nil, err
	}
	s3client := s3local.Client(s3srv.Endpoint)
	if err := s3local.CreateBucket(ctx, s3client, set.PostmortemBucket); err != nil {
		s3srv.Close()
		return nil, err
	}
	o.postmortems = func(bucket string) wiring.PostmortemStore {
		return &printDocuments{Documents: s3.New(s3client, bucket), out: o.out, bucket: bucket, endpoint: s3srv.Endpoint}
	}
	db := dynamolocal.Client(endpoint)
	if err := dynamolocal.CreateTable(ctx, db, set.Table); err != nil {
		s3srv.Close()
		return nil, err
	}
	store := dynamo.New(db, set.Table)
	svc := incident.NewService(store, set.Rules())

	var names []string
	// On-call first: a service names its policy, which must exist (and the
	// policy its schedule and users).
	realSlack := set.SlackBotToken != ""
	if err := seedOnCall(ctx, oncall.NewService(store, oncall.Config{Services: svc, Logger: logger}), realSlack); err != nil {
		return nil, err
	}
	// The services file's services, as the stack's custom resource writes
	// them at deploy; then the demo's own, made as through the API.
	if err := applyServicesFile(ctx, svc, servicesFile, monitored); err != nil {
		return nil, err
	}
	for _, c := range demoServices {
		if _, err := svc.ServiceConfig(ctx, c.Name); err == nil {
			continue // kept from an earlier run (LOCAL_DB_PATH): don't undo edits
		} else if !errors.Is(err, errkind.NotFound) {
			return nil, err
		}
		if _, err := svc.PutServiceConfig(ctx, c); err != nil {
			return nil, fmt.Errorf("seed service %s: %w", c.Name, err)
		}
	}
	if err := seedDORA(ctx, store, time.Now()); err != nil {
		return nil, err
	}
	all, err := svc.Services(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if c.ManagedBy != "" {
			names = append(names, c.Name+" ("+c.ManagedBy+")")
			continue
		}
		names = append(names, c.Name)
	}

	token, err := seedToken(ctx, store, getenv("LOCAL_API_TOKEN"))
	if err != nil {
		return nil, err
	}

	def, err := parseStateMachine(escalationDefinition)
	if err != nil {
		return nil, err
	}
	// The local Step Functions and event source mapping: they live until the
	// platform is closed (or ctx ends).
	runCtx, cancel := context.WithCancel(ctx)
	functions := map[string]Function{}
	runs := &runner{def: def, scale: timeScale, log: logger, ctx: runCtx, startFault: o.startFault,
		invoke: func(ctx context.Context, name string, payload []byte) ([]byte, error) {
			fn, ok := functions[name]
			if !ok {
				return nil, fmt.Errorf("function %s: not a function of the platform", name)
			}
			if o.beforeTask != nil {
				o.beforeTask(ctx, name, payload)
			}
			return fn(ctx, payload)
		}}
	// Every handler is built by package wiring, from the same settings the
	// Lambdas read, with the local adapters.
	ad := localAdapters(db, set, o, runs, logger)
	// The API port and the invoke endpoint of a function behind the HTTP
	// API (api, web) share one handler, as one Lambda instance would serve
	// both; the API port dispatches httpapi.Routes as API Gateway does.
	handlers := map[string]http.Handler{}
	for _, f := range wiring.Functions() {
		if f.HTTP != nil {
			h, err := f.HTTP(set, ad)
			if err != nil {
				cancel()
				return nil, fmt.Errorf("function %s: %w", f.Name, err)
			}
			handlers[f.Name] = h
			functions[f.Name] = wiring.APILambda(h, logger).Invoke
			continue
		}
		h, err := f.New(set, ad)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		functions[f.Name] = h.Invoke
	}
	// IncidentEventsTopic's subscription of the postmortem function
	// (filtered on its event types), invoked asynchronously as SNS does.
	async := &asyncInvoker{ctx: runCtx, fn: functions["postmortem"], log: logger}
	ad.Events.(*printEvents).then = async.postmortemEvent
	poller, err := newStreamPoller(ctx, db, streamsClient(endpoint), set.Table, viaJSON(functions["stream"]), logger)
	if err != nil {
		cancel()
		return nil, err
	}
	if o.escalationRecordAge > 0 {
		for _, p := range poller {
			if p.m.name == "escalations" {
				p.m.maxAge = o.escalationRecordAge
			}
		}
	}
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		poller.run(runCtx)
	}()
	timers := make(chan struct{})
	go func() {
		defer close(timers)
		if o.schedules {
			// The DORA job: once at start (today's snapshots of the demo
			// deployments at once), then every hour ÷ LOCAL_TIME_SCALE.
			dora := make(chan struct{})
			go func() {
				defer close(dora)
				if _, err := functions["dora"](runCtx, []byte(scheduledEvent)); err != nil && runCtx.Err() == nil {
					logger.ErrorContext(runCtx, "scheduled function failed (local)", slog.String("function", "dora"), slog.Any("error", err))
				}
				runEvery(runCtx, doraEvery(timeScale), "dora", functions["dora"], logger)
			}()
			every := time.Duration(float64(time.Minute) / timeScale)
			runEvery(runCtx, every, "watchdog", functions["watchdog"], logger)
			<-dora
		}
	}()
	stop := func() {
		cancel()
		<-polled
		<-timers
		runs.wait()
		async.wait()
		s3srv.Close()
	}

	return &platform{
		api:   httpapi.Dispatch(handlers),
		token: token, services: names, settings: set,
		timeScale: timeScale, slackReal: realSlack, close: sync.OnceFunc(stop),
		functions: functions, executions: runs.startedFor, s3: s3srv.Endpoint,
	}, nil
}

// scheduledEvent is what an EventBridge schedule sends (the functions ignore it).
const scheduledEvent = `{"version":"0","id":"local","detail-type":"Scheduled Event","source":"aws.events","account":"000000000000","region":"local","resources":[],"detail":{}}`

// doraEvery is the local DORA job's period: its hour divided by the time
// scale (a minute at LOCAL_TIME_SCALE=60), at least a second.
func doraEvery(timeScale float64) time.Duration {
	return max(time.Second, time.Duration(float64(time.Hour)/timeScale))
}

// runEvery invokes fn every period until ctx ends, as an EventBridge
// schedule does; an error is logged (in AWS: the function's error alarm).
func runEvery(ctx context.Context, every time.Duration, name string, fn Function, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := fn(ctx, []byte(scheduledEvent)); err != nil && ctx.Err() == nil {
			logger.ErrorContext(ctx, "scheduled function failed (local)", slog.String("function", name), slog.Any("error", err))
		}
	}
}

// localARN names a local stand-in for an AWS resource.
func localARN(service, resource string) string {
	return "arn:aws:" + service + ":local:000000000000:" + resource
}

// recorderToken stands for the bot token when SLACK_BOT_TOKEN is empty:
// locally Slack is then the recorder (calls logged, not sent), where in AWS
// an empty bot token turns Slack off.
const recorderToken = "local-slack-recorder"

// localAdapters is the local set of adapters: DynamoDB Local, the printing
// (or test) pager, the printing PagingTopic subscriptions and
// IncidentEventsTopic, the local executions, the Slack recorder (or real
// Slack with SLACK_BOT_TOKEN), and the Slack credentials from the settings
// (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET; no secret is read locally).
func localAdapters(db dynamo.Client, set settings.Settings, o platformOptions, runs *runner, logger *slog.Logger) wiring.Adapters {
	recorder := slack.NewRecorder(logger)
	real := wiring.SlackClient(logger)
	return wiring.Adapters{
		DynamoDB:   db,
		Pager:      o.pager,
		Subscriber: &printSubscriber{out: o.out, log: logger},
		Events:     &printEvents{out: o.out, log: logger},
		// The post-mortem bucket (gofakes3), each version written printed.
		Postmortems: o.postmortems,
		Executions:  runs,
		// CloudFormation's answer URL (the seed function).
		CustomResources: &printCustomResources{out: o.out, log: logger},
		SlackCredentials: func(context.Context) (string, string, error) {
			token := set.SlackBotToken
			if token == "" {
				token = recorderToken
			}
			return token, set.SlackSigningSecret, nil
		},
		Slack: func(token string) slack.Messenger {
			if token == recorderToken {
				return recorder
			}
			return real(token)
		},
		Logger: logger,
	}
}

// seedToken stores the admin token for local use: LOCAL_API_TOKEN when given
// (it must have the shape of a token), else the public dev token the fixtures
// in events/ carry.
func seedToken(ctx context.Context, store *dynamo.Store, given string) (string, error) {
	now := time.Now()
	rec := auth.LocalDevRecord(now)
	token := auth.LocalDevToken
	if given != "" {
		id, secret, err := auth.Parse(given)
		if err != nil {
			return "", fmt.Errorf("LOCAL_API_TOKEN is not a token of this platform (make one with `go run ./infra/token create`): %w", err)
		}
		rec = auth.Token{ID: id, Name: "local-admin", Scopes: []auth.Scope{auth.ScopeAdmin}, Hash: auth.Hash(secret), CreatedAt: now}
		token = given
	}
	// The public dev integration keys of the events/ingest-pagerduty-* and
	// ingest-opsgenie-* fixtures (service checkout).
	for _, k := range auth.LocalDevIntegrationKeys(now) {
		if _, err := store.IntegrationKey(ctx, k.ID); err == nil {
			continue
		}
		if err := store.PutIntegrationKey(ctx, k); err != nil {
			return "", fmt.Errorf("seed the local integration keys: %w", err)
		}
	}
	if _, err := store.APIToken(ctx, rec.ID); err == nil {
		return token, nil
	}
	if err := store.PutAPIToken(ctx, rec); err != nil {
		return "", fmt.Errorf("seed the local admin token: %w", err)
	}
	return token, nil
}

func printWelcome(w io.Writer, api, invoke, db string, p *platform) {
	fns := make([]string, 0, len(p.functions))
	for n := range p.functions {
		fns = append(fns, n)
	}
	sort.Strings(fns)
	fmt.Fprintf(w, `
incidentd is running locally (Ctrl-C stops everything).

  HTTP API          %[1]s            (as sam local start-api)
  Lambda invoke     %[2]s            (as sam local start-lambda)
  DynamoDB Local    %[3]s            table %[4]s
  functions         %[5]s
  services          %[6]s
  admin token       %[7]s
  escalation        LOCAL_TIME_SCALE=%[8]g: a policy minute lasts %[9]s; pages print as PAGE lines;
                    the watchdog runs every %[9]s
  DORA job          at start, then every %[12]s (README "DORA job")
  post-mortems      S3 (gofakes3) %[13]s bucket %[14]s; written on resolve, printed as POSTMORTEM lines
  demo policy       %[10]s
  Slack             %[11]s

Try it from another shell:

  export TOKEN=%[7]s
  curl -s -X POST %[1]s/reports -H "Authorization: Bearer $TOKEN" \
       -H 'Content-Type: application/json' \
       -d '{"service":"checkout","summary":"Checkout page times out","reporter":{"name":"Ana","email":"ana@example.com"}}'
  curl -s %[1]s/incidents -H "Authorization: Bearer $TOKEN"
  curl -s -X POST %[2]s/2015-03-31/functions/alarms/invocations -d @events/alarms-sns-metric.json
  curl -s -X POST %[2]s/2015-03-31/functions/logs/invocations -d @events/logs-json-errors.json
  curl -s -X POST %[1]s/incidents/<id>/acknowledge -H "Authorization: Bearer $TOKEN"   (stops the pages)
  curl -s -X POST %[1]s/incidents/<id>/resolve -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"root_cause":"…","fix":"…"}'
  curl -s %[1]s/incidents/<id>/postmortem -H "Authorization: Bearer $TOKEN"   (the post-mortem, README "Post-mortems")
  curl -s "%[1]s/metrics/dora?service=checkout" -H "Authorization: Bearer $TOKEN"   (demo deployments, README "DORA metrics")
  curl -s "%[1]s/metrics/dora/history?service=checkout" -H "Authorization: Bearer $TOKEN"   (the DORA job's daily snapshots)
  curl -s "%[1]s/status" -H "Authorization: Bearer $TOKEN"   (the status page; a browser gets HTML, without a token with PUBLIC_STATUS=true)

Any file in events/ can be posted to its function (events/<function>-*.json);
make replay posts them all, in the order of README "Replaying events/".

`, api, invoke, db, p.settings.Table, strings.Join(fns, ", "), strings.Join(p.services, ", "), p.token,
		p.timeScale, (time.Duration(float64(time.Minute) / p.timeScale)).String(), demoPolicyText, slackMode(p.slackReal), doraEvery(p.timeScale).String(), p.s3, p.settings.PostmortemBucket)
}

func slackMode(real bool) string {
	if real {
		return "real Slack (SLACK_BOT_TOKEN)"
	}
	return "recorded and logged, not sent (set SLACK_BOT_TOKEN for real Slack)"
}

// viaJSON is the stream function as the event source mapping invokes it: the
// batch as JSON in, the BatchItemFailures as JSON out.
func viaJSON(fn Function) streamHandler {
	return func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		payload, err := json.Marshal(e)
		if err != nil {
			return resp, fmt.Errorf("encode stream batch: %w", err)
		}
		out, err := fn(ctx, payload)
		if err != nil {
			return resp, err
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return resp, fmt.Errorf("decode the stream function's response: %w", err)
		}
		return resp, nil
	}
}
