package alarms

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// fixtureDir holds the sample events, shared with `sam local invoke -e`.
const fixtureDir = "../../events"

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}

// alarmFixtures lists every alarms-*.json fixture.
func alarmFixtures(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "alarms-*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no alarms-*.json fixtures in %s (err %v)", fixtureDir, err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// parseFixture parses a fixture with the parser its name says.
func parseFixture(tb testing.TB, name string) (Notification, error) {
	tb.Helper()
	b := readFixture(tb, name)
	switch {
	case strings.HasPrefix(name, "alarms-sns-"):
		var ev events.SNSEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			tb.Fatalf("%s: decode SNS event: %v", name, err)
		}
		if len(ev.Records) != 1 {
			tb.Fatalf("%s: got %d records, want 1", name, len(ev.Records))
		}
		return ParseSNSRecord(ev.Records[0])
	case strings.HasPrefix(name, "alarms-eventbridge-"):
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			tb.Fatalf("%s: decode EventBridge event: %v", name, err)
		}
		return ParseEvent(ev)
	case strings.HasPrefix(name, "alarms-action"):
		return ParseAction(b)
	}
	tb.Fatalf("%s: no parser for this fixture", name)
	return Notification{}, nil
}

// parsed is what the tests compare of a Notification.
type parsed struct {
	Path                Path
	EnvelopeID          string
	AlarmName, AlarmARN string
	Account, Region     string
	State, Previous     string
	StateChangedAt      time.Time
	Kind                Kind
	Metric, AlarmRule   string
	Children            []string
	SuppressedBy        string
	Suppressor          string
	MutedBy             string
	Warnings            []string
}

