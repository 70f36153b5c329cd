package alarms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
)

// TestMain stops DynamoDB Local after the tests; dynamotest starts it with the
// first test that needs it, so fuzzing runs start none.
func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// services are the configured services of the handler tests.
var services = []incident.ServiceConfig{
	{Name: "checkout", DefaultSeverity: incident.SEV3},
	{Name: "payments"},
	{Name: "orders", DefaultSeverity: incident.SEV4, Alarms: []string{"HighErrorRate-Order*"}},
	{Name: "search"},
}

// env is a handler over a fresh table of DynamoDB Local, with the services
// configured, and the JSON log lines it wrote.
type env struct {
	h     *Handler
	svc   *incident.Service
	store *dynamo.Store
	logs  *syncBuffer
	clock *clocktest.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store := dynamotest.Store(t)
	return newEnvWith(t, store)
}

func newEnvWith(t *testing.T, store *dynamo.Store) *env {
	t.Helper()
	svc := incident.NewService(store, incident.Rules{DefaultService: "unassigned"})
	e := &env{svc: svc, store: store, logs: &syncBuffer{}, clock: clocktest.New(time.Now())}
	e.h = NewHandler(svc, store, Config{
		DefaultService: "unassigned",
		Logger:         slog.New(slog.NewJSONHandler(e.logs, nil)),
		Now:            e.clock.Now,
	})
	return e
}

func (e *env) configure(t *testing.T, cfgs ...incident.ServiceConfig) {
	t.Helper()
	for _, c := range cfgs {
		if _, err := e.svc.PutServiceConfig(context.Background(), c); err != nil {
			t.Fatalf("configure %s: %v", c.Name, err)
		}
	}
}

// invoke runs the handler as Lambda would and fails on an invocation error.
func (e *env) invoke(t *testing.T, payload []byte) Response {
	t.Helper()
	out, err := e.h.Handle(context.Background(), json.RawMessage(payload))
	if err != nil {
		t.Fatalf("got invocation error %v, want none", err)
	}
	resp, ok := out.(Response)
	if !ok {
		t.Fatalf("got %T, want Response", out)
	}
	return resp
}

// incidents lists every incident in the table.
func (e *env) incidents(t *testing.T) []incident.Incident {
	t.Helper()
	page, err := e.svc.List(context.Background(), incident.Query{Limit: 100})
	if err != nil {
		t.Fatalf("list incidents: %v", err)
	}
	return page.Items
}

// timeline returns the incident's entries.
func (e *env) timeline(t *testing.T, id string) []incident.Entry {
	t.Helper()
	_, tl, _, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get incident %s: %v", id, err)
	}
	return tl
}

func kinds(tl []incident.Entry) map[incident.EntryKind]int {
	n := map[incident.EntryKind]int{}
	for _, en := range tl {
		n[en.Kind]++
	}
	return n
}

