package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/acklink"
	"github.com/incidentd/incidentd/shared/alarms"
	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/compat"
	"github.com/incidentd/incidentd/shared/customresource"
	"github.com/incidentd/incidentd/shared/deployevents"
	"github.com/incidentd/incidentd/shared/dorajob"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/logscan"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/postmortemjob"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/slack"
)

// store is the table every function reads and writes.
func store(s settings.Settings, a Adapters) *dynamo.Store { return dynamo.New(a.DynamoDB, s.Table) }

// Alarms is functions/alarms: CloudWatch alarm state changes (SNS,
// EventBridge, Lambda alarm actions) become incidents.
func Alarms(s settings.Settings, a Adapters) (lambda.Handler, error) {
	st := store(s, a)
	h := alarms.NewHandler(incident.NewService(st, s.Rules()), st, alarms.Config{
		DefaultService: s.DefaultService,
		Logger:         a.Logger,
		// Alarms without markers are routed by their tags when they have any
		// (needs cloudwatch:ListTagsForResource).
		Tags: a.Tags,
	})
	return lambda.NewHandler(h.Handle), nil
}

// Logs is functions/logs: CloudWatch Logs subscription batches are counted
// per service and fingerprint; a fingerprint at the threshold opens an
// incident.
func Logs(s settings.Settings, a Adapters) (lambda.Handler, error) {
	threshold, window, err := s.LogScan()
	if err != nil {
		return nil, err
	}
	groups, err := logscan.ParseServices(s.LogGroupServices, s.DefaultService)
	if err != nil {
		return nil, fmt.Errorf("LOG_GROUP_SERVICES: %w", err)
	}
	cfg := logscan.Config{Threshold: threshold, Window: window, DefaultService: s.DefaultService, Services: groups}
	st := store(s, a)
	h := logscan.NewHandler(st, incident.NewService(st, s.Rules()), cfg, a.Logger)
	return lambda.NewHandler(h.Handle), nil
}

// HTTPAPI is the HTTP API the api function serves (and infra/local serves
// on its API port).
func HTTPAPI(s settings.Settings, a Adapters) (http.Handler, error) {
	// An unreadable Slack secret must not take the API down: the Slack
	// routes are off (404) for this instance, and the error is in the logs.
	_, signingSecret, err := slackCredentials(context.Background(), a)
	if err != nil {
		a.Logger.Error("Slack routes off: the Slack secret is unreadable", "error", err)
		signingSecret = ""
	}
	// The authenticator's token cache lives as long as the instance.
	st := store(s, a)
	incidents := incident.NewService(st, s.Rules())
	onCall := oncall.Config{Services: incidents, Logger: httpapi.RequestLogger(a.Logger)}
	if s.PagingTopicARN != "" && a.Subscriber != nil {
		onCall.Subscriber = a.Subscriber
	} else {
		a.Logger.Warn("PAGING_TOPIC_ARN is not set: PUT /users makes no PagingTopic subscriptions")
	}
	cfg := httpapi.Config{
		Incidents:          incidents,
		Tokens:             auth.NewAuthenticator(st),
		OnCall:             oncall.NewService(st, onCall),
		PublicReports:      s.PublicReports,
		SlackSigningSecret: signingSecret,
		Deployments:        st,
		Deliveries:         st,
		Logger:             a.Logger,
	}
	// Like Slack's, an unreadable GitHub secret or a bad DEPLOY_SERVICES
	// takes the webhook off (404) for this instance, not the API down.
	if secret, err := s.GitHub(context.Background(), a.GitHubReader); err != nil {
		a.Logger.Error("GitHub webhook off: the GitHub secret is unreadable", "error", err)
	} else if services, err := s.DeployTargets(); err != nil {
		a.Logger.Error("GitHub webhook off", "error", err)
	} else {
		cfg.GitHubSecret, cfg.GitHubServices = secret, services
	}
	return httpapi.New(cfg), nil
}

// IngestHTTP is the handler of the ingest function: the PagerDuty- and
// Opsgenie-compatible routes (shared/compat; the routes httpapi.Routes gives
// FunctionIngest), which infra/local dispatches those routes to.
func IngestHTTP(s settings.Settings, a Adapters) (http.Handler, error) {
	st := store(s, a)
	mux := http.NewServeMux()
	compat.Register(mux, compat.Config{Incidents: incident.NewService(st, s.Rules()), Keys: st, Logger: a.Logger})
	return mux, nil
}

// Ingest is functions/ingest: the PagerDuty- and Opsgenie-compatible
// endpoints, behind API Gateway's routes of them.
func Ingest(s settings.Settings, a Adapters) (lambda.Handler, error) {
	h, err := IngestHTTP(s, a)
	if err != nil {
		return nil, err
	}
	return APILambda(h, a.Logger), nil
}