func summary(n Notification) parsed {
	return parsed{
		Path: n.Path, EnvelopeID: n.EnvelopeID, AlarmName: n.AlarmName, AlarmARN: n.AlarmARN,
		Account: n.Account, Region: n.Region, State: n.State, Previous: n.PreviousState,
		StateChangedAt: n.StateChangedAt, Kind: n.Kind, Metric: n.Metric, AlarmRule: n.AlarmRule,
		Children: n.Children, SuppressedBy: n.ActionsSuppressedBy, Suppressor: n.ActionsSuppressor,
		MutedBy: n.MutedBy, Warnings: n.Warnings,
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func arn(name string) string { return "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:" + name }

const checkoutLB = "{LoadBalancer=app/checkout-prod/50dc6c495c0c9188}"

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file string
		want parsed
		// wantDescription and wantReason are prefixes of the description and reason.
		wantDescription, wantReason string
	}{
		{
			file: "alarms-sns-metric.json",
			want: parsed{Path: PathSNS, EnvelopeID: "3f4c2a1e-7b8d-5e9f-a0b1-c2d3e4f5a6b7",
				AlarmName: "checkout-cpu", AlarmARN: arn("checkout-cpu"), Account: "123456789012", Region: "eu-west-1",
				State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T09:15:42.518Z"), Kind: KindMetric,
				Metric: "AWS/ECS CPUUtilization {ClusterName=prod, ServiceName=checkout} Average/60s"},
			wantDescription: "CPU of the checkout ECS service above 80%",
			wantReason:      "Threshold Crossed: 3 out of the last 3 datapoints",
		},
		{
			file: "alarms-sns-metric-math.json",
			want: parsed{Path: PathSNS, EnvelopeID: "5b0e9f13-2c4d-5a6b-8e7f-9a0b1c2d3e4f",
				AlarmName: "checkout-5xx-rate", AlarmARN: arn("checkout-5xx-rate"), Account: "123456789012", Region: "eu-west-1",
				State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T09:21:07.902Z"), Kind: KindMetricMath,
				Metric: "100*(m1/m2) (5xx rate (%)) where m1 = AWS/ApplicationELB HTTPCode_Target_5XX_Count " + checkoutLB +
					" Sum/60s; m2 = AWS/ApplicationELB RequestCount " + checkoutLB + " Sum/60s"},
			wantDescription: "Share of checkout requests",
			wantReason:      "Threshold Crossed: 2 out of the last 2 datapoints",
		},
		{
			file: "alarms-sns-composite.json",
			want: parsed{Path: PathSNS, EnvelopeID: "c7e3b2a9-4d5f-5e6a-b7c8-d9e0f1a2b3c4",
				AlarmName: "payments-degraded", AlarmARN: arn("payments-degraded"), Account: "123456789012", Region: "eu-west-1",
				State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T10:02:11.380Z"), Kind: KindComposite,
				AlarmRule: `ALARM("payments-latency-p99") OR ALARM("payments-5xx-rate")`,
				Children:  []string{"payments-latency-p99 (ALARM)"}},
			wantDescription: "Payments is degraded",
			wantReason:      arn("payments-latency-p99") + " transitioned to ALARM",
		},
		{
			file: "alarms-sns-ok.json",
			want: parsed{Path: PathSNS, EnvelopeID: "a81d7c52-0f3e-5b6a-9c4d-1e2f3a4b5c6d",
				AlarmName: "checkout-cpu", AlarmARN: arn("checkout-cpu"), Account: "123456789012", Region: "eu-west-1",
				State: StateOK, Previous: StateAlarm, StateChangedAt: at("2026-11-23T09:41:42.604Z"), Kind: KindMetric,
				Metric: "AWS/ECS CPUUtilization {ClusterName=prod, ServiceName=checkout} Average/60s"},
			wantDescription: "CPU of the checkout ECS service",
			wantReason:      "Threshold Crossed: 3 out of the last 3 datapoints [41.96",
		},
		{
			file: "alarms-eventbridge-metric.json",
			want: parsed{Path: PathEventBridge, EnvelopeID: "8f2d6a1c-3b4e-7f50-9a6b-2c1d0e9f8a7b",
				AlarmName: "checkout-cpu", AlarmARN: arn("checkout-cpu"), Account: "123456789012", Region: "eu-west-1",
				State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T09:15:42.518Z"), Kind: KindMetric,
				Metric: "AWS/ECS CPUUtilization {ClusterName=prod, ServiceName=checkout} Average/60s"},
			wantDescription: "CPU of the checkout ECS service above 80%",
			wantReason:      "Threshold Crossed: 3 out of the last 3 datapoints",
		},
		{
			file: "alarms-eventbridge-metric-math.json",
			want: parsed{Path: PathEventBridge, EnvelopeID: "1a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
				AlarmName: "HighErrorRate-OrderProcessor", AlarmARN: arn("HighErrorRate-OrderProcessor"), Account: "123456789012",
				Region: "eu-west-1", State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T11:36:20.121Z"),
				Kind: KindMetricMath,
				Metric: "100*(m1/m2) (Error rate (%)) where m1 = AWS/Lambda Errors {FunctionName=order-processor} Sum/60s; " +
					"m2 = AWS/Lambda Invocations {FunctionName=order-processor} Sum/60s"},
			wantDescription: "Error rate of the order-processor Lambda",
			wantReason:      "Threshold Crossed: 1 out of the last 1 datapoints [8.33",
		},
		{
			file: "alarms-eventbridge-anomaly.json",
			want: parsed{Path: PathEventBridge, EnvelopeID: "d4e5f6a7-b8c9-4d0e-1f2a-3b4c5d6e7f80",
				AlarmName: "checkout-latency-p99", AlarmARN: arn("checkout-latency-p99"), Account: "123456789012",
				Region: "eu-west-1", State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T12:10:04.653Z"),
				Kind: KindAnomaly,
				Metric: "ANOMALY_DETECTION_BAND(m1, 2) (TargetResponseTime (expected)) where m1 = AWS/ApplicationELB TargetResponseTime " +
					checkoutLB + " p99/60s"},
			wantDescription: "p99 response time of checkout",
			wantReason:      "Thresholds Crossed:",
		},
		{
			file: "alarms-eventbridge-composite.json",
			want: parsed{Path: PathEventBridge, EnvelopeID: "e9f8a7b6-c5d4-4e3f-2a1b-0c9d8e7f6a5b",
				AlarmName: "checkout-degraded", AlarmARN: arn("checkout-degraded"), Account: "123456789012",
				Region: "eu-west-1", State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T13:04:51.290Z"),
				Kind: KindComposite, AlarmRule: `ALARM("checkout-cpu") AND ALARM("checkout-5xx-rate")`,
				Children:     []string{"checkout-5xx-rate (ALARM)", "checkout-cpu (ALARM)"},
				SuppressedBy: "Alarm", Suppressor: "checkout-maintenance"},
			wantDescription: "Checkout degraded",
			wantReason:      arn("checkout-5xx-rate") + " transitioned to ALARM",
		},
		{
			file: "alarms-eventbridge-muted.json",
			want: parsed{Path: PathEventBridge, EnvelopeID: "0b1c2d3e-4f5a-4b6c-7d8e-9f0a1b2c3d4e",
				AlarmName: "search-cpu", AlarmARN: arn("search-cpu"), Account: "123456789012",
				Region: "eu-west-1", State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T02:31:05.117Z"),
				Kind:    KindMetric,
				Metric:  "AWS/ES CPUUtilization {ClientId=123456789012, DomainName=search-prod} Maximum/300s",
				MutedBy: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm-mute-rule:search-weekly-reindex"},
			wantDescription: "CPU of the search cluster",
			wantReason:      "Threshold Crossed: 1 out of the last 1 datapoints [97.0",
		},
		{
			file: "alarms-action.json",
			want: parsed{Path: PathAction, EnvelopeID: hashHex(readFixture(t, "alarms-action.json")),
				AlarmName: "nightly-export-failures", AlarmARN: arn("nightly-export-failures"), Account: "123456789012",
				Region: "eu-west-1", State: StateAlarm, Previous: StateOK, StateChangedAt: at("2026-11-23T03:05:31.250Z"),
				Kind: KindMetric, Metric: "Custom/Batch ExportFailures {JobName=nightly-export} Sum/300s"},
			wantDescription: "The nightly export job",
			wantReason:      "Threshold Crossed: 1 out of the last 1 datapoints [17.0",
		},
		{
			file: "alarms-action-ok.json",
			want: parsed{Path: PathAction, EnvelopeID: hashHex(readFixture(t, "alarms-action-ok.json")),
				AlarmName: "nightly-export-failures", AlarmARN: arn("nightly-export-failures"), Account: "123456789012",
				Region: "eu-west-1", State: StateOK, Previous: StateAlarm, StateChangedAt: at("2026-11-23T03:35:31.411Z"),
				Kind: KindMetric, Metric: "Custom/Batch ExportFailures {JobName=nightly-export} Sum/300s"},
			wantDescription: "The nightly export job",
			wantReason:      "Threshold Crossed: 1 out of the last 1 datapoints [0.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			n, err := parseFixture(t, tt.file)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got := summary(n); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if !strings.HasPrefix(n.Description, tt.wantDescription) {
				t.Errorf("got description %q, want it to start with %q", n.Description, tt.wantDescription)
			}
			if !strings.HasPrefix(n.Reason, tt.wantReason) {
				t.Errorf("got reason %q, want it to start with %q", n.Reason, tt.wantReason)
			}
		})
	}
}

