package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/text"
)

// fixtureIncidentID stands for an incident id in the paths of the
// events/api-*.json fixtures that act on an incident; replay puts the id of
// the incident api-post-incident.json declared in its place (README "Local
// development: replaying events/").
const fixtureIncidentID = "01jd0000000000000000000000"

// replayStep is one fixture of the documented order and the answer a fresh
// `make local` gives it: the HTTP status of an API event (its statusCode), or
// 200 without a function error for any other event. Note says why a step
// answers a 4xx: every 4xx of the replay is announced here and in the README.
type replayStep struct {
	File string
	Want int
	// Again, when set, is the answer of a later replay on the same platform
	// (a deletion of what make local seeded once: 404).
	Again int
	Note  string
}

// replayOrder is every fixture under events/, in the order that works on a
// fresh `make local`: configuration first (what later steps name), then the
// incident's life, the refusals the API is meant to give, the deployment and
// sender ingests, the pages, and the events of the other functions. Replaying
// it again on the same platform gives the same answers (a new incident is
// declared each time; the configuration fixtures put again what they delete).
var replayOrder = []replayStep{
	// On-call configuration, with names of its own: the demo data stays.
	{File: "api-put-user.json", Want: 200},
	{File: "api-put-schedule.json", Want: 200},
	{File: "api-get-schedule-ics.json", Want: 200},
	{File: "api-put-policy.json", Want: 200},
	{File: "api-put-service.json", Want: 200},
	{File: "api-get-service.json", Want: 200},
	{File: "api-get-oncall.json", Want: 200},
	// An incident's life: declared, then acted on through its id.
	{File: "api-post-report.json", Want: 202},
	{File: "api-list-incidents.json", Want: 200},
	{File: "api-post-incident.json", Want: 201, Note: "its id replaces " + fixtureIncidentID + " in the next steps"},
	{File: "api-get-incident.json", Want: 200},
	{File: "api-acknowledge.json", Want: 200},
	{File: "api-identify.json", Want: 200},
	{File: "api-note.json", Want: 201},
	{File: "api-patch-incident.json", Want: 200},
	{File: "api-resolve.json", Want: 200},
	// Refusals the API is meant to give.
	{File: "api-unauthorized.json", Want: 401, Note: "no token"},
	{File: "api-bad-body.json", Want: 400, Note: "an unknown field, named"},
	{File: "api-get-users.json", Want: 200},
	{File: "api-get-schedules.json", Want: 200},
	{File: "api-get-policies.json", Want: 200},
	{File: "api-delete-user.json", Want: 204, Again: 404, Note: "user leaver, seeded by make local to be deleted: a later replay finds it gone"},
	{File: "api-delete-schedule.json", Want: 204, Again: 404, Note: "schedule retired, seeded to be deleted"},
	{File: "api-delete-policy.json", Want: 204, Again: 404, Note: "policy retired, seeded to be deleted"},
	{File: "api-delete-service.json", Want: 204, Again: 404, Note: "service retired, seeded to be deleted"},
	{File: "api-slack-command.json", Want: 404, Note: "Slack's routes are off without SLACK_SIGNING_SECRET (with it: 401, the stored signature is stale)"},
	{File: "api-slack-interaction.json", Want: 404, Note: "as the command"},
	// GitHub's webhook, signed with make local's public dev secret.
	{File: "api-webhook-github-ping.json", Want: 202},
	{File: "api-webhook-github-pull-request-opened.json", Want: 202},
	{File: "api-webhook-github-pull-request-merged.json", Want: 202},
	{File: "api-webhook-github-deployment-in-progress.json", Want: 202},
	{File: "api-webhook-github-deployment-success.json", Want: 202},
	{File: "api-webhook-github-deployment-failure.json", Want: 202},
	{File: "api-webhook-github-tampered.json", Want: 401, Note: "a body that does not match its signature"},
	// The pages of the web function.
	{File: "web-get-status.json", Want: 200},
	{File: "web-get-metrics-dora.json", Want: 200},
	{File: "web-get-metrics-dora-history.json", Want: 200},
	// The PagerDuty- and Opsgenie-compatible senders: each trigger, then
	// its acknowledge or resolve.
	{File: "ingest-pagerduty-trigger.json", Want: 202},
	{File: "ingest-pagerduty-acknowledge.json", Want: 202},
	{File: "ingest-pagerduty-alertmanager-trigger.json", Want: 202},
	{File: "ingest-pagerduty-alertmanager-resolve.json", Want: 202},
	{File: "ingest-pagerduty-grafana-trigger.json", Want: 202},
	{File: "ingest-pagerduty-grafana-resolve.json", Want: 202},
	{File: "ingest-pagerduty-datadog-trigger.json", Want: 202},
	{File: "ingest-pagerduty-datadog-resolve.json", Want: 202},
	{File: "ingest-pagerduty-bad-key.json", Want: 403, Note: "an unknown routing key, in PagerDuty's error shape"},
	{File: "ingest-opsgenie-create.json", Want: 202},
	{File: "ingest-opsgenie-acknowledge.json", Want: 202},
	{File: "ingest-opsgenie-alertmanager-create.json", Want: 202},
	{File: "ingest-opsgenie-alertmanager-close.json", Want: 202},
	{File: "ingest-opsgenie-bad-key.json", Want: 401, Note: "an unknown GenieKey: Opsgenie's own answer"},
	// CloudWatch alarms, by each path they take.
	{File: "alarms-sns-metric.json", Want: 200},
	{File: "alarms-sns-metric-math.json", Want: 200},
	{File: "alarms-sns-composite.json", Want: 200},
	{File: "alarms-sns-ok.json", Want: 200},
	{File: "alarms-action.json", Want: 200},
	{File: "alarms-action-ok.json", Want: 200},
	{File: "alarms-eventbridge-metric.json", Want: 200},
	{File: "alarms-eventbridge-metric-math.json", Want: 200},
	{File: "alarms-eventbridge-composite.json", Want: 200},
	{File: "alarms-eventbridge-anomaly.json", Want: 200},
	{File: "alarms-eventbridge-insufficient-data.json", Want: 200},
	{File: "alarms-eventbridge-muted.json", Want: 200},
	{File: "alarms-eventbridge-config-change.json", Want: 200},
	// Log lines.
	{File: "logs-json-errors.json", Want: 200},
	{File: "logs-text-errors.json", Want: 200},
	{File: "logs-below-threshold.json", Want: 200},
	{File: "logs-control.json", Want: 200},
	// CodePipeline and CodeDeploy.
	{File: "deploys-codepipeline-started.json", Want: 200},
	{File: "deploys-codepipeline-succeeded.json", Want: 200},
	{File: "deploys-codepipeline-failed.json", Want: 200},
	{File: "deploys-codepipeline-superseded.json", Want: 200},
	{File: "deploys-codedeploy-start.json", Want: 200},
	{File: "deploys-codedeploy-ready.json", Want: 200},
	{File: "deploys-codedeploy-success.json", Want: 200},
	{File: "deploys-codedeploy-failure.json", Want: 200},
	{File: "deploys-codedeploy-stop.json", Want: 200},
	// What Step Functions, the stream, SNS and the schedules hand the other
	// functions (their incident ids are the fixtures' own: handled as AWS
	// would, without a function error).
	{File: "dora-scheduled.json", Want: 200},
	{File: "watchdog-schedule.json", Want: 200},
	{File: "escalate-page.json", Want: 200},
	{File: "warroom-open.json", Want: 200},
	{File: "stream-incident-opened.json", Want: 200},
	{File: "stream-entry-acknowledged.json", Want: 200},
	{File: "stream-signal-pending.json", Want: 200},
	{File: "postmortem-resolved.json", Want: 200},
	// CloudFormation's custom resource (the services file at deploy): make
	// local answers its response URL itself (a CLOUDFORMATION line).
	{File: "seed-create.json", Want: 200},
	{File: "seed-delete.json", Want: 200},
	// A page's acknowledge link, signed for the fixtures' incident id, which
	// a fresh make local does not have (the token is signed: the replay
	// cannot put its own incident's id in).
	{File: "web-get-ack.json", Want: 404, Note: "the link's incident is not on this platform: the link's \"not found\" page"},
	{File: "web-post-ack.json", Want: 404, Note: "the same: nothing is acknowledged"},
}