// API is functions/api: the API Gateway HTTP API (payload 2.0) in front of
// HTTPAPI.
func API(s settings.Settings, a Adapters) (lambda.Handler, error) {
	h, err := HTTPAPI(s, a)
	if err != nil {
		return nil, err
	}
	return APILambda(h, a.Logger), nil
}

// APILambda is the handler of a function behind the HTTP API (api, web, ingest)
// around its http.Handler h, for a runtime that serves h over HTTP too
// (infra/local: one instance behind both, one token cache and one rate
// limiter).
func APILambda(h http.Handler, logger *slog.Logger) lambda.Handler {
	return lambda.NewHandler(httpapi.NewLambda(h, logger).Handle)
}

// WebHTTP is the handler of the web function (pages and documents: the
// routes httpapi.Routes gives FunctionWeb), which infra/local dispatches
// those routes to.
func WebHTTP(s settings.Settings, a Adapters) (http.Handler, error) {
	st := store(s, a)
	// The DORA page lists the services DEPLOY_SERVICES names too; a bad
	// value leaves them out (the deploys function refuses to start on it).
	var known []string
	if targets, err := s.DeployTargets(); err != nil {
		a.Logger.Error("DORA page: DEPLOY_SERVICES left out", "error", err)
	} else {
		for _, t := range targets {
			if t.Service != "" && !slices.Contains(known, t.Service) {
				known = append(known, t.Service)
			}
		}
	}
	cfg := httpapi.Config{
		KnownServices: known,
		Incidents:     incident.NewService(st, s.Rules()),
		Tokens:        auth.NewAuthenticator(st),
		Services:      st,
		PublicStatus:  s.PublicStatus,
		DORA:          st,
		DORAHistory:   st,
		SuspectWindow: s.SuspectWindow,
		Logger:        a.Logger,
	}
	if s.PostmortemBucket != "" && a.Postmortems != nil {
		cfg.Postmortems = a.Postmortems(s.PostmortemBucket)
	}
	// An unreadable or missing key takes GET and POST /ack off (404) for
	// this instance, as the Slack routes are without their secret.
	if key, err := s.AckLinkSecret(context.Background(), a.AckLinkReader); err != nil {
		a.Logger.Error("acknowledge links off: the ack link key is unreadable", "error", err)
	} else if key != "" {
		signer, err := acklink.New(key, "", 0)
		if err != nil {
			a.Logger.Error("acknowledge links off", "error", err)
		} else {
			cfg.AckLinks = signer
		}
	}
	return httpapi.NewWeb(cfg), nil
}

// Web is functions/web: the HTTP API's pages and documents (the routes
// httpapi.Routes gives FunctionWeb), behind API Gateway's routes of them.
func Web(s settings.Settings, a Adapters) (lambda.Handler, error) {
	h, err := WebHTTP(s, a)
	if err != nil {
		return nil, err
	}
	return APILambda(h, a.Logger), nil
}

// Escalate is functions/escalate, the state machine's PageLevel task: it
// pages the escalation's current step (SNS first, then Slack) unless the
// incident was acknowledged.
func Escalate(s settings.Settings, a Adapters) (lambda.Handler, error) {
	if s.PagingTopicARN == "" || a.Pager == nil {
		return nil, errors.New("PAGING_TOPIC_ARN is not set")
	}
	// An unreadable Slack secret must not stop pages: SNS goes on, Slack is
	// off for this instance, and the error is in the logs.
	token, _, err := slackCredentials(context.Background(), a)
	if err != nil {
		a.Logger.Error("Slack off: the Slack secret is unreadable", "error", err)
		token = ""
	}
	st := store(s, a)
	cfg := escalation.Config{
		Incidents:    incident.NewService(st, s.Rules()),
		Directory:    st,
		Pager:        a.Pager,
		Logger:       a.Logger,
		Fallback:     s.Fallback(),
		ReopenWindow: s.ReopenWindow,
	}
	if token != "" {
		cfg.Slack = slack.NewNotifier(a.Slack(token))
		// The stream function takes the buttons off these once acknowledged.
		cfg.SlackPages = st
	}
	// Like Slack, acknowledge links never stop pages: without a key, a
	// public URL or a valid ACK_LINK_TTL, pages go out without a link.
	switch signer, err := ackLinkSigner(context.Background(), s, a); {
	case err != nil:
		a.Logger.Error("pages carry no acknowledge link", "error", err)
	case signer == nil:
		a.Logger.Info("pages carry no acknowledge link: no ack_link_key in the platform's secret (ACK_LINK_KEY locally)")
	default:
		cfg.AckLinks = signer
	}
	return lambda.NewHandler(escalation.NewEscalator(cfg).Handle), nil
}