// Every fixture is either parsed into a notification or knowingly skipped.
func TestParseFixturesCoverEveryFile(t *testing.T) {
	skipped := map[string]bool{"alarms-eventbridge-config-change.json": true}
	for _, name := range alarmFixtures(t) {
		n, err := parseFixture(t, name)
		switch {
		case skipped[name] && !errors.Is(err, ErrNotAlarm):
			t.Errorf("%s: got error %v, want ErrNotAlarm", name, err)
		case !skipped[name] && err != nil:
			t.Errorf("%s: got error %v, want none", name, err)
		case !skipped[name] && (n.AlarmName == "" || n.StateChangedAt.IsZero()):
			t.Errorf("%s: got name %q and state time %v, want both", name, n.AlarmName, n.StateChangedAt)
		}
	}
}

func snsRecord(msgType, message string) events.SNSEventRecord {
	return events.SNSEventRecord{EventSource: "aws:sns", SNS: events.SNSEntity{
		Type: msgType, MessageID: "11111111-2222-3333-4444-555555555555", Message: message,
		TopicArn: "arn:aws:sns:eu-west-1:123456789012:incidentd-AlarmTopic",
	}}
}

func TestParseSNSRecordRejects(t *testing.T) {
	tests := []struct {
		name        string
		rec         events.SNSEventRecord
		wantNotAlrm bool
	}{
		{"subscription confirmation", snsRecord("SubscriptionConfirmation", `{"Type":"SubscriptionConfirmation"}`), true},
		{"plain text", snsRecord("Notification", "Hello from SNS!"), true},
		{"empty", snsRecord("Notification", ""), true},
		{"other JSON", snsRecord("Notification", `{"deployment":"checkout","status":"succeeded"}`), true},
		{"JSON array", snsRecord("Notification", `[{"AlarmName":"x"}]`), true},
		{"wrong types", snsRecord("Notification", `{"AlarmName":42,"NewStateValue":"ALARM"}`), true},
		{"no state", snsRecord("Notification", `{"AlarmName":"checkout-cpu"}`), true},
		{"no name", snsRecord("Notification", `{"NewStateValue":"ALARM"}`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSNSRecord(tt.rec)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if got := errors.Is(err, ErrNotAlarm); got != tt.wantNotAlrm {
				t.Errorf("got errors.Is(err, ErrNotAlarm) = %v (%v), want %v", got, err, tt.wantNotAlrm)
			}
		})
	}
}

