package compat_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/compat"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// env serves the compat routes over a fresh table holding the public dev
// integration keys (service checkout), on a settable clock.
type env struct {
	mux   *http.ServeMux
	store *dynamo.Store
	svc   *incident.Service
	clock *clocktest.Clock
	log   *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store := dynamotest.Store(t)
	// The store judges expiries by the real clock: start from now.
	clock := clocktest.New(time.Now().UTC().Truncate(time.Second))
	svc := incident.NewService(store, incident.Rules{}, incident.WithClock(clock.Now))
	for _, k := range auth.LocalDevIntegrationKeys(clock.Now()) {
		if err := store.PutIntegrationKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	mux := http.NewServeMux()
	compat.Register(mux, compat.Config{Incidents: svc, Keys: store, Logger: log, Now: clock.Now})
	return &env{mux: mux, store: store, svc: svc, clock: clock, log: log}
}

type answer struct {
	status int
	body   map[string]any
}

// replay sends the events/ fixture through the API Gateway adapter, as the
// function does.
func (e *env) replay(t *testing.T, name string) answer {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	res, err := httpapi.NewLambda(e.mux, e.log).Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a := answer{status: res.StatusCode}
	if err := json.Unmarshal([]byte(res.Body), &a.body); err != nil {
		t.Fatalf("%s: got body %q: %v", name, res.Body, err)
	}
	return a
}

// state is what a person sees of the service's incidents: every incident
// with its timeline.
func (e *env) state(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	page, err := e.svc.List(ctx, incident.Query{Service: "checkout", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, inc := range page.Items {
		full, tl, _, err := e.svc.Get(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(struct {
			Inc incident.Incident
			TL  []incident.Entry
		}{full, tl})
		out = append(out, string(b))
	}
	return out
}

func (e *env) only(t *testing.T) incident.Incident {
	t.Helper()
	page, err := e.svc.List(context.Background(), incident.Query{Service: "checkout", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("got %d incidents, want 1", len(page.Items))
	}
	return page.Items[0]
}

// accepted checks the sender's own success answer.
func accepted(t *testing.T, name string, a answer) {
	t.Helper()
	if a.status != http.StatusAccepted {
		t.Fatalf("%s: got %d %v, want 202", name, a.status, a.body)
	}
	if strings.Contains(name, "pagerduty") {
		if a.body["status"] != "success" || a.body["message"] != "Event processed" || a.body["dedup_key"] == "" {
			t.Errorf("%s: got %v, want PagerDuty's success answer with the dedup_key", name, a.body)
		}
		return
	}
	if a.body["result"] != "Request will be processed" || a.body["requestId"] == "" || a.body["took"] == nil {
		t.Errorf("%s: got %v, want Opsgenie's 202 answer (result, took, requestId)", name, a.body)
	}
}

// The senders' triggers, replayed 5 times: one incident, of the mapped
// severity, and nothing changes after the first.
func TestSenderTriggersReplay(t *testing.T) {
	tests := []struct {
		fixture      string
		wantSeverity incident.Severity
		wantTitle    string
	}{
		{"ingest-pagerduty-alertmanager-trigger.json", incident.SEV2, "[FIRING:1] CheckoutHighLatency (checkout critical)"},
		{"ingest-pagerduty-grafana-trigger.json", incident.SEV1, "[FIRING:1] Checkout error rate Checkout (checkout)"},
		{"ingest-pagerduty-datadog-trigger.json", incident.SEV1, "[P1] [Triggered on {service:checkout}] Checkout p99 latency is above 2s"},
		{"ingest-pagerduty-trigger.json", incident.SEV4, "Example alert on host1.example.com"},
		{"ingest-opsgenie-alertmanager-create.json", incident.SEV1, "[FIRING:1] CheckoutHighLatency (checkout critical)"},
		{"ingest-opsgenie-create.json", incident.SEV1, "An example alert message"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := newEnv(t)
			first := e.replay(t, tt.fixture)
			accepted(t, tt.fixture, first)
			after := e.state(t)
			for i := 2; i <= 5; i++ {
				e.clock.Advance(time.Second)
				again := e.replay(t, tt.fixture)
				accepted(t, tt.fixture, again)
				if !reflect.DeepEqual(again.body["dedup_key"], first.body["dedup_key"]) || !reflect.DeepEqual(again.body["requestId"], first.body["requestId"]) {
					t.Errorf("replay %d: got %v, want the first answer's ids %v", i, again.body, first.body)
				}
				if got := e.state(t); !reflect.DeepEqual(got, after) {
					t.Fatalf("replay %d changed the incidents:\ngot  %v\nwant %v", i, got, after)
				}
			}
			inc := e.only(t)
			if inc.Severity != tt.wantSeverity || inc.Title != tt.wantTitle || inc.Source != incident.SourceIntegration || inc.Status != incident.StatusTriggered {
				t.Errorf("got %s %q source %s status %s, want %s %q source integration, triggered", inc.Severity, inc.Title, inc.Source, inc.Status, tt.wantSeverity, tt.wantTitle)
			}
		})
	}
}

// A sender's trigger, then its resolve (or close): the incident is resolved
// in the key's name; the resolve replayed 5 times changes nothing.
func TestTriggerThenResolveCloses(t *testing.T) {
	tests := []struct {
		trigger, resolve, actor string
	}{
		{"ingest-pagerduty-alertmanager-trigger.json", "ingest-pagerduty-alertmanager-resolve.json", "pagerduty:dev"},
		{"ingest-pagerduty-grafana-trigger.json", "ingest-pagerduty-grafana-resolve.json", "pagerduty:dev"},
		{"ingest-pagerduty-datadog-trigger.json", "ingest-pagerduty-datadog-resolve.json", "pagerduty:dev"},
		{"ingest-opsgenie-alertmanager-create.json", "ingest-opsgenie-alertmanager-close.json", "opsgenie:dev"},
	}
	for _, tt := range tests {
		t.Run(tt.resolve, func(t *testing.T) {
			e := newEnv(t)
			accepted(t, tt.trigger, e.replay(t, tt.trigger))
			e.clock.Advance(time.Minute)
			accepted(t, tt.resolve, e.replay(t, tt.resolve))
			inc := e.only(t)
			if inc.Status != incident.StatusResolved {
				t.Fatalf("got status %s, want resolved", inc.Status)
			}
			_, tl, _, _ := e.svc.Get(context.Background(), inc.ID)
			if last := tl[len(tl)-1]; last.Kind != incident.EntryResolved || last.Actor != tt.actor {
				t.Errorf("got last entry %s by %q, want resolved by %q", last.Kind, last.Actor, tt.actor)
			}
			after := e.state(t)
			for i := 2; i <= 5; i++ {
				e.clock.Advance(time.Second)
				accepted(t, tt.resolve, e.replay(t, tt.resolve))
				if got := e.state(t); !reflect.DeepEqual(got, after) {
					t.Fatalf("resolve replay %d changed the incidents:\ngot  %v\nwant %v", i, got, after)
				}
			}
		})
	}
}

// Acknowledge is a person's acknowledgement in the key's name: the
// escalation stops as for any acknowledgement; replays change nothing.
func TestAcknowledgeLikeAPerson(t *testing.T) {
	tests := []struct{ trigger, ack, actor string }{
		{"ingest-pagerduty-trigger.json", "ingest-pagerduty-acknowledge.json", "pagerduty:dev"},
		{"ingest-opsgenie-create.json", "ingest-opsgenie-acknowledge.json", "opsgenie:dev"},
	}
	for _, tt := range tests {
		t.Run(tt.ack, func(t *testing.T) {
			e := newEnv(t)
			accepted(t, tt.trigger, e.replay(t, tt.trigger))
			e.clock.Advance(time.Minute)
			accepted(t, tt.ack, e.replay(t, tt.ack))
			inc := e.only(t)
			if inc.Status != incident.StatusAcknowledged || inc.AcknowledgedAt == nil {
				t.Fatalf("got status %s, want acknowledged", inc.Status)
			}
			_, tl, _, _ := e.svc.Get(context.Background(), inc.ID)
			if last := tl[len(tl)-1]; last.Kind != incident.EntryAcknowledged || last.Actor != tt.actor {
				t.Errorf("got last entry %s by %q, want acknowledged by %q", last.Kind, last.Actor, tt.actor)
			}
			after := e.state(t)
			for i := 2; i <= 5; i++ {
				accepted(t, tt.ack, e.replay(t, tt.ack))
				if got := e.state(t); !reflect.DeepEqual(got, after) {
					t.Fatalf("acknowledge replay %d changed the incidents", i)
				}
			}
		})
	}
}

// An identical trigger after the resolve is the alert firing again (as
// Alertmanager sends it): the incident reopens; its own replays change
// nothing; the identical resolve resolves it again.
func TestIdenticalTriggerAfterResolveFiresAgain(t *testing.T) {
	e := newEnv(t)
	trigger, resolve := "ingest-pagerduty-alertmanager-trigger.json", "ingest-pagerduty-alertmanager-resolve.json"
	accepted(t, trigger, e.replay(t, trigger))
	e.clock.Advance(time.Minute)
	accepted(t, resolve, e.replay(t, resolve))
	for cycle := 1; cycle <= 3; cycle++ {
		e.clock.Advance(2 * time.Minute)
		accepted(t, trigger, e.replay(t, trigger))
		inc := e.only(t)
		if inc.Status != incident.StatusTriggered || inc.ReopenCount != cycle {
			t.Fatalf("cycle %d: got %s, reopened %d times; want triggered, reopened %d times", cycle, inc.Status, inc.ReopenCount, cycle)
		}
		after := e.state(t)
		accepted(t, trigger, e.replay(t, trigger))
		if got := e.state(t); !reflect.DeepEqual(got, after) {
			t.Fatalf("cycle %d: the trigger's replay changed the incident", cycle)
		}
		e.clock.Advance(time.Minute)
		accepted(t, resolve, e.replay(t, resolve))
		if inc := e.only(t); inc.Status != incident.StatusResolved {
			t.Fatalf("cycle %d: got %s after the resolve, want resolved", cycle, inc.Status)
		}
	}
}

// Unknown, revoked and wrong-kind keys are refused as each sender's service
// refuses them, and change nothing.
func TestBadKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.replay(t, "ingest-pagerduty-bad-key.json")
	if a.status != http.StatusForbidden || a.body["status"] != "invalid event" || a.body["message"] != "Invalid routing key" ||
		!reflect.DeepEqual(a.body["errors"], []any{"Invalid routing key"}) {
		t.Errorf("unknown routing key: got %d %v, want 403 in PagerDuty's shape, Invalid routing key", a.status, a.body)
	}
	// An Opsgenie key given as a routing key is no PagerDuty key.
	b := e.send(t, http.MethodPost, "/v2/enqueue", "", `{"routing_key":"`+auth.LocalDevOpsgenieKey+`","event_action":"resolve","dedup_key":"d"}`)
	if b.status != http.StatusForbidden || b.body["message"] != "Invalid routing key" {
		t.Errorf("an Opsgenie key as routing key: got %d %v, want 403 Invalid routing key", b.status, b.body)
	}
	a = e.replay(t, "ingest-opsgenie-bad-key.json")
	if a.status != http.StatusUnauthorized || a.body["message"] != "Could not authenticate" || a.body["requestId"] == "" {
		t.Errorf("unknown GenieKey: got %d %v, want Opsgenie's 401 Could not authenticate", a.status, a.body)
	}
	for _, k := range auth.LocalDevIntegrationKeys(e.clock.Now()) {
		if err := e.store.RevokeIntegrationKey(ctx, k.ID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if a := e.replay(t, "ingest-pagerduty-trigger.json"); a.status != http.StatusForbidden {
		t.Errorf("revoked routing key: got %d %v, want 403", a.status, a.body)
	}
	if a := e.replay(t, "ingest-opsgenie-create.json"); a.status != http.StatusUnauthorized {
		t.Errorf("revoked GenieKey: got %d %v, want 401", a.status, a.body)
	}
	if got := e.state(t); len(got) != 0 {
		t.Errorf("got %d incidents, want none", len(got))
	}
}