// ackLinkSigner makes the links of escalate's pages: nil without a key (the
// operator has not set one), an error when the key is unreadable or the
// settings are wrong.
func ackLinkSigner(ctx context.Context, s settings.Settings, a Adapters) (*acklink.Signer, error) {
	key, err := s.AckLinkSecret(ctx, a.AckLinkReader)
	if err != nil {
		return nil, fmt.Errorf("the ack link key is unreadable: %w", err)
	}
	if key == "" {
		return nil, nil
	}
	base, ttl, err := s.AckLinks()
	if err != nil {
		return nil, err
	}
	return acklink.New(key, base, ttl)
}

// WarRoom is functions/warroom, the state machine's OpenWarRoom task: it
// opens the incident's Slack channel and invites the first step's on-call
// people and the stakeholders.
func WarRoom(s settings.Settings, a Adapters) (lambda.Handler, error) {
	// Failing here is recorded by the state machine as the war room's error
	// (paging goes on), which says more than a quiet "Slack is not configured".
	token, _, err := slackCredentials(context.Background(), a)
	if err != nil {
		return nil, err
	}
	st := store(s, a)
	cfg := escalation.WarRoomConfig{
		Incidents:    incident.NewService(st, s.Rules()),
		Directory:    st,
		Stakeholders: s.Stakeholders,
		Logger:       a.Logger,
	}
	if token != "" {
		cfg.Slack = slack.NewNotifier(a.Slack(token))
	}
	return lambda.NewHandler(escalation.NewWarRoom(cfg).Handle), nil
}

// Stream is functions/stream, the table's stream consumer: escalations start,
// timeline entries go to the war room, to IncidentEventsTopic and to the
// Slack pages they answer.
func Stream(s settings.Settings, a Adapters) (lambda.Handler, error) {
	if s.StateMachineARN == "" || a.Executions == nil {
		return nil, errors.New("STATE_MACHINE_ARN is not set")
	}
	st := store(s, a)
	starter := escalation.NewStarter(escalation.StarterConfig{
		Configs:    st,
		Executions: a.Executions,
		Logger:     a.Logger,
		Fallback:   s.Fallback(),
	})
	// The Slack secret is read on first use: escalations never wait on it,
	// and an unreadable secret fails (and so retries) the records that need
	// Slack instead of turning Slack off for this instance's life.
	lazy := lifecycle.NewLazySlack(func(ctx context.Context) (string, error) {
		token, _, err := slackCredentials(ctx, a)
		return token, err
	}, func(token string) lifecycle.Slack { return slack.NewNotifier(a.Slack(token)) })
	cfg := lifecycle.Config{
		Starter: starter, Decode: dynamo.DecodeStreamRecord, Incidents: st, Deliveries: st, SlackPages: st,
		Signals: incident.NewService(st, s.Rules()),
		Slack:   lazy, Logger: a.Logger,
	}
	if s.IncidentEventsTopicARN != "" && a.Events != nil {
		cfg.Publisher = a.Events
	}
	return lambda.NewHandler(lifecycle.NewHandler(cfg).Handle), nil
}

// Watchdog is functions/watchdog, run every minute: it re-drives the
// escalations of triggered paging incidents that have none running (started,
// redriven, or started afresh where Step Functions refuses a redrive) and
// resolves flapping incidents whose alarm settled in OK.
func Watchdog(s settings.Settings, a Adapters) (lambda.Handler, error) {
	if s.StateMachineARN == "" || a.Executions == nil {
		return nil, errors.New("STATE_MACHINE_ARN is not set")
	}
	x, ok := a.Executions.(escalation.ExecutionRedriver)
	if !ok {
		return nil, errors.New("the executions backend cannot describe or redrive executions")
	}
	st := store(s, a)
	w := escalation.NewWatchdog(escalation.WatchdogConfig{
		Incidents:  incident.NewService(st, s.Rules()),
		Configs:    st,
		Executions: x,
		Starter: escalation.NewStarter(escalation.StarterConfig{
			Configs: st, Executions: a.Executions, Logger: a.Logger, Fallback: s.Fallback(),
		}),
		Grace:        s.WatchdogGrace,
		ReopenWindow: s.ReopenWindow,
		Logger:       a.Logger,
	})
	return lambda.NewHandler(w.Handle), nil
}

// Deploys is functions/deploys: CodePipeline and CodeDeploy state changes
// (EventBridge) become deployment records, their sources mapped to services
// by DEPLOY_SERVICES.
func Deploys(s settings.Settings, a Adapters) (lambda.Handler, error) {
	services, err := s.DeployTargets()
	if err != nil {
		return nil, err
	}
	h := deployevents.NewHandler(store(s, a), services, a.Logger)
	return lambda.NewHandler(h.Handle), nil
}

