package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/slack"
)

// envRun is one local platform of TestLocalReadsTheLambdasEnvironment, with
// what the test observes: pages, logs (the Slack recorder's calls among
// them) and both endpoints.
type envRun struct {
	p        *platform
	api      string
	invoke   string
	pages    *pageRecorder
	logs     *syncBuffer
	endpoint string
}

func startEnvRun(t *testing.T, env map[string]string) *envRun {
	t.Helper()
	table := fmt.Sprintf("env-%d-%d", os.Getpid(), tableSeq.Add(1))
	getenv := func(k string) string {
		if k == "TABLE_NAME" {
			return table
		}
		return env[k]
	}
	r := &envRun{pages: &pageRecorder{}, logs: &syncBuffer{}, endpoint: dynamotest.Endpoint(t)}
	level := new(slog.LevelVar)
	logger := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: level}))
	p, err := newPlatform(context.Background(), r.endpoint, getenv, logger,
		withPager(r.pages), withLogLevel(level), func(o *platformOptions) { o.out = &syncBuffer{} })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	api := httptest.NewServer(p.api)
	invoke := httptest.NewServer(&invokeServer{functions: p.functions, log: logger})
	t.Cleanup(func() { api.Close(); invoke.Close() })
	r.p, r.api, r.invoke = p, api.URL, invoke.URL
	return r
}

// TestLocalReadsTheLambdasEnvironment sets each variable the Lambdas read
// and observes its effect on the local platform, against the same platform
// without it: make local reads them as the functions do (package settings,
// through package wiring). Not here: TABLE_NAME (every run sets it),
// SLACK_BOT_TOKEN (real Slack), and the ARNs of AWS resources the local
// adapters stand in for (PAGING_TOPIC_ARN, STATE_MACHINE_ARN,
// INCIDENT_EVENTS_TOPIC_ARN, SLACK_SECRET_ARN).
func TestLocalReadsTheLambdasEnvironment(t *testing.T) {
	tests := []struct {
		name string
		// base is set in both runs; set only in the first.
		base, set map[string]string
		observe   func(t *testing.T, r *envRun) string
		want      string // with set
		wantUnset string // without
	}{
		{
			name:      "FALLBACK_USER pages for a service without a policy",
			set:       map[string]string{"FALLBACK_USER": "duty-manager"},
			observe:   fallbackPaged,
			want:      "duty-manager",
			wantUnset: "",
		},
		{
			name:      "STAKEHOLDERS are invited to the war room",
			set:       map[string]string{"STAKEHOLDERS": "U0STAKE1, U0STAKE2"},
			observe:   stakeholdersInvited,
			want:      "U0STAKE1,U0STAKE2",
			wantUnset: "",
		},
		{
			name:      "DEFAULT_SERVICE receives an unmapped alarm",
			set:       map[string]string{"DEFAULT_SERVICE": "platform-ops"},
			observe:   unmappedAlarmService,
			want:      "platform-ops",
			wantUnset: "unassigned", // infra/services.json's default_service, as the stack sets it
		},
		{
			name:      "REOPEN_WINDOW decides whether a report reopens an incident resolved 10 minutes ago",
			set:       map[string]string{"REOPEN_WINDOW": "5m"},
			observe:   reopenedAfterTenMinutes,
			want:      "new incident",
			wantUnset: "reopened", // 30m
		},
		{
			name:      "PUBLIC_REPORTS lets a report in without a token",
			set:       map[string]string{"PUBLIC_REPORTS": "true"},
			observe:   reportWithoutToken,
			want:      "202",
			wantUnset: "401",
		},
		{
			name:      "LOG_LEVEL filters the handlers' logs",
			set:       map[string]string{"LOG_LEVEL": "error"},
			observe:   infoLogged,
			want:      "no info lines",
			wantUnset: "info lines",
		},
		{
			name:      "LOG_THRESHOLD: two errors of one fingerprint open an incident",
			set:       map[string]string{"LOG_THRESHOLD": "2"},
			observe:   logIncidents("/aws/lambda/checkout-api", 0, 30*time.Second),
			want:      "1 on checkout",
			wantUnset: "0", // 5
		},
		{
			name:      "LOG_WINDOW: two errors 90 s apart count in different windows",
			base:      map[string]string{"LOG_THRESHOLD": "2"},
			set:       map[string]string{"LOG_WINDOW": "1m"},
			observe:   logIncidents("/aws/lambda/checkout-api", 30*time.Second, 2*time.Minute),
			want:      "0",
			wantUnset: "1 on checkout", // 5m
		},
		{
			name:      "LOG_GROUP_SERVICES maps a log group to a service",
			base:      map[string]string{"LOG_THRESHOLD": "1"},
			set:       map[string]string{"LOG_GROUP_SERVICES": `{"/custom/storefront-*": "search"}`},
			observe:   logIncidents("/custom/storefront-eu", 0, 0),
			want:      "1 on search",
			wantUnset: "1 on storefront-eu", // the naming convention
		},
		{
			name:      "SLACK_SIGNING_SECRET turns the Slack routes on",
			set:       map[string]string{"SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"},
			observe:   signedSlackCommand("8f742231b10e8888abcd99yyyzzz85a5"),
			want:      "200",
			wantUnset: "404",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			with := map[string]string{"LOCAL_TIME_SCALE": "3000"}
			without := map[string]string{"LOCAL_TIME_SCALE": "3000"}
			for k, v := range tt.base {
				with[k], without[k] = v, v
			}
			for k, v := range tt.set {
				with[k] = v
			}
			if got := tt.observe(t, startEnvRun(t, with)); got != tt.want {
				t.Errorf("with %v: got %q, want %q", tt.set, got, tt.want)
			}
			if got := tt.observe(t, startEnvRun(t, without)); got != tt.wantUnset {
				t.Errorf("without %v: got %q, want %q", tt.set, got, tt.wantUnset)
			}
		})
	}
}

