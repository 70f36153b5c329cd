package escalation_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// executions records started executions and, as Step Functions does,
// refuses a name twice.
type executions struct {
	mu      sync.Mutex
	started map[string][]byte
	order   []string
	err     error // returned by every Start when set
}

func newExecutions() *executions { return &executions{started: map[string][]byte{}} }

func (x *executions) Start(_ context.Context, name string, input []byte) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err != nil {
		return x.err
	}
	if _, ok := x.started[name]; ok {
		return escalation.ErrAlreadyStarted
	}
	x.started[name] = input
	x.order = append(x.order, name)
	return nil
}

func (x *executions) names() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.order...)
}

type starterEnv struct {
	store *dynamo.Store
	svc   *incident.Service
	x     *executions
	st    *escalation.Starter
}

func newStarterEnv(t *testing.T) *starterEnv {
	t.Helper()
	store := dynamotest.Store(t)
	svc := incident.NewService(store, incident.Rules{}, incident.WithClock(func() time.Time { return now }))
	x := newExecutions()
	return &starterEnv{store: store, svc: svc, x: x, st: escalation.NewStarter(escalation.StarterConfig{
		Configs: store, Executions: x, Fallback: &oncall.Target{User: "ops"},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})}
}

func (e *starterEnv) incident(t *testing.T, service string, sev incident.Severity) incident.Incident {
	t.Helper()
	inc, err := e.svc.Declare(context.Background(), incident.Declaration{Service: service, Title: "down", Severity: sev, Actor: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestStarterPagingSeverities(t *testing.T) {
	e := newStarterEnv(t)
	ctx := context.Background()
	if _, err := e.svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "search", PagingSeverities: []incident.Severity{incident.SEV1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		service string
		sev     incident.Severity
		want    bool
	}{
		{"checkout", incident.SEV1, true},
		{"checkout", incident.SEV3, true},
		{"checkout", incident.SEV4, false}, // defaults: SEV4 does not page
		{"search", incident.SEV1, true},
		{"search", incident.SEV2, false}, // the service's own list
	}
	for _, tt := range tests {
		t.Run(tt.service+"/"+string(tt.sev), func(t *testing.T) {
			inc := e.incident(t, tt.service, tt.sev)
			got, err := e.st.Start(ctx, inc)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got started %v, want %v", got, tt.want)
			}
			_, ran := e.x.started[escalation.ExecutionName(inc)]
			if ran != tt.want {
				t.Errorf("got execution %v, want %v", ran, tt.want)
			}
		})
	}
}

func TestStarterUnconfiguredServiceUsesDefaults(t *testing.T) {
	e := newStarterEnv(t)
	// No service configured at all: any valid name is accepted by Declare.
	sev3 := e.incident(t, "payments", incident.SEV3)
	sev4 := e.incident(t, "payments", incident.SEV4)
	for _, c := range []struct {
		inc  incident.Incident
		want bool
	}{{sev3, true}, {sev4, false}} {
		got, err := e.st.Start(context.Background(), c.inc)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: got started %v, want %v", c.inc.Severity, got, c.want)
		}
	}
}

func TestStarterSnapshotsPolicyIntoInput(t *testing.T) {
	e := newStarterEnv(t)
	ctx := context.Background()
	// What the policy names must exist.
	dynamotest.PutUsers(t, e.store, "ops")
	for _, id := range []string{"primary", "secondary"} {
		if err := e.store.PutSchedule(ctx, id, oncall.Schedule{Name: id, TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.PutPolicy(ctx, "checkout", *policy("primary", "secondary")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", Policy: "checkout"}); err != nil {
		t.Fatal(err)
	}
	inc := e.incident(t, "checkout", incident.SEV1)
	if _, err := e.st.Start(ctx, inc); err != nil {
		t.Fatal(err)
	}
	var in escalation.StartInput
	if err := json.Unmarshal(e.x.started[escalation.ExecutionName(inc)], &in); err != nil {
		t.Fatal(err)
	}
	if in.IncidentID != inc.ID {
		t.Errorf("got incident_id %q, want %q", in.IncidentID, inc.ID)
	}
	if in.State.Policy == nil || len(in.State.Policy.Levels) != 2 || in.State.Policy.Levels[1].Targets[0].Schedule != "secondary" {
		t.Errorf("got policy %+v, want the checkout policy's two levels", in.State.Policy)
	}
	if in.State.Step != (oncall.Step{Phase: oncall.PhaseLevel, Level: 1}) {
		t.Errorf("got step %+v, want level 1", in.State.Step)
	}
	if in.State.Fallback == nil || in.State.Fallback.User != "ops" {
		t.Errorf("got fallback %+v, want ops", in.State.Fallback)
	}
	// The input is what PageLevel reads.
	var pl escalation.Input
	if err := json.Unmarshal(e.x.started[escalation.ExecutionName(inc)], &pl); err != nil || pl.IncidentID != inc.ID || pl.State.Policy == nil {
		t.Errorf("got PageLevel input %+v (%v), want the incident and its policy", pl, err)
	}
}

func TestStarterWithoutPolicyPagesFallback(t *testing.T) {
	e := newStarterEnv(t)
	ctx := context.Background()
	// A service naming a policy that does not exist still escalates. The API
	// refuses to store one; this is a service item as written before it did.
	if _, err := dynamotest.Client(t).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.store.Table()), Item: map[string]types.AttributeValue{
		dynamo.PartitionKey: &types.AttributeValueMemberS{Value: "SERVICES"},
		dynamo.SortKey:      &types.AttributeValueMemberS{Value: "SVC#checkout"},
		"type":              &types.AttributeValueMemberS{Value: dynamo.TypeService},
		"name":              &types.AttributeValueMemberS{Value: "checkout"},
		"policy":            &types.AttributeValueMemberS{Value: "gone"},
		"auto_resolve":      &types.AttributeValueMemberBOOL{Value: false},
		"updated_at":        &types.AttributeValueMemberS{Value: now.Format(time.RFC3339Nano)},
	}}); err != nil {
		t.Fatal(err)
	}
	inc := e.incident(t, "checkout", incident.SEV2)
	started, err := e.st.Start(ctx, inc)
	if err != nil || !started {
		t.Fatalf("got started %v, %v; want started", started, err)
	}
	var in escalation.StartInput
	if err := json.Unmarshal(e.x.started[escalation.ExecutionName(inc)], &in); err != nil {
		t.Fatal(err)
	}
	if in.State.Policy != nil || in.State.Step.Phase != oncall.PhaseFallback {
		t.Errorf("got %+v, want no policy and the fallback step", in.State)
	}
}

func TestStarterStartsOncePerReopen(t *testing.T) {
	e := newStarterEnv(t)
	ctx := context.Background()
	inc := e.incident(t, "checkout", incident.SEV2)
	for i, want := range []bool{true, false} { // a redelivery starts nothing
		got, err := e.st.Start(ctx, inc)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("start %d: got started %v, want %v", i+1, got, want)
		}
	}
	reopened := inc
	reopened.ReopenCount++
	got, err := e.st.Start(ctx, reopened)
	if err != nil || !got {
		t.Errorf("reopened: got started %v, %v; want started", got, err)
	}
	want := []string{"inc-" + inc.ID + "-0", "inc-" + inc.ID + "-1"}
	if names := e.x.names(); len(names) != 2 || names[0] != want[0] || names[1] != want[1] {
		t.Errorf("got executions %v, want %v", names, want)
	}
}

func TestStarterBackendError(t *testing.T) {
	e := newStarterEnv(t)
	e.x.err = errors.New("throttled")
	inc := e.incident(t, "checkout", incident.SEV1)
	if started, err := e.st.Start(context.Background(), inc); err == nil || started {
		t.Errorf("got %v, %v; want an error", started, err)
	}
}

func TestExecutionNameFitsStepFunctions(t *testing.T) {
	inc := incident.Incident{ID: incident.NewID(now), ReopenCount: 12}
	name := escalation.ExecutionName(inc)
	if len(name) > 80 {
		t.Errorf("got %d characters, want at most 80", len(name))
	}
	for _, r := range name {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			t.Errorf("got %q in %q, want letters, digits, - and _", r, name)
		}
	}
}