// Every alarms-*.json fixture, replayed five times through the real handler
// and store: what the first delivery did, and that the redeliveries changed
// nothing.
func TestHandleEveryFixture(t *testing.T) {
	type want struct {
		outcome  string
		service  string
		severity incident.Severity
		title    string
	}
	tests := map[string]want{
		"alarms-sns-metric.json":                {string(incident.Opened), "checkout", incident.SEV2, "checkout-cpu in ALARM"},
		"alarms-sns-metric-math.json":           {string(incident.Opened), "checkout", incident.SEV3, "checkout-5xx-rate in ALARM"},
		"alarms-sns-composite.json":             {string(incident.Opened), "payments", incident.SEV1, "payments-degraded in ALARM"},
		"alarms-sns-ok.json":                    {outcome: string(incident.Ignored), service: "checkout"},
		"alarms-eventbridge-metric.json":        {string(incident.Opened), "checkout", incident.SEV2, "checkout-cpu in ALARM"},
		"alarms-eventbridge-metric-math.json":   {string(incident.Opened), "orders", incident.SEV4, "HighErrorRate-OrderProcessor in ALARM"},
		"alarms-eventbridge-anomaly.json":       {string(incident.Opened), "checkout", incident.SEV3, "checkout-latency-p99 in ALARM"},
		"alarms-eventbridge-composite.json":     {outcome: string(incident.Ignored), service: "checkout"},
		"alarms-eventbridge-muted.json":         {outcome: string(incident.Ignored), service: "search"},
		"alarms-eventbridge-config-change.json": {outcome: OutcomeSkipped},
		// Noted on an open incident; with none open, nothing to note.
		"alarms-eventbridge-insufficient-data.json": {outcome: string(incident.Ignored), service: "checkout"},
		"alarms-action.json":                        {string(incident.Opened), "unassigned", incident.SEV3, "nightly-export-failures in ALARM"},
		"alarms-action-ok.json":                     {outcome: string(incident.Ignored), service: "unassigned"},
	}
	for _, name := range alarmFixtures(t) {
		if _, ok := tests[name]; !ok {
			t.Errorf("fixture %s has no expectation here: add one", name)
		}
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.configure(t, services...)
			payload := readFixture(t, name)
			var ids []string
			for i := range 5 {
				resp := e.invoke(t, payload)
				if len(resp.Items) != 1 {
					t.Fatalf("delivery %d: got %d items, want 1", i+1, len(resp.Items))
				}
				it := resp.Items[0]
				if i == 0 && (it.Outcome != w.outcome || it.Service != w.service) {
					t.Fatalf("first delivery: got outcome %q service %q (%s), want %q %q", it.Outcome, it.Service, it.Reason, w.outcome, w.service)
				}
				if i > 0 && w.outcome == string(incident.Opened) && !it.Duplicate {
					t.Errorf("delivery %d: got %+v, want a duplicate", i+1, it)
				}
				ids = append(ids, it.IncidentID)
			}
			incs := e.incidents(t)
			if w.outcome != string(incident.Opened) {
				if len(incs) != 0 {
					t.Fatalf("got %d incidents, want none", len(incs))
				}
				return
			}
			if len(incs) != 1 {
				t.Fatalf("got %d incidents after 5 deliveries, want 1", len(incs))
			}
			inc := incs[0]
			for i, id := range ids {
				if id != inc.ID {
					t.Errorf("delivery %d answered incident %q, want %q", i+1, id, inc.ID)
				}
			}
			got := want{string(incident.Opened), inc.Service, inc.Severity, inc.Title}
			if got != w {
				t.Errorf("got incident %+v, want %+v", got, w)
			}
			if inc.Status != incident.StatusTriggered || inc.Source != incident.SourceAlarm || inc.SignalCount != 1 {
				t.Errorf("got status %q source %q signal_count %d, want triggered, alarm, 1", inc.Status, inc.Source, inc.SignalCount)
			}
			if k := kinds(e.timeline(t, inc.ID)); k[incident.EntryOpened] != 1 || k[incident.EntrySignal] != 0 {
				t.Errorf("got timeline entries %v, want one opened and no signal", k)
			}
		})
	}
}

// ALARM then OK: the incident notes the recovery and stays open for a person
// to resolve (the services here do not auto-resolve).
func TestAlarmThenOKNotesRecovery(t *testing.T) {
	tests := []struct {
		alarm, ok string
		recovered time.Time
	}{
		{"alarms-sns-metric.json", "alarms-sns-ok.json", at("2026-11-23T09:41:42.604Z")},
		{"alarms-action.json", "alarms-action-ok.json", at("2026-11-23T03:35:31.411Z")},
	}
	for _, tt := range tests {
		t.Run(tt.ok, func(t *testing.T) {
			e := newEnv(t)
			e.configure(t, services...)
			opened := e.invoke(t, readFixture(t, tt.alarm)).Items[0]
			for range 2 {
				it := e.invoke(t, readFixture(t, tt.ok)).Items[0]
				if it.IncidentID != opened.IncidentID {
					t.Fatalf("got OK on incident %q, want %q", it.IncidentID, opened.IncidentID)
				}
			}
			inc, tl, _, err := e.svc.Get(context.Background(), opened.IncidentID)
			if err != nil {
				t.Fatal(err)
			}
			if inc.RecoveredAt == nil || !inc.RecoveredAt.Equal(tt.recovered) {
				t.Errorf("got recovered_at %v, want %v", inc.RecoveredAt, tt.recovered)
			}
			if inc.Status != incident.StatusTriggered {
				t.Errorf("got status %q, want triggered", inc.Status)
			}
			if k := kinds(tl); k[incident.EntryRecovered] != 1 {
				t.Errorf("got timeline entries %v, want one recovered (the OK was delivered twice)", k)
			}
		})
	}
}

// A service that auto-resolves is resolved by its alarm's OK.
func TestOKAutoResolves(t *testing.T) {
	e := newEnv(t)
	e.configure(t, incident.ServiceConfig{Name: "checkout", AutoResolve: true})
	opened := e.invoke(t, readFixture(t, "alarms-sns-metric.json")).Items[0]
	it := e.invoke(t, readFixture(t, "alarms-sns-ok.json")).Items[0]
	if it.Outcome != string(incident.Resolved) || it.IncidentID != opened.IncidentID {
		t.Fatalf("got %+v, want incident %s resolved", it, opened.IncidentID)
	}
}

