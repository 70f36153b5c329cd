package lifecycle_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
)

// machine stands in for the escalation state machine (Step Functions has no
// emulator here): it records each started execution and keeps it running
// until its PageLevel, firing every wait, reads the incident and ends by the
// real PageLevel's rule (escalation.Escalator.Ends: acknowledged, or resolved
// longer than the reopen window and its grace ago; a resolved incident is
// watched every ResolvedCheck meanwhile). It answers Running as shared/sfn does.
type machine struct {
	store   *dynamo.Store
	esc     *escalation.Escalator
	wait    time.Duration
	started []string
	next    map[string]time.Time // running executions and their next PageLevel
	clock   *clocktest.Clock
}

func (m *machine) Start(_ context.Context, name string, _ []byte) error {
	if slices.Contains(m.started, name) {
		return escalation.ErrAlreadyStarted
	}
	m.started = append(m.started, name)
	m.next[name] = m.clock.Now().Add(m.wait)
	return nil
}

func (m *machine) Running(_ context.Context, name string) (bool, error) {
	_, ok := m.next[name]
	return ok, nil
}

func (m *machine) tick(t *testing.T, now time.Time, id string) {
	t.Helper()
	for name, next := range m.next {
		for !next.After(now) {
			inc, err := m.store.Incident(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if m.esc.Ends(inc) {
				delete(m.next, name)
				break
			}
			if inc.Status == incident.StatusTriggered {
				next = next.Add(m.wait)
			} else {
				next = next.Add(escalation.ResolvedCheck) // watched for a reopen
			}
			m.next[name] = next
		}
	}
}

// TestFlappingAlarmEscalations runs 40 alternating ALARM/OK changes of one
// auto-resolving alarm, a minute apart, through the incident service on
// DynamoDB Local and the stream handler's real decision (escalation.Starter):
// one incident, flapping on its timeline, never a triggered incident without
// a running escalation, and the escalations counted.
func TestFlappingAlarmEscalations(t *testing.T) {
	tests := []struct {
		name string
		// wait is the policy's level wait: how often a running escalation
		// reads the incident.
		wait time.Duration
		want int // escalations started
	}{
		// The escalation that found its incident resolved watches it through
		// the reopen window, so every reopen finds it running: one escalation,
		// whatever the level waits (ending at once instead made 2 with 3-minute
		// waits, and N+1 = 4 with 2-minute waits).
		{name: "escalation runs through the flapping", wait: time.Hour, want: 1},
		{name: "escalation reads the incident between changes", wait: 5 * time.Minute, want: 1},
		{name: "escalation reads the incident at a resolve", wait: 3 * time.Minute, want: 1},
		{name: "escalation reads the incident at every resolve", wait: 2 * time.Minute, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			clk := clocktest.New(now)
			svc := incident.NewService(e.store, incident.Rules{ReopenWindow: 30 * time.Minute}, incident.WithClock(clk.Now))
			if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", AutoResolve: true}); err != nil {
				t.Fatal(err)
			}
			esc := escalation.NewEscalator(escalation.Config{ReopenWindow: 30 * time.Minute, Now: clk.Now})
			m := &machine{store: e.store, esc: esc, wait: tt.wait, next: map[string]time.Time{}, clock: clk}
			logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
			h := lifecycle.NewHandler(lifecycle.Config{
				Starter: escalation.NewStarter(escalation.StarterConfig{Configs: e.store, Executions: m, Logger: logger}),
				Decode:  dynamo.DecodeStreamRecord, Logger: logger,
			})
			var id string
			for i := range 40 { // ALARM, OK, ALARM, … one a minute
				clk.Set(now.Add(time.Duration(i) * time.Minute))
				if id != "" {
					m.tick(t, clk.Now(), id)
				}
				sig := incident.Signal{Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "checkout",
					DedupKey: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-5xx", Severity: incident.SEV2,
					Title: "checkout 5xx", At: clk.Now(), DeliveryID: fmt.Sprintf("change-%d", i), Actor: "alarm:checkout-5xx"}
				if i%2 == 1 {
					sig.Kind = incident.Recover
				}
				var old map[string]events.DynamoDBAttributeValue
				if id != "" {
					old = e.image(t, id)
				}
				res, err := svc.Ingest(ctx, sig)
				if err != nil {
					t.Fatalf("change %d: %v", i, err)
				}
				if id == "" {
					id = res.IncidentID
				}
				name := "MODIFY"
				if old == nil {
					name = "INSERT"
				}
				resp, err := h.Handle(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{e.record(name, e.image(t, id), old)}})
				if err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("change %d: stream handler: %v, failures %v", i, err, resp.BatchItemFailures)
				}
				// Never lose a page: a triggered incident always has an escalation running.
				if inc, err := e.store.Incident(ctx, id); err != nil {
					t.Fatal(err)
				} else if inc.Status == incident.StatusTriggered && len(m.next) == 0 {
					t.Fatalf("change %d: incident triggered with no escalation running (started %v)", i, m.started)
				}
			}
			page, err := svc.List(ctx, incident.Query{Service: "checkout"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 1 {
				t.Errorf("incidents: got %d, want 1", len(page.Items))
			}
			if len(m.started) != tt.want {
				t.Errorf("escalations: got %d %v, want %d", len(m.started), m.started, tt.want)
			}
			inc, tl, _, err := svc.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			flapping := 0
			for _, en := range tl {
				if en.Kind == incident.EntryFlapping {
					flapping++
				}
			}
			if !inc.Flapping || flapping != 1 || inc.Status == incident.StatusResolved {
				t.Errorf("got flapping %v with %d flapping entries, status %q; want flapping, 1 entry, open", inc.Flapping, flapping, inc.Status)
			}
		})
	}
}