// DORA is functions/dora, run every hour: the DORA report of every scope
// (each configured or DEPLOY_SERVICES service, in production and in the
// environments DEPLOY_SERVICES names, and all services of each) over 7, 30
// and 90 days, stored as the day's snapshot and printed as CloudWatch
// embedded-metric-format lines on standard output.
func DORA(s settings.Settings, a Adapters) (lambda.Handler, error) {
	targets, err := s.DeployTargets()
	if err != nil {
		return nil, err
	}
	known := map[string][]string{}
	for _, t := range targets {
		if t.Service != "" && !slices.Contains(known[t.Service], t.Environment) {
			known[t.Service] = append(known[t.Service], t.Environment)
		}
	}
	st := store(s, a)
	j := dorajob.New(dorajob.Config{
		Records: st, Snapshots: st, Services: st, Known: known,
		SuspectWindow: s.SuspectWindow, Metrics: a.Metrics, Logger: a.Logger,
	})
	return lambda.NewHandler(j.Handle), nil
}

// slackCredentials reads the Slack app's bot token and signing secret; an
// adapter set without a reader has Slack off, and one without a Slack client
// has no bot token (the signing secret still verifies Slack's requests).
func slackCredentials(ctx context.Context, a Adapters) (botToken, signingSecret string, err error) {
	if a.SlackCredentials == nil {
		return "", "", nil
	}
	botToken, signingSecret, err = a.SlackCredentials(ctx)
	if a.Slack == nil {
		botToken = ""
	}
	return botToken, signingSecret, err
}

// Postmortem is functions/postmortem: on incident.resolved and
// incident.postmortem_updated (IncidentEventsTopic) it renders the
// incident's post-mortem, stores it in the post-mortem bucket as a new
// version when it changed, links it on the incident and announces it in
// the war room.
func Postmortem(s settings.Settings, a Adapters) (lambda.Handler, error) {
	if s.PostmortemBucket == "" || a.Postmortems == nil {
		return nil, errors.New("POSTMORTEM_BUCKET is not set")
	}
	st := store(s, a)
	cfg := postmortemjob.Config{
		Incidents:     st,
		Links:         incident.NewService(st, s.Rules()),
		Deployments:   st,
		Documents:     a.Postmortems(s.PostmortemBucket),
		SuspectWindow: s.SuspectWindow,
		Logger:        a.Logger,
	}
	if a.SlackCredentials != nil && a.Slack != nil {
		// Read on first use, and again after a failed read: Slack trouble
		// fails the announcement (retried), never the document.
		cfg.Slack = &lazyAnnouncer{token: func(ctx context.Context) (string, error) {
			token, _, err := slackCredentials(ctx, a)
			return token, err
		}, slack: a.Slack}
	}
	return lambda.NewHandler(postmortemjob.New(cfg).Handle), nil
}

// lazyAnnouncer is the war-room announcer of the postmortem function: the
// Slack notifier of a bot token read when first needed. No bot token is
// Slack off: nothing is announced.
type lazyAnnouncer struct {
	token func(ctx context.Context) (string, error)
	slack func(botToken string) slack.Messenger
	mu    sync.Mutex
	n     *slack.Notifier
	off   bool
}

// PostPostmortem implements postmortemjob.Slack.
func (l *lazyAnnouncer) PostPostmortem(ctx context.Context, channel string, inc incident.Incident, link incident.PostmortemLink) error {
	l.mu.Lock()
	if l.n == nil && !l.off {
		token, err := l.token(ctx)
		if err != nil {
			l.mu.Unlock()
			return fmt.Errorf("read the Slack secret: %w", err)
		}
		if token == "" {
			l.off = true
		} else {
			l.n = slack.NewNotifier(l.slack(token))
		}
	}
	n := l.n
	l.mu.Unlock()
	if n == nil {
		return postmortemjob.ErrSlackOff
	}
	return n.PostPostmortem(ctx, channel, inc, link)
}

// Seed is functions/seed: the stack's ServicesFile custom resource, which
// writes the services file's services into the table at deploy (README,
// "Services from the file"); infra/local applies the file the same way at
// start.
func Seed(s settings.Settings, a Adapters) (lambda.Handler, error) {
	if a.CustomResources == nil {
		return nil, errors.New("no way to answer CloudFormation: Adapters.CustomResources is not set")
	}
	h := &customresource.Handler{
		Services:  incident.NewService(store(s, a), s.Rules()),
		Responder: a.CustomResources,
		Logger:    a.Logger,
	}
	return lambda.NewHandler(h.Handle), nil
}