// declare opens an incident through the API and returns its id.
func declare(t *testing.T, r *envRun, service string, sev incident.Severity) string {
	t.Helper()
	status, _, body := call(t, http.MethodPost, r.api+"/incidents", r.p.token,
		map[string]any{"service": service, "title": "Env test on " + service, "severity": sev})
	if status != http.StatusCreated {
		t.Fatalf("POST /incidents: got %d %s, want 201", status, body)
	}
	var inc incidentView
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

// fallbackPaged declares a SEV1 on payments, a demo service without a
// policy, and returns who was paged (comma-separated).
func fallbackPaged(t *testing.T, r *envRun) string {
	declare(t, r, "payments", incident.SEV1)
	var who []string
	for _, p := range r.pages.waitPages(1, 3*time.Second) {
		who = append(who, p.Responder)
	}
	return strings.Join(who, ",")
}

// stakeholdersInvited declares a SEV2 on checkout, waits for its war room's
// invitation (the demo policy's first level is always invited) and returns
// the invited users starting with U0STAKE, sorted.
func stakeholdersInvited(t *testing.T, r *envRun) string {
	declare(t, r, "checkout", incident.SEV2)
	var invited []string
	for end := time.Now().Add(5 * time.Second); invited == nil; time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(r.logs.String(), "\n") {
			var c struct {
				Msg    string   `json:"msg"`
				Method string   `json:"method"`
				Users  []string `json:"users"`
			}
			if json.Unmarshal([]byte(line), &c) != nil || c.Msg != "slack (local)" || c.Method != "conversations.invite" {
				continue
			}
			invited = append(invited, c.Users...)
		}
		if invited == nil && time.Now().After(end) {
			t.Fatalf("no war-room invitation within 5s")
		}
	}
	var stake []string
	for _, u := range invited {
		if strings.HasPrefix(u, "U0STAKE") {
			stake = append(stake, u)
		}
	}
	slices.Sort(stake)
	return strings.Join(slices.Compact(stake), ",")
}

// unmappedAlarmService sends an alarm no rule maps (no markers, a name of no
// service) and returns the service of the incident it opened.
func unmappedAlarmService(t *testing.T, r *envRun) string {
	fixture, err := os.ReadFile("../../events/alarms-eventbridge-metric.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(fixture, &ev); err != nil {
		t.Fatal(err)
	}
	const name = "mystery-latency"
	ev["resources"] = []string{"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:" + name}
	detail := ev["detail"].(map[string]any)
	detail["alarmName"] = name
	detail["configuration"].(map[string]any)["description"] = "No markers here"
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	invokeOK(t, r, "alarms", body)
	var services []string
	// The open ones: the demo data holds a resolved incident of checkout.
	for _, inc := range listIncidents(t, r.api, r.p.token, "status=open") {
		services = append(services, inc.Service)
	}
	return strings.Join(services, ",")
}

func invokeOK(t *testing.T, r *envRun, fn string, payload []byte) {
	t.Helper()
	status, hdr, body := call(t, http.MethodPost, r.invoke+"/2015-03-31/functions/"+fn+"/invocations", "", payload)
	if status != http.StatusOK || hdr.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke %s: got %d %q %s, want 200 without a function error", fn, status, hdr.Get("X-Amz-Function-Error"), body)
	}
}

