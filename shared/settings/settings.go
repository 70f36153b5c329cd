// Package settings reads the platform's settings from the environment, the same
// way in every Lambda and in the local runtime: it is the one place that reads
// the variables the functions read (FromEnv). Their documentation is the
// README's table "Environment of the functions" (which function reads each,
// its default, what it means); each field of Settings names its variable. The
// local runtime's own LOCAL_* variables are read by infra/local.
package settings

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// Settings are the values every function shares.
type Settings struct {
	// Table is the DynamoDB table (TABLE_NAME, required).
	Table string
	// DefaultService receives signals no rule maps to a service
	// (DEFAULT_SERVICE, default "unassigned").
	DefaultService string
	// ReopenWindow: a resolved incident whose signal fires again within it is
	// reopened (REOPEN_WINDOW, a Go duration, default 30m).
	ReopenWindow time.Duration
	// PublicReports lets POST /reports through without a token (PUBLIC_REPORTS).
	PublicReports bool
	// PublicStatus serves GET /status without a token (PUBLIC_STATUS).
	PublicStatus bool
	// LogLevel is debug, info, warn or error (LOG_LEVEL, default info).
	LogLevel slog.Level
	// SlackSigningSecret verifies requests from Slack (SLACK_SIGNING_SECRET);
	// empty turns the API's Slack routes off. Local only: in AWS the secret
	// SlackSecretARN holds it (see Lambda.Slack).
	SlackSigningSecret string
	// SlackBotToken is the Slack app's bot token (SLACK_BOT_TOKEN); empty
	// turns Slack off for escalate, warroom and stream. Local only, as above.
	SlackBotToken string
	// SlackSecretARN names the Secrets Manager secret {"bot_token",
	// "signing_secret"} (SLACK_SECRET_ARN); when set, it wins over the two
	// variables above.
	SlackSecretARN string
	// FallbackUser is paged when an escalation names no fallback of its own
	// (FALLBACK_USER), so a page is never dropped; empty: none.
	FallbackUser string
	// PagingTopicARN is the SNS topic of pages (PAGING_TOPIC_ARN): escalate
	// publishes to it, the api subscribes responders to it.
	PagingTopicARN string
	// IncidentEventsTopicARN receives lifecycle events
	// (INCIDENT_EVENTS_TOPIC_ARN); empty: none are published.
	IncidentEventsTopicARN string
	// StateMachineARN is the escalation state machine (STATE_MACHINE_ARN),
	// started by the stream function.
	StateMachineARN string
	// WatchdogGrace is how long after an incident opened or reopened the
	// watchdog leaves starting its escalation to the stream (WATCHDOG_GRACE,
	// a Go duration between 1s and 1h, default 2m).
	WatchdogGrace time.Duration
	// Stakeholders are Slack user ids invited to every war room
	// (STAKEHOLDERS, comma-separated; empty items are dropped).
	Stakeholders []string
	// LogThreshold (LOG_THRESHOLD), LogWindow (LOG_WINDOW) and
	// LogGroupServices (LOG_GROUP_SERVICES) configure the logs function's
	// detection. They are kept as given and parsed when the logs function
	// starts (LogScan, and logscan.ParseServices in wiring.Logs), so that a
	// bad value stops that function alone, never a function on the paging
	// path. LOG_THRESHOLD: errors of one fingerprint in one window that open
	// an incident, 1 to 100000, default 5. LOG_WINDOW: the counting window, a
	// Go duration between 1m and 24h, default 5m. LOG_GROUP_SERVICES: a JSON
	// object mapping log groups (or prefixes ending in "*") to services;
	// empty: none, the naming convention and DefaultService apply.
	LogThreshold, LogWindow, LogGroupServices string
	// GitHubWebhookSecret verifies GitHub's webhook deliveries
	// (GITHUB_WEBHOOK_SECRET); empty turns POST /webhooks/github off. Local
	// only: in AWS the secret GitHubSecretARN holds it (see GitHub).
	GitHubWebhookSecret string
	// GitHubSecretARN names the Secrets Manager secret holding
	// github_webhook_secret (the platform's secret, also the Slack app's)
	// (GITHUB_SECRET_ARN); when set, it wins over GITHUB_WEBHOOK_SECRET.
	GitHubSecretARN string
	// SuspectWindow: GET /metrics/dora links an incident without an explicit
	// cause, marked suspected, to the latest successful deployment of its
	// service that finished within it before the incident started
	// (DORA_SUSPECT_WINDOW, a Go duration between 1m and 168h, default
	// dora.DefaultSuspectWindow, 4h).
	SuspectWindow time.Duration
	// DeployServices maps deployment sources (a CodePipeline pipeline's ARN
	// or name, a CodeDeploy deployment group's or application's ARN,
	// "application/group" or application name, a GitHub repository
	// "owner/name" or "owner/name@environment") to a service and an
	// optional environment (DEPLOY_SERVICES, a JSON object {"<source>":
	// {"service": "…", "environment": "…"}}; the stack builds it from
	// infra/services.json's deploy_sources). Kept as given and parsed by
	// the functions that read it (DeployTargets), so that a bad value stops
	// only the deploys function and the API's deployment routes.
	DeployServices string
	// AckLinkKey signs the acknowledge links of SNS pages (ACK_LINK_KEY, at
	// least 32 bytes); empty: pages carry no link and GET/POST /ack are
	// absent. Local only: in AWS the secret AckLinkSecretARN holds it
	// (README, "Acknowledge from the page").
	AckLinkKey string
	// AckLinkSecretARN names the Secrets Manager secret holding
	// ack_link_key (the platform's secret) (ACK_LINK_SECRET_ARN); when set,
	// it wins over ACK_LINK_KEY.
	AckLinkSecretARN string
	// AckLinkTTL is how long an acknowledge link works (ACK_LINK_TTL, a Go
	// duration between 5m and 168h, default 24h). Kept as given and parsed
	// by escalate (AckLinks): a bad value turns links off, never
	// paging.
	AckLinkTTL string
	// PublicAPIURL is the HTTP API's public base URL, which acknowledge
	// links start with (PUBLIC_API_URL, e.g. the stack's ApiUrl or a custom
	// domain); empty: pages carry no link.
	PublicAPIURL string
	// PostmortemBucket is the S3 bucket of post-mortem documents
	// (POSTMORTEM_BUCKET); empty: the postmortem function refuses to start
	// and GET /incidents/{id}/postmortem is absent (404).
	PostmortemBucket string
}