// The same state change delivered by SNS, EventBridge and a direct Lambda
// action (all three wired) is one incident with one opened entry.
func TestSameStateChangeAcrossPaths(t *testing.T) {
	e := newEnv(t)
	e.configure(t, services...)
	snsN := mustParse(t, "alarms-sns-metric.json")
	payloads := [][]byte{
		readFixture(t, "alarms-sns-metric.json"),
		readFixture(t, "alarms-eventbridge-metric.json"),
		actionFor(t, snsN),
	}
	var first Item
	for i, p := range payloads {
		it := e.invoke(t, p).Items[0]
		if i == 0 {
			first = it
			if it.Outcome != string(incident.Opened) {
				t.Fatalf("SNS delivery: got %+v, want opened", it)
			}
			continue
		}
		if !it.Duplicate || it.IncidentID != first.IncidentID {
			t.Errorf("delivery %d (%s): got %+v, want a duplicate of %s", i+1, it.Path, it, first.IncidentID)
		}
	}
	incs := e.incidents(t)
	if len(incs) != 1 {
		t.Fatalf("got %d incidents, want 1", len(incs))
	}
	if k := kinds(e.timeline(t, incs[0].ID)); k[incident.EntryOpened] != 1 || k[incident.EntrySignal] != 0 {
		t.Errorf("got timeline entries %v, want one opened and no signal", k)
	}
}

// A later state change of the same alarm while its incident is open joins it.
func TestLaterAlarmJoinsOpenIncident(t *testing.T) {
	e := newEnv(t)
	e.configure(t, services...)
	opened := e.invoke(t, readFixture(t, "alarms-sns-metric.json")).Items[0]
	later := snsEvent(t, alarmMessage("checkout-cpu", StateAlarm, "2026-11-23T10:15:42.100+0000", "incidentd:service=checkout"))
	it := e.invoke(t, later).Items[0]
	if it.Outcome != string(incident.Appended) || it.IncidentID != opened.IncidentID {
		t.Fatalf("got %+v, want appended to %s", it, opened.IncidentID)
	}
}

// A suppressed ALARM never opens an incident, but is noted on the open one.
func TestSuppressedAlarmIsOnlyNoted(t *testing.T) {
	e := newEnv(t)
	e.configure(t, services...)
	var ev map[string]any
	if err := json.Unmarshal(readFixture(t, "alarms-eventbridge-composite.json"), &ev); err != nil {
		t.Fatal(err)
	}
	// The same composite alarm's earlier, unsuppressed ALARM opens the incident.
	detail := ev["detail"].(map[string]any)
	state := detail["state"].(map[string]any)
	delete(state, "actionsSuppressedBy")
	delete(state, "actionsSuppressedReason")
	state["timestamp"] = "2026-11-23T12:58:02.004+0000"
	ev["id"] = "00000000-1111-2222-3333-444444444444"
	unsuppressed, _ := json.Marshal(ev)

	opened := e.invoke(t, unsuppressed).Items[0]
	if opened.Outcome != string(incident.Opened) {
		t.Fatalf("unsuppressed ALARM: got %+v, want opened", opened)
	}
	noted := e.invoke(t, readFixture(t, "alarms-eventbridge-composite.json")).Items[0]
	if noted.Outcome != string(incident.Noted) || noted.IncidentID != opened.IncidentID {
		t.Fatalf("suppressed ALARM: got %+v, want noted on %s", noted, opened.IncidentID)
	}
	tl := e.timeline(t, opened.IncidentID)
	if k := kinds(tl); k[incident.EntrySignal] != 1 {
		t.Fatalf("got timeline entries %v, want one signal", k)
	}
	for _, en := range tl {
		if en.Kind == incident.EntrySignal && !strings.Contains(en.Text, "Actions suppressed by Alarm") {
			t.Errorf("got signal entry %q, want it to say the actions were suppressed", en.Text)
		}
	}
}