// A Trigger of an unexpected shape costs the metric summary, not the page.
func TestParseSNSUnexpectedTrigger(t *testing.T) {
	msg := `{"AlarmName":"checkout-cpu","NewStateValue":"ALARM","StateChangeTime":"2026-11-23T09:15:42.518+0000",` +
		`"AlarmArn":"` + arn("checkout-cpu") + `","Trigger":{"Period":"sixty","MetricName":"CPUUtilization"}}`
	n, err := ParseSNSRecord(snsRecord("Notification", msg))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if n.State != StateAlarm || n.AlarmName != "checkout-cpu" || n.Metric != "" {
		t.Errorf("got state %q name %q metric %q, want ALARM, checkout-cpu and no metric", n.State, n.AlarmName, n.Metric)
	}
	if len(n.Warnings) != 1 || !strings.HasPrefix(n.Warnings[0], "trigger unreadable") {
		t.Errorf("got warnings %q, want one about the trigger", n.Warnings)
	}
}

// Without an alarm ARN, the region comes from the topic's ARN and the
// identity from account, region and name.
func TestParseSNSWithoutARN(t *testing.T) {
	msg := `{"AlarmName":"checkout-cpu","AWSAccountId":"123456789012","NewStateValue":"ALARM",` +
		`"StateChangeTime":"2026-11-23T09:15:42.518+0000","Region":"EU (Ireland)"}`
	n, err := ParseSNSRecord(snsRecord("Notification", msg))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if got, want := n.Identity(), "123456789012/eu-west-1/checkout-cpu"; got != want {
		t.Errorf("got identity %q, want %q", got, want)
	}
}

// SNS composite notifications as the documentation shows them: children as
// plain strings.
func TestParseSNSCompositeChildrenAsStrings(t *testing.T) {
	msg := `{"AlarmName":"payments-degraded","NewStateValue":"ALARM","StateChangeTime":"2026-11-23T10:02:11.380+0000",` +
		`"AlarmArn":"` + arn("payments-degraded") + `","AlarmRule":"ALARM(a)","TriggeringChildren":["` + arn("payments-5xx") + `"]}`
	n, err := ParseSNSMessage(msg)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if n.Kind != KindComposite || !reflect.DeepEqual(n.Children, []string{"payments-5xx"}) {
		t.Errorf("got kind %q children %q, want composite [payments-5xx]", n.Kind, n.Children)
	}
}

