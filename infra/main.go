// Command infra is the incidentd CDK app: `cdk synth` and `cdk deploy` run it
// (cdk.json: "go run ./infra") from the repository root.
//
// Context values (cdk.json or -c key=value):
//
//	services           path of the services file, relative to the module root (infra/services.json;
//	                   the documented example: infra/services.example.json)
//	logLevel           LOG_LEVEL of every function: debug, info, warn, error (info)
//	tracing            X-Ray active tracing for every function (false)
//	publicReports      PUBLIC_REPORTS: POST /reports without a token (false)
//	apiRateLimit       API stage steady requests per second (50)
//	apiBurstLimit      API stage burst (100)
//	reopenWindow       REOPEN_WINDOW of every function, a Go duration (30m)
//	doraDashboard      the CloudWatch dashboard of the DORA metrics ($3 a month beyond an account's first three;
//	                   the DORA report page, GET /metrics/dora, shows the trends without it) (false)
//	doraSuspectWindow  DORA_SUSPECT_WINDOW of every function, a Go duration, 1m to 168h (4h)
//	fallbackUser       FALLBACK_USER of escalate: the responder paged when a policy has no fallback ("")
//	stakeholders       STAKEHOLDERS of warroom: comma-separated Slack user ids invited to every war room ("")
//	pagingConcurrency  concurrency reserved for each of alarms, stream and escalate; 0 for none (10)
//	indexUpgradeStep   a step (1-5) of upgrading a table made before the indexes changed (infra/README.md); 0 for none (0)
//	ackLinkTtl         ACK_LINK_TTL of escalate: how long a page's acknowledge link works, 5m to 168h (24h)
//	publicApiUrl       PUBLIC_API_URL of escalate: the base of acknowledge links, e.g. a custom domain (the HTTP API's URL)
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/gobuild"
	"github.com/incidentd/incidentd/infra/services"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/settings"
)

// StackName is the CloudFormation stack cdk deploys.
const StackName = "Incidentd"

// DefaultServicesFile is the context value services when it is absent: a
// file that names nothing outside the stack, so that a first deploy into an
// empty account succeeds (README, "First deploy").
const DefaultServicesFile = "infra/services.json"

// DefaultPagingConcurrency is the context value pagingConcurrency when it is
// absent: reserved for each function of PagingPath (infra/README.md,
// "Reserved concurrency", for the sizing and the account's quota).
const DefaultPagingConcurrency = 10

// DefaultDORASuspectWindow is the context value doraSuspectWindow when it is
// absent (dora.DefaultSuspectWindow, written out for the template).
const DefaultDORASuspectWindow = "4h"

func main() {
	if err := synth(); err != nil {
		// No jsii.Close here: after an error thrown in the CDK the jsii kernel
		// answers Close with a Node EPIPE trace that buries this message. The
		// kernel exits on its own when this process does.
		log.Fatalf("incidentd infra: %v", err)
	}
	jsii.Close()
}

// synth builds and synthesizes the app. An error thrown inside the CDK (a
// function that does not compile, an invalid construct) reaches Go as a panic
// of the jsii runtime; it is reported like any other error, after the Go
// compiler's own output, rather than as a stack trace.
func synth() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth: %v", r)
		}
	}()
	app := awscdk.NewApp(nil)
	props, err := stackProps(app)
	if err != nil {
		return err
	}
	// What the services file makes the stack reference outside it, for the
	// deployer to check before a deploy fails on it.
	if err := services.ReportOutside(os.Stderr, props.ServicesFile, props.Services.OutsideResources()); err != nil {
		return err
	}
	NewStack(app, StackName, props)
	Check(app)
	app.Synth(nil)
	return nil
}