// reopenedAfterTenMinutes opens a report incident on search and resolves it
// 10 minutes ago (through the store, with a clock set back), then reports
// again through the API: "reopened" when the report lands on the same
// incident, "new incident" otherwise.
func reopenedAfterTenMinutes(t *testing.T, r *envRun) string {
	ctx := context.Background()
	then := func() time.Time { return time.Now().Add(-10 * time.Minute) }
	store := dynamo.New(dynamolocal.Client(r.endpoint), r.p.settings.Table, dynamo.WithClock(then))
	past := incident.NewService(store, r.p.settings.Rules(), incident.WithClock(then))
	first, err := past.Report(ctx, incident.ReportInput{Service: "search", Summary: "Search is slow", ReporterName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := past.Resolve(ctx, first.IncidentID, "ana", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	status, _, body := call(t, http.MethodPost, r.api+"/reports", r.p.token, map[string]any{
		"service": "search", "summary": "Search is slow again", "reporter": map[string]string{"name": "Bo"},
	})
	if status != http.StatusAccepted {
		t.Fatalf("POST /reports: got %d %s, want 202", status, body)
	}
	var rep struct {
		IncidentID string `json:"incident_id"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.IncidentID == first.IncidentID {
		return "reopened"
	}
	return "new incident"
}

// reportWithoutToken returns the status of POST /reports without a token.
func reportWithoutToken(t *testing.T, r *envRun) string {
	status, _, _ := call(t, http.MethodPost, r.api+"/reports", "", map[string]any{
		"service": "checkout", "summary": "Checkout page times out",
		"reporter": map[string]string{"name": "Ana", "email": "ana@example.com"},
	})
	return strconv.Itoa(status)
}

// infoLogged sends a report and says whether anything logged at INFO.
func infoLogged(t *testing.T, r *envRun) string {
	reportWithToken(t, r)
	invokeOK(t, r, "alarms", mustRead(t, "../../events/alarms-sns-metric.json"))
	if strings.Contains(r.logs.String(), `"level":"INFO"`) {
		return "info lines"
	}
	return "no info lines"
}

func reportWithToken(t *testing.T, r *envRun) {
	t.Helper()
	status, _, body := call(t, http.MethodPost, r.api+"/reports", r.p.token, map[string]any{
		"service": "checkout", "summary": "Checkout page times out", "reporter": map[string]string{"name": "Ana"},
	})
	if status != http.StatusAccepted {
		t.Fatalf("POST /reports: got %d %s, want 202", status, body)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logIncidents sends one CloudWatch Logs batch of two identical JSON error
// lines of logGroup, at offsets a and b into the 5-minute window before the
// current one, and returns how many log incidents opened and on which
// service ("0", or "1 on checkout").
func logIncidents(logGroup string, a, b time.Duration) func(*testing.T, *envRun) string {
	return func(t *testing.T, r *envRun) string {
		window := time.Now().UTC().Truncate(5 * time.Minute).Add(-5 * time.Minute)
		var lines []events.CloudwatchLogsLogEvent
		for i, at := range []time.Duration{a, b} {
			lines = append(lines, events.CloudwatchLogsLogEvent{
				ID:        strconv.Itoa(i + 1),
				Timestamp: window.Add(at).UnixMilli(),
				Message:   `{"level":"ERROR","msg":"payment provider timed out"}`,
			})
		}
		data, err := json.Marshal(events.CloudwatchLogsData{
			Owner: "123456789012", LogGroup: logGroup, LogStream: "stream-1",
			SubscriptionFilters: []string{"incidentd"}, MessageType: "DATA_MESSAGE", LogEvents: lines,
		})
		if err != nil {
			t.Fatal(err)
		}
		var zipped bytes.Buffer
		zw := gzip.NewWriter(&zipped)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		payload, err := json.Marshal(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{
			Data: base64.StdEncoding.EncodeToString(zipped.Bytes()),
		}})
		if err != nil {
			t.Fatal(err)
		}
		invokeOK(t, r, "logs", payload)
		var services []string
		for _, inc := range listIncidents(t, r.api, r.p.token, "status=all") {
			if inc.Source == "log" {
				services = append(services, inc.Service)
			}
		}
		if len(services) == 0 {
			return "0"
		}
		return fmt.Sprintf("%d on %s", len(services), strings.Join(services, ","))
	}
}

// signedSlackCommand posts /incident help to POST /slack/commands, signed
// with secret, and returns the status.
func signedSlackCommand(secret string) func(*testing.T, *envRun) string {
	return func(t *testing.T, r *envRun) string {
		body := []byte("token=x&team_id=T0001&channel_id=C0001&user_id=U0ALICE&command=%2Fincident&text=help&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1&trigger_id=1.2.3")
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, err := http.NewRequest(http.MethodPost, r.api+"/slack/commands", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(slack.HeaderTimestamp, ts)
		req.Header.Set(slack.HeaderSignature, slack.Sign(secret, ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return strconv.Itoa(resp.StatusCode)
	}
}