// Bounds of LOG_THRESHOLD and LOG_WINDOW.
const (
	maxLogThreshold = 100000
	minLogWindow    = time.Minute
	maxLogWindow    = 24 * time.Hour
)

// FromEnv reads the settings through getenv (os.Getenv in Lambda).
func FromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		Table:          strings.TrimSpace(getenv("TABLE_NAME")),
		DefaultService: strings.TrimSpace(getenv("DEFAULT_SERVICE")),
		ReopenWindow:   incident.DefaultReopenWindow,
		SuspectWindow:  dora.DefaultSuspectWindow,
		// Not trimmed: a secret is used exactly as given.
		SlackSigningSecret: getenv("SLACK_SIGNING_SECRET"),
		SlackBotToken:      strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		SlackSecretARN:     strings.TrimSpace(getenv("SLACK_SECRET_ARN")),
		// Not trimmed, as above.
		GitHubWebhookSecret: getenv("GITHUB_WEBHOOK_SECRET"),
		GitHubSecretARN:     strings.TrimSpace(getenv("GITHUB_SECRET_ARN")),
		DeployServices:      strings.TrimSpace(getenv("DEPLOY_SERVICES")),
		PostmortemBucket:    strings.TrimSpace(getenv("POSTMORTEM_BUCKET")),
		// Not trimmed: a secret is used exactly as given.
		AckLinkKey:       getenv("ACK_LINK_KEY"),
		AckLinkSecretARN: strings.TrimSpace(getenv("ACK_LINK_SECRET_ARN")),
		AckLinkTTL:       strings.TrimSpace(getenv("ACK_LINK_TTL")),
		PublicAPIURL:     strings.TrimSpace(getenv("PUBLIC_API_URL")),
		FallbackUser:     strings.TrimSpace(getenv("FALLBACK_USER")),
		PagingTopicARN:   strings.TrimSpace(getenv("PAGING_TOPIC_ARN")),
		StateMachineARN:  strings.TrimSpace(getenv("STATE_MACHINE_ARN")),

		IncidentEventsTopicARN: strings.TrimSpace(getenv("INCIDENT_EVENTS_TOPIC_ARN")),

		Stakeholders: splitList(getenv("STAKEHOLDERS")),
	}
	if s.Table == "" {
		return s, fmt.Errorf("TABLE_NAME is not set")
	}
	if s.DefaultService == "" {
		s.DefaultService = incident.DefaultServiceName
	}
	if err := incident.ValidateServiceName(s.DefaultService); err != nil {
		return s, fmt.Errorf("DEFAULT_SERVICE: %w", err)
	}
	if v := strings.TrimSpace(getenv("REOPEN_WINDOW")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 7*24*time.Hour {
			return s, fmt.Errorf("REOPEN_WINDOW %q is not a duration between 1m and 168h", v)
		}
		s.ReopenWindow = d
	}
	if v := strings.TrimSpace(getenv("DORA_SUSPECT_WINDOW")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 7*24*time.Hour {
			return s, fmt.Errorf("DORA_SUSPECT_WINDOW %q is not a duration between 1m and 168h", v)
		}
		s.SuspectWindow = d
	}
	if v := strings.TrimSpace(getenv("WATCHDOG_GRACE")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Hour {
			return s, fmt.Errorf("WATCHDOG_GRACE %q is not a duration between 1s and 1h", v)
		}
		s.WatchdogGrace = d
	}
	if v := strings.TrimSpace(getenv("PUBLIC_REPORTS")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("PUBLIC_REPORTS %q is not true or false", v)
		}
		s.PublicReports = b
	}
	if v := strings.TrimSpace(getenv("PUBLIC_STATUS")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("PUBLIC_STATUS %q is not true or false", v)
		}
		s.PublicStatus = b
	}
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		if err := s.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return s, fmt.Errorf("LOG_LEVEL %q is not debug, info, warn or error", v)
		}
	}
	s.LogThreshold = strings.TrimSpace(getenv("LOG_THRESHOLD"))
	s.LogWindow = strings.TrimSpace(getenv("LOG_WINDOW"))
	s.LogGroupServices = strings.TrimSpace(getenv("LOG_GROUP_SERVICES"))
	return s, nil
}