// stackProps reads the stack's configuration from the app's context and the
// services file. The stack is environment-agnostic: it synthesizes without
// credentials, and deploys into whatever account and region the CLI targets.
func stackProps(app awscdk.App) (*StackProps, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	}
	root, err := gobuild.ModuleRoot(wd)
	if err != nil {
		return nil, err
	}
	ctx := appContext{app}
	path := filepath.ToSlash(filepath.Clean(ctx.str("services", DefaultServicesFile)))
	cfg, err := services.Load(filepath.Join(root, filepath.FromSlash(path)))
	if err != nil {
		return nil, err
	}
	props := &StackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("incidentd: incident response platform (detection, HTTP API, escalation)"),
		},
		ModuleRoot:   root,
		Services:     cfg,
		ServicesFile: path,
		LogLevel:     ctx.str("logLevel", "info"),
	}
	if err := function.CheckLogLevel(props.LogLevel); err != nil {
		return nil, fmt.Errorf("context logLevel: %w", err)
	}
	props.FallbackUser = ctx.str("fallbackUser", "")
	props.Stakeholders = ctx.str("stakeholders", "")
	props.ReopenWindow = ctx.str("reopenWindow", "30m")
	props.DORASuspectWindow = ctx.str("doraSuspectWindow", DefaultDORASuspectWindow)
	// Each checked as the functions will read it.
	for key, env := range map[string]map[string]string{
		"reopenWindow":      {"REOPEN_WINDOW": props.ReopenWindow},
		"doraSuspectWindow": {"DORA_SUSPECT_WINDOW": props.DORASuspectWindow},
	} {
		env["TABLE_NAME"] = "check"
		if _, err := settings.FromEnv(func(k string) string { return env[k] }); err != nil {
			return nil, fmt.Errorf("context %s: %w", key, err)
		}
	}
	// Acknowledge links (README "Acknowledge from the page"), checked as
	// escalate reads them.
	props.AckLinkTTL = ctx.str("ackLinkTtl", "")
	props.PublicAPIURL = ctx.str("publicApiUrl", "")
	check := settings.Settings{AckLinkTTL: props.AckLinkTTL, PublicAPIURL: props.PublicAPIURL}
	if check.PublicAPIURL == "" {
		check.PublicAPIURL = "https://api.example" // the stack's own URL
	}
	if _, _, err := check.AckLinks(); err != nil {
		return nil, fmt.Errorf("context ackLinkTtl or publicApiUrl: %w", err)
	}
	if props.Tracing, err = ctx.bool("tracing", false); err != nil {
		return nil, err
	}
	if props.PublicReports, err = ctx.bool("publicReports", false); err != nil {
		return nil, err
	}
	if props.DORADashboard, err = ctx.bool("doraDashboard", false); err != nil {
		return nil, err
	}
	if props.PublicStatus, err = ctx.bool("publicStatus", false); err != nil {
		return nil, err
	}
	if props.RateLimit, err = ctx.number("apiRateLimit"); err != nil {
		return nil, err
	}
	if props.BurstLimit, err = ctx.number("apiBurstLimit"); err != nil {
		return nil, err
	}
	if props.PagingConcurrency, err = ctx.count("pagingConcurrency", DefaultPagingConcurrency); err != nil {
		return nil, err
	}
	if props.IndexUpgradeStep, err = ctx.count("indexUpgradeStep", 0); err != nil {
		return nil, err
	}
	if props.IndexUpgradeStep > dynamo.UpgradeSteps {
		return nil, fmt.Errorf("context indexUpgradeStep: %d is not a step from 1 to %d (0: none)", props.IndexUpgradeStep, dynamo.UpgradeSteps)
	}
	return props, nil
}

// appContext reads context values, which arrive as JSON values from cdk.json and as
// strings from -c on the command line.
type appContext struct{ app awscdk.App }

func (c appContext) get(key string) any {
	return c.app.Node().TryGetContext(jsii.String(key))
}

func (c appContext) str(key, def string) string {
	switch v := c.get(key).(type) {
	case nil:
		return def
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func (c appContext) bool(key string, def bool) (bool, error) {
	switch v := c.get(key).(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("context %s: %q is not true or false", key, v)
		}
		return b, nil
	default:
		return false, fmt.Errorf("context %s: %v is not true or false", key, v)
	}
}

// number reads a non-negative number; absent is 0.
func (c appContext) number(key string) (float64, error) {
	var n float64
	switch v := c.get(key).(type) {
	case nil:
		return 0, nil
	case float64:
		n = v
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("context %s: %q is not a number", key, v)
		}
		n = f
	default:
		return 0, fmt.Errorf("context %s: %v is not a number", key, v)
	}
	if n < 0 {
		return 0, fmt.Errorf("context %s: %v must not be negative", key, n)
	}
	return n, nil
}

// count reads a non-negative whole number; absent is def.
func (c appContext) count(key string, def int) (int, error) {
	if c.get(key) == nil {
		return def, nil
	}
	n, err := c.number(key)
	if err != nil {
		return 0, err
	}
	if n != float64(int(n)) {
		return 0, fmt.Errorf("context %s: %v is not a whole number", key, n)
	}
	return int(n), nil
}