// A garbage record in an SNS batch is logged and skipped; the good record is
// still processed.
func TestSNSBatchWithGarbage(t *testing.T) {
	e := newEnv(t)
	e.configure(t, services...)
	var good events.SNSEvent
	if err := json.Unmarshal(readFixture(t, "alarms-sns-metric.json"), &good); err != nil {
		t.Fatal(err)
	}
	garbage := good.Records[0]
	garbage.SNS.MessageID = "garbage-1"
	garbage.SNS.Message = `{"AlarmName": "checkout-cpu", "NewStateValue": ` // cut short
	confirmation := good.Records[0]
	confirmation.SNS.MessageID = "confirm-1"
	confirmation.SNS.Type = "SubscriptionConfirmation"
	confirmation.SNS.Message = "You have chosen to subscribe to the topic."
	other := good.Records[0]
	other.SNS.MessageID = "deploy-1"
	other.SNS.Message = `{"pipeline":"checkout","state":"SUCCEEDED"}`
	batch := events.SNSEvent{Records: []events.SNSEventRecord{garbage, confirmation, other, good.Records[0]}}
	payload, _ := json.Marshal(batch)
	// A record no JSON decoder accepts as an SNS record at all.
	payload = bytes.Replace(payload, []byte(`"Records":[`), []byte(`"Records":[{"EventSource":"aws:sns","Sns":"broken"},`), 1)

	resp := e.invoke(t, payload)
	var got []string
	for _, it := range resp.Items {
		got = append(got, it.Outcome)
	}
	want := []string{OutcomeRejected, OutcomeSkipped, OutcomeSkipped, OutcomeSkipped, string(incident.Opened)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got outcomes %v, want %v", got, want)
	}
	if incs := e.incidents(t); len(incs) != 1 || incs[0].Service != "checkout" {
		t.Fatalf("got incidents %+v, want one for checkout", incs)
	}
	lines := e.logs.lines(t)
	var rejections int
	for _, l := range lines {
		if l["outcome"] == OutcomeRejected || l["outcome"] == OutcomeSkipped {
			rejections++
			if l["reason"] == "" || l["path"] != string(PathSNS) {
				t.Errorf("got rejection log line %v, want a reason and path sns", l)
			}
		}
	}
	if rejections != 4 {
		t.Errorf("got %d rejection log lines, want 4", rejections)
	}
}

// Every notification is logged as one JSON line with the alarm, its state,
// the incident and what happened.
func TestHandleLogs(t *testing.T) {
	e := newEnv(t)
	e.configure(t, services...)
	it := e.invoke(t, readFixture(t, "alarms-eventbridge-anomaly.json")).Items[0]
	lines := e.logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %v", len(lines), lines)
	}
	l := lines[0]
	for k, v := range map[string]any{
		"alarm_name": "checkout-latency-p99", "state": "ALARM", "incident_id": it.IncidentID,
		"outcome": "opened", "service": "checkout", "routed_by": ByDescription, "alarm_kind": "anomaly", "path": "eventbridge",
	} {
		if l[k] != v {
			t.Errorf("got log %s = %v, want %v", k, l[k], v)
		}
	}
}