func TestParseEventIgnoresOtherDetailTypes(t *testing.T) {
	for _, dt := range []string{"CloudWatch Alarm Configuration Change", "CloudWatch Alarm Contributor State Change", ""} {
		_, err := ParseEvent(events.CloudWatchEvent{DetailType: dt, Source: "aws.cloudwatch", Detail: json.RawMessage(`{}`)})
		if !errors.Is(err, ErrNotAlarm) {
			t.Errorf("detail-type %q: got error %v, want ErrNotAlarm", dt, err)
		}
	}
}

// A configuration of an unexpected shape costs the description and metric
// summary, not the page.
func TestParseEventUnexpectedConfiguration(t *testing.T) {
	ev := events.CloudWatchEvent{
		DetailType: DetailTypeStateChange, Source: "aws.cloudwatch", ID: "e1", AccountID: "123456789012", Region: "eu-west-1",
		Resources: []string{arn("checkout-cpu")},
		Detail: json.RawMessage(`{"alarmName":"checkout-cpu","state":{"value":"ALARM","timestamp":"2026-11-23T09:15:42.518+0000"},` +
			`"configuration":{"metrics":"not a list"}}`),
	}
	n, err := ParseEvent(ev)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if n.State != StateAlarm || len(n.Warnings) != 1 {
		t.Errorf("got state %q warnings %q, want ALARM and one warning", n.State, n.Warnings)
	}
}

func TestParseActionRejects(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"not JSON", `alarm!`},
		{"no alarmData", `{"source":"aws.cloudwatch","alarmArn":"` + arn("x") + `"}`},
		{"null alarmData", `{"source":"aws.cloudwatch","alarmData":null}`},
		{"other source", `{"source":"aws.events","alarmData":{"alarmName":"x","state":{"value":"ALARM"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseAction([]byte(tt.payload)); !errors.Is(err, ErrNotAlarm) {
				t.Errorf("got error %v, want ErrNotAlarm", err)
			}
		})
	}
	if _, err := ParseAction([]byte(`{"source":"aws.cloudwatch","alarmData":{"state":{"value":"ALARM"}}}`)); err == nil {
		t.Error("alarm action without name or ARN: got no error, want one")
	}
}

func TestParseTags(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want map[string]string
	}{
		{"object", `{"team":"payments","incidentd:service":"payments","n":1}`, map[string]string{"team": "payments", "incidentd:service": "payments"}},
		{"list", `[{"Key":"incidentd:severity","Value":"SEV1"},{"key":"team","value":"web"}]`, map[string]string{"incidentd:severity": "SEV1", "team": "web"}},
		{"null", `null`, nil},
		{"empty", ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTags(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := parseTags(json.RawMessage(`"team=web"`)); err == nil {
		t.Error("tags as a string: got no error, want one")
	}
}

func TestParseTime(t *testing.T) {
	want := at("2026-11-23T09:15:42.518Z")
	for _, s := range []string{"2026-11-23T09:15:42.518+0000", "2026-11-23T09:15:42.518Z", "2026-11-23T10:15:42.518+01:00", "2026-11-23T10:15:42.518+0100"} {
		if got := parseTime(s); !got.Equal(want) {
			t.Errorf("parseTime(%q): got %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"", "yesterday", "2026-11-23 09:15:42", "0000-01-01T00:00:00Z"} {
		if got := parseTime(s); !got.IsZero() {
			t.Errorf("parseTime(%q): got %v, want the zero time", s, got)
		}
	}
}

// An EventBridge rule may target the SNS topic: the message is then the
// event, and it reads as the event does.
func TestParseSNSCarryingEvent(t *testing.T) {
	rec := snsRecord("Notification", string(readFixture(t, "alarms-eventbridge-metric.json")))
	n, err := ParseSNSRecord(rec)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	direct := mustParse(t, "alarms-eventbridge-metric.json")
	if !reflect.DeepEqual(summary(n), summary(direct)) {
		t.Errorf("got  %+v\nwant %+v", summary(n), summary(direct))
	}
	rec = snsRecord("Notification", string(readFixture(t, "alarms-eventbridge-config-change.json")))
	if _, err := ParseSNSRecord(rec); !errors.Is(err, ErrNotAlarm) {
		t.Errorf("configuration change through SNS: got error %v, want ErrNotAlarm", err)
	}
}