// splitList splits a comma-separated setting into its non-empty, trimmed items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// LogScan parses LOG_THRESHOLD and LOG_WINDOW; 0 for one unset (the logs
// function's default applies).
func (s Settings) LogScan() (threshold int, window time.Duration, err error) {
	if v := s.LogThreshold; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLogThreshold {
			return 0, 0, fmt.Errorf("LOG_THRESHOLD %q is not a whole number between 1 and %d", v, maxLogThreshold)
		}
		threshold = n
	}
	if v := s.LogWindow; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minLogWindow || d > maxLogWindow {
			return 0, 0, fmt.Errorf("LOG_WINDOW %q is not a duration between %s and %s (e.g. 5m)", v, minLogWindow, maxLogWindow)
		}
		window = d
	}
	return threshold, window, nil
}

// Rules are the incident service's rules these settings give.
func (s Settings) Rules() incident.Rules {
	return incident.Rules{DefaultService: s.DefaultService, ReopenWindow: s.ReopenWindow}
}

// Fallback is the platform's fallback target (FALLBACK_USER), or nil.
func (s Settings) Fallback() *oncall.Target {
	if s.FallbackUser == "" {
		return nil
	}
	return &oncall.Target{User: s.FallbackUser}
}

// Logger returns a JSON logger at the configured level, writing to w.
func (s Settings) Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: s.LogLevel}))
}