// An alarm that nothing maps goes to DEFAULT_SERVICE, never dropped.
func TestUnknownAlarmGoesToDefaultService(t *testing.T) {
	store := dynamotest.Store(t)
	svc := incident.NewService(store, incident.Rules{DefaultService: "ops"})
	h := NewHandler(svc, store, Config{DefaultService: "ops", Logger: slog.New(slog.NewJSONHandler(&syncBuffer{}, nil))})
	out, err := h.Handle(context.Background(), readFixture(t, "alarms-action.json"))
	if err != nil {
		t.Fatal(err)
	}
	it := out.(Response).Items[0]
	inc, _, _, err := svc.Get(context.Background(), it.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Service != "ops" {
		t.Errorf("got service %q, want ops", inc.Service)
	}
}

// A store failure fails the invocation, so that Lambda retries it; the retry
// applies the change once.
func TestStoreFailureFailsInvocationAndRetryIsIdempotent(t *testing.T) {
	client := dynamotest.Client(t)
	table := fmt.Sprintf("alarms-retry-%d", time.Now().UnixNano())
	e := newEnvWith(t, dynamo.New(client, table)) // the table does not exist yet
	payload := readFixture(t, "alarms-sns-metric.json")
	out, err := e.h.Handle(context.Background(), payload)
	if err == nil {
		t.Fatal("got no error with the table missing, want one so that Lambda retries")
	}
	if it := out.(Response).Items[0]; it.Outcome != OutcomeFailed {
		t.Errorf("got outcome %q, want failed", it.Outcome)
	}
	if _, err := client.CreateTable(context.Background(), dynamo.CreateTableInput(table)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		it := e.invoke(t, payload).Items[0]
		if want := i > 0; it.Duplicate != want {
			t.Errorf("retry %d: got %+v, want duplicate %v", i+1, it, want)
		}
	}
	if incs := e.incidents(t); len(incs) != 1 {
		t.Fatalf("got %d incidents, want 1", len(incs))
	}
}

// The service list is read once a minute, not once per alarm.
func TestServiceListIsCached(t *testing.T) {
	e := newEnv(t)
	e.configure(t, services...)
	route := func(ts string) string {
		t.Helper()
		return e.invoke(t, snsEvent(t, alarmMessage("billing-cpu", StateAlarm, ts, ""))).Items[0].Service
	}
	if got := route("2026-11-23T09:00:00.000+0000"); got != "unassigned" {
		t.Fatalf("before billing is configured: got %q, want unassigned", got)
	}
	e.configure(t, incident.ServiceConfig{Name: "billing"})
	e.clock.Advance(30 * time.Second)
	if got := route("2026-11-23T09:01:00.000+0000"); got != "unassigned" {
		t.Errorf("30 s later: got %q, want unassigned (the cached list)", got)
	}
	e.clock.Advance(31 * time.Second)
	if got := route("2026-11-23T09:02:00.000+0000"); got != "billing" {
		t.Errorf("61 s later: got %q, want billing", got)
	}
}

// alarmMessage is a metric alarm's SNS message.
func alarmMessage(name, state, ts, description string) string {
	b, _ := json.Marshal(map[string]any{
		"AlarmName": name, "AlarmDescription": description, "AWSAccountId": "123456789012",
		"NewStateValue": state, "NewStateReason": "Threshold Crossed", "StateChangeTime": ts,
		"Region": "EU (Ireland)", "AlarmArn": arn(name), "OldStateValue": "OK",
		"Trigger": map[string]any{"MetricName": "CPUUtilization", "Namespace": "AWS/ECS", "Statistic": "AVERAGE", "Period": 60},
	})
	return string(b)
}

// snsEvent wraps an alarm message as SNS delivers it to Lambda.
func snsEvent(t *testing.T, message string) []byte {
	t.Helper()
	rec := snsRecord("Notification", message)
	rec.SNS.MessageID = hashHex([]byte(message))
	b, err := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{rec}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syncBuffer collects log output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines decodes the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b.buf.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// An alarm whose payload names no service is routed by its tags, looked up
// once per cache period; a failed lookup does not cost the page.
func TestTagLookupRoutes(t *testing.T) {
	store := dynamotest.Store(t)
	svc := incident.NewService(store, incident.Rules{DefaultService: "unassigned"})
	tags := &countingTags{tags: map[string]map[string]string{
		arn("nightly-export-failures"): {"incidentd:service": "orders", "incidentd:severity": "SEV2", "team": "data"},
	}}
	h := NewHandler(svc, store, Config{DefaultService: "unassigned", Tags: tags,
		Logger: slog.New(slog.NewJSONHandler(&syncBuffer{}, nil))})
	for _, f := range []string{"alarms-action.json", "alarms-action-ok.json"} {
		if _, err := h.Handle(context.Background(), readFixture(t, f)); err != nil {
			t.Fatal(err)
		}
	}
	incs, err := svc.List(context.Background(), incident.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs.Items) != 1 || incs.Items[0].Service != "orders" || incs.Items[0].Severity != incident.SEV2 {
		t.Fatalf("got incidents %+v, want one for orders at SEV2", incs.Items)
	}
	if tags.calls != 1 {
		t.Errorf("got %d tag lookups for two state changes of one alarm, want 1", tags.calls)
	}

	// Lookups that fail leave routing to the other rules.
	tags.err = fmt.Errorf("AccessDeniedException: not authorized to perform cloudwatch:ListTagsForResource")
	out, err := h.Handle(context.Background(), snsEvent(t, alarmMessage("payments-cpu", StateAlarm, "2026-11-23T09:00:00.000+0000", "")))
	if err != nil {
		t.Fatal(err)
	}
	if it := out.(Response).Items[0]; it.Outcome != string(incident.Opened) || it.Service != "unassigned" {
		t.Errorf("got %+v, want opened for unassigned (no services configured)", it)
	}
}

// countingTags is a TagSource answering from a map and counting lookups.
type countingTags struct {
	tags  map[string]map[string]string
	err   error
	calls int
}

func (c *countingTags) AlarmTags(_ context.Context, alarmARN string) (map[string]string, error) {
	c.calls++
	if c.err != nil {
		return nil, c.err
	}
	return c.tags[alarmARN], nil
}