// replayResult is one step's answer.
type replayResult struct {
	Step   replayStep
	Status int
	// FunctionError is the X-Amz-Function-Error header.
	FunctionError string
	Body          string
}

// OK reports whether the step answered as announced (a first replay's or a
// later one's).
func (r replayResult) OK() bool {
	return (r.Status == r.Step.Want || r.Step.Again != 0 && r.Status == r.Step.Again) && r.FunctionError == ""
}

// replay posts each fixture of order to its function on the invoke endpoint
// (POST /2015-03-31/functions/<name>/invocations, <name> the file's prefix)
// and writes one line per fixture to w. It returns the results; an error
// only when the endpoint cannot be reached or a fixture cannot be read.
func replay(ctx context.Context, w io.Writer, invoke, eventsDir string, order []replayStep) ([]replayResult, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	incidentID := ""
	var results []replayResult
	for _, st := range order {
		raw, err := os.ReadFile(filepath.Join(eventsDir, st.File))
		if err != nil {
			return results, fmt.Errorf("read fixture: %w", err)
		}
		if incidentID != "" {
			raw = []byte(strings.ReplaceAll(string(raw), fixtureIncidentID, incidentID))
		}
		fn, _, _ := strings.Cut(st.File, "-")
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, invoke+"/2015-03-31/functions/"+fn+"/invocations", strings.NewReader(string(raw)))
		if err != nil {
			return results, fmt.Errorf("%s: %w", st.File, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return results, fmt.Errorf("%s: is make local running? %w", st.File, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return results, fmt.Errorf("%s: read the answer: %w", st.File, err)
		}
		r := replayResult{Step: st, Status: resp.StatusCode, FunctionError: resp.Header.Get("X-Amz-Function-Error"), Body: string(body)}
		// An API event's answer is API Gateway's response: its statusCode.
		var api struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if resp.StatusCode == http.StatusOK && r.FunctionError == "" && json.Unmarshal(body, &api) == nil && api.StatusCode != 0 {
			r.Status, r.Body = api.StatusCode, api.Body
		}
		if st.File == "api-post-incident.json" && r.Status == http.StatusCreated {
			var inc struct {
				ID string `json:"id"`
			}
			if json.Unmarshal([]byte(r.Body), &inc) == nil && inc.ID != "" {
				incidentID = inc.ID
			}
		}
		results = append(results, r)
		fmt.Fprintln(w, replayLine(r))
	}
	return results, nil
}

func replayLine(r replayResult) string {
	mark := "ok  "
	if !r.OK() {
		mark = "FAIL"
	}
	line := fmt.Sprintf("%s %d  %s", mark, r.Status, r.Step.File)
	switch {
	case r.FunctionError != "":
		line += fmt.Sprintf("  function error: %s", clip(r.Body, 200))
	case !r.OK():
		line += fmt.Sprintf("  want %d: %s", r.Step.Want, clip(r.Body, 200))
	case r.Step.Note != "":
		line += "  (" + r.Step.Note + ")"
	}
	return line
}

// clip is s trimmed, its first n bytes.
func clip(s string, n int) string {
	return text.Clip(strings.TrimSpace(s), n, "…", text.MarkExtra)
}

// runReplay is `go run ./infra/local replay` (`make replay`): every fixture
// of events/ against a running `make local`, in replayOrder. It exits 1 when
// a fixture answered other than announced.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := os.Getenv("LOCAL_LAMBDA_PORT")
	if port == "" {
		port = "3001"
	}
	invoke := fs.String("invoke", "http://127.0.0.1:"+port, "the Lambda invoke endpoint of make local (LOCAL_LAMBDA_PORT)")
	dir := fs.String("events", "", "the folder of the fixtures (default: events/ of this module)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./infra/local replay [flags]\n\n"+
			"Replays every fixture of events/ against a running make local, in the order of the\n"+
			"README's \"Replaying events/\", one line each with its answer; exits 1 if one answered\n"+
			"other than the README announces.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *dir == "" {
		root, err := dynamolocal.ModuleRoot()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		*dir = filepath.Join(root, "events")
	}
	results, err := replay(ctx, stdout, *invoke, *dir, replayOrder)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	failed := 0
	for _, r := range results {
		if !r.OK() {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d fixtures answered other than announced\n", failed, len(results))
		return 1
	}
	fmt.Fprintf(stdout, "%d fixtures, each answered as announced (README \"Replaying events/\")\n", len(results))
	return 0
}