// Lambda is what every function's main builds once per cold start: the
// settings, the AWS configuration and the default JSON logger.
type Lambda struct {
	Settings
	AWS    aws.Config
	Logger *slog.Logger
}

// ForLambda reads the settings and the AWS configuration from the environment
// (AWSFromEnv: what the Lambda runtime sets) and installs the JSON logger (on
// stdout, where Lambda collects it) as slog's default.
func ForLambda() (Lambda, error) {
	s, err := FromEnv(os.Getenv)
	if err != nil {
		return Lambda{}, err
	}
	logger := s.Logger(os.Stdout)
	cfg, err := AWSFromEnv(os.Getenv, logger)
	if err != nil {
		return Lambda{}, err
	}
	slog.SetDefault(logger)
	return Lambda{Settings: s, AWS: cfg, Logger: logger}, nil
}

// SecretTimeout bounds one read of the Slack secret, SDK retries included.
const SecretTimeout = 5 * time.Second

// SlackSecretReader reads the Slack app's secret arn and returns its bot token
// and signing secret; secrets.SlackReader is the one of AWS. It is a function
// here, not the Secrets Manager client, so that this package (which every
// function links) links no Secrets Manager client: only the mains of the
// functions that read the secret do.
type SlackSecretReader func(ctx context.Context, arn string) (botToken, signingSecret string, err error)

// Slack returns the Slack app's bot token and signing secret: from the secret
// SLACK_SECRET_ARN, read with read, when it is set (in AWS), otherwise from
// SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (locally). Each call reads the
// secret anew, within SecretTimeout. The api, escalate and warroom functions
// call it once per cold start, beside their other clients; stream calls it
// through lifecycle.LazySlack, on the first Slack call an instance makes and
// again (at most once a second) while the read fails, then keeps the token.
// Either way a read that succeeded holds for the instance's life: a changed
// secret reaches the functions as their instances are replaced. Empty values
// turn the matching Slack feature off.
func (s Settings) Slack(ctx context.Context, read SlackSecretReader) (botToken, signingSecret string, err error) {
	if s.SlackSecretARN == "" {
		return s.SlackBotToken, s.SlackSigningSecret, nil
	}
	// Bounded: escalate pages by SNS after this, and Lambda's init phase is short.
	ctx, cancel := context.WithTimeout(ctx, SecretTimeout)
	defer cancel()
	botToken, signingSecret, err = read(ctx, s.SlackSecretARN)
	if err != nil {
		return "", "", fmt.Errorf("SLACK_SECRET_ARN: %w", err)
	}
	return botToken, signingSecret, nil
}

// GitHubSecretReader reads the GitHub webhook's secret arn;
// secrets.GitHubReader is the one of AWS (a function for the reason given at
// SlackSecretReader).
type GitHubSecretReader func(ctx context.Context, arn string) (webhookSecret string, err error)

// GitHub returns the GitHub webhook's secret: from the secret
// GITHUB_SECRET_ARN, read with read, when it is set (in AWS), otherwise
// GITHUB_WEBHOOK_SECRET (locally). The api function calls it once per cold
// start, like Slack. Empty turns POST /webhooks/github off.
func (s Settings) GitHub(ctx context.Context, read GitHubSecretReader) (string, error) {
	if s.GitHubSecretARN == "" {
		return s.GitHubWebhookSecret, nil
	}
	if read == nil {
		return "", fmt.Errorf("GITHUB_SECRET_ARN: this function does not read the GitHub secret")
	}
	ctx, cancel := context.WithTimeout(ctx, SecretTimeout)
	defer cancel()
	secret, err := read(ctx, s.GitHubSecretARN)
	if err != nil {
		return "", fmt.Errorf("GITHUB_SECRET_ARN: %w", err)
	}
	return secret, nil
}

// AckLinkSecretReader reads ack_link_key of the secret arn;
// secrets.AckLinkReader is the one of AWS (a function for the reason given
// at SlackSecretReader).
type AckLinkSecretReader func(ctx context.Context, arn string) (key string, err error)

// AckLinkSecret returns the key of acknowledge links: from the secret
// ACK_LINK_SECRET_ARN, read with read, when it is set (in AWS), otherwise
// ACK_LINK_KEY (locally). escalate and web call it once per cold start.
// Empty turns acknowledge links off.
func (s Settings) AckLinkSecret(ctx context.Context, read AckLinkSecretReader) (string, error) {
	if s.AckLinkSecretARN == "" {
		return s.AckLinkKey, nil
	}
	if read == nil {
		return "", fmt.Errorf("ACK_LINK_SECRET_ARN: this function does not read the ack link secret")
	}
	ctx, cancel := context.WithTimeout(ctx, SecretTimeout)
	defer cancel()
	key, err := read(ctx, s.AckLinkSecretARN)
	if err != nil {
		return "", fmt.Errorf("ACK_LINK_SECRET_ARN: %w", err)
	}
	return key, nil
}

// Bounds of ACK_LINK_TTL.
const (
	minAckLinkTTL = 5 * time.Minute
	maxAckLinkTTL = 7 * 24 * time.Hour
)

// AckLinks parses ACK_LINK_TTL (0 when unset: acklink.DefaultTTL) and
// PUBLIC_API_URL (an http or https URL without query or fragment).
func (s Settings) AckLinks() (baseURL string, ttl time.Duration, err error) {
	if v := s.AckLinkTTL; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minAckLinkTTL || d > maxAckLinkTTL {
			return "", 0, fmt.Errorf("ACK_LINK_TTL %q is not a duration between %s and %s (e.g. 24h)", v, minAckLinkTTL, maxAckLinkTTL)
		}
		ttl = d
	}
	if s.PublicAPIURL == "" {
		return "", ttl, fmt.Errorf("PUBLIC_API_URL is not set")
	}
	u, err := url.Parse(s.PublicAPIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", ttl, fmt.Errorf("PUBLIC_API_URL %q is not an http(s) URL such as https://abc123.execute-api.eu-west-1.amazonaws.com", s.PublicAPIURL)
	}
	return strings.TrimRight(s.PublicAPIURL, "/"), ttl, nil
}

// maxDeploySources bounds DEPLOY_SERVICES (Lambda's environment is 4 KB in all).
const maxDeploySources = 200

// DeployTargets parses DEPLOY_SERVICES: source → where it deploys. Empty is
// no source mapped (every CodePipeline, CodeDeploy and GitHub delivery is
// then acknowledged and ignored, and logged).
func (s Settings) DeployTargets() (deploy.StaticServices, error) {
	out := deploy.StaticServices{}
	if s.DeployServices == "" {
		return out, nil
	}
	dec := json.NewDecoder(strings.NewReader(s.DeployServices))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf(`DEPLOY_SERVICES is not a JSON object {"<source>": {"service": "…", "environment": "…"}}: %w`, err)
	}
	if len(out) > maxDeploySources {
		return nil, fmt.Errorf("DEPLOY_SERVICES maps %d sources, more than %d", len(out), maxDeploySources)
	}
	for src, t := range out {
		if strings.TrimSpace(src) == "" {
			return nil, fmt.Errorf("DEPLOY_SERVICES: an empty source")
		}
		if err := incident.ValidateServiceName(t.Service); err != nil {
			return nil, fmt.Errorf("DEPLOY_SERVICES: source %q: %w", src, err)
		}
		if t.Environment != "" {
			if err := incident.ValidateServiceName(t.Environment); err != nil {
				return nil, fmt.Errorf("DEPLOY_SERVICES: source %q: environment %q is not a valid name", src, t.Environment)
			}
		}
	}
	return out, nil
}
