package lifecycle_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/slack"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// now is the real time: the store judges dedup records by the real clock.
var now = time.Now().UTC().Truncate(time.Second)

// executions records started executions and refuses a name twice, as Step
// Functions does.
type executions struct {
	mu      sync.Mutex
	started []string
}

func (x *executions) Start(_ context.Context, name string, _ []byte) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if slices.Contains(x.started, name) {
		return escalation.ErrAlreadyStarted
	}
	x.started = append(x.started, name)
	return nil
}

type env struct {
	db    *dynamodb.Client
	table string
	store *dynamo.Store
	svc   *incident.Service
	x     *executions
	// starter starts escalations through x.
	starter *escalation.Starter
	h       *lifecycle.Handler
	seq     int
	// slack is the handler's Slack (a recorder behind a switch of failures),
	// events its IncidentEventsTopic.
	slack  *flakySlack
	events *published
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := dynamotest.Client(t)
	table := dynamotest.NewTable(t)
	store := dynamo.New(db, table)
	x := &executions{}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	st := escalation.NewStarter(escalation.StarterConfig{Configs: store, Executions: x, Logger: logger})
	sl := &flakySlack{Recorder: slack.NewRecorder(logger), fail: map[string]error{}}
	evs := &published{}
	h := lifecycle.NewHandler(lifecycle.Config{
		Starter: st, Decode: dynamo.DecodeStreamRecord, Incidents: store, Deliveries: store, SlackPages: store, Slack: slack.NewNotifier(sl), Publisher: evs, Logger: logger,
	})
	return &env{
		db: db, table: table, store: store, x: x, starter: st, h: h, slack: sl, events: evs,
		svc: incident.NewService(store, incident.Rules{}, incident.WithClock(func() time.Time { return now })),
	}
}

// image reads an incident's META item as the stream would carry it.
func (e *env) image(t *testing.T, id string) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(e.table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "INC#" + id}, "sk": &types.AttributeValueMemberS{Value: "META"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		t.Fatalf("incident %s has no META item", id)
	}
	return streamImage(t, out.Item)
}

// streamImage turns an item into a stream image through DynamoDB JSON, as
// Lambda receives it.
func streamImage(t *testing.T, item map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	js, err := json.Marshal(ddbJSON(item))
	if err != nil {
		t.Fatal(err)
	}
	var image map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal(js, &image); err != nil {
		t.Fatal(err)
	}
	return image
}

func ddbJSON(item map[string]types.AttributeValue) map[string]any {
	out := map[string]any{}
	for k, v := range item {
		out[k] = ddbValue(v)
	}
	return out
}

func ddbValue(v types.AttributeValue) map[string]any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberL:
		var l []any
		for _, e := range v.Value {
			l = append(l, ddbValue(e))
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": ddbJSON(v.Value)}
	}
	return map[string]any{"NULL": true}
}

func (e *env) record(name string, newImage, oldImage map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
	e.seq++
	return events.DynamoDBEventRecord{
		EventID: strconv.Itoa(e.seq), EventName: name, EventSource: "aws:dynamodb", AWSRegion: "us-east-1",
		Change: events.DynamoDBStreamRecord{
			NewImage: newImage, OldImage: oldImage, SequenceNumber: strconv.Itoa(100 + e.seq),
			StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
}

func (e *env) handle(t *testing.T, recs ...events.DynamoDBEventRecord) []string {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), events.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	failed := []string{}
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func (e *env) declare(t *testing.T, sev incident.Severity) incident.Incident {
	t.Helper()
	inc, err := e.svc.Declare(context.Background(), incident.Declaration{Service: "checkout", Title: "Checkout is down", Severity: sev, Actor: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestInsertStartsOnce(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t, incident.SEV2)
	img := e.image(t, inc.ID)
	// The same record delivered twice (a retried batch) starts one escalation.
	if failed := e.handle(t, e.record("INSERT", img, nil)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	if failed := e.handle(t, e.record("INSERT", img, nil)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	if want := []string{"inc-" + inc.ID + "-0"}; !slices.Equal(e.x.started, want) {
		t.Errorf("got executions %v, want %v", e.x.started, want)
	}
}

func TestSev4DoesNotStart(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t, incident.SEV4)
	if failed := e.handle(t, e.record("INSERT", e.image(t, inc.ID), nil)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	if len(e.x.started) != 0 {
		t.Errorf("got executions %v, want none", e.x.started)
	}
}

func TestSeverityRaiseStarts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inc := e.declare(t, incident.SEV4)
	old := e.image(t, inc.ID)
	e.handle(t, e.record("INSERT", old, nil))
	sev := incident.SEV2
	if _, err := e.svc.Update(ctx, inc.ID, "carol", incident.Patch{Severity: &sev}); err != nil {
		t.Fatal(err)
	}
	raised := e.image(t, inc.ID)
	if failed := e.handle(t, e.record("MODIFY", raised, old)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	if want := []string{"inc-" + inc.ID + "-0"}; !slices.Equal(e.x.started, want) {
		t.Errorf("got executions %v, want %v", e.x.started, want)
	}
	// Raised again (SEV2 → SEV1): it pages already; no second escalation.
	sev = incident.SEV1
	if _, err := e.svc.Update(ctx, inc.ID, "carol", incident.Patch{Severity: &sev}); err != nil {
		t.Fatal(err)
	}
	e.handle(t, e.record("MODIFY", e.image(t, inc.ID), raised))
	if len(e.x.started) != 1 {
		t.Errorf("got executions %v, want one", e.x.started)
	}
}

func TestOtherChangesDoNotStart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inc := e.declare(t, incident.SEV4)
	old := e.image(t, inc.ID)
	title := "Checkout is slow"
	if _, err := e.svc.Update(ctx, inc.ID, "carol", incident.Patch{Title: &title}); err != nil {
		t.Fatal(err)
	}
	e.handle(t, e.record("MODIFY", e.image(t, inc.ID), old), e.record("REMOVE", nil, old))
	if len(e.x.started) != 0 {
		t.Errorf("got executions %v, want none", e.x.started)
	}
}

func TestReopenStartsAgain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sig := incident.Signal{Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "checkout", DedupKey: "alarm:checkout-5xx",
		Severity: incident.SEV2, Title: "checkout 5xx", At: now, DeliveryID: "m-1", Actor: "alarm:checkout-5xx"}
	res, err := e.svc.Ingest(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	e.handle(t, e.record("INSERT", e.image(t, res.IncidentID), nil))
	if _, err := e.svc.Resolve(ctx, res.IncidentID, "carol", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	resolved := e.image(t, res.IncidentID)
	sig.DeliveryID = "m-2"
	again, err := e.svc.Ingest(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	if again.Outcome != incident.Reopened {
		t.Fatalf("got outcome %v, want reopened", again.Outcome)
	}
	if failed := e.handle(t, e.record("MODIFY", e.image(t, res.IncidentID), resolved)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	want := []string{"inc-" + res.IncidentID + "-0", "inc-" + res.IncidentID + "-1"}
	if !slices.Equal(e.x.started, want) {
		t.Errorf("got executions %v, want %v", e.x.started, want)
	}
}

func TestGarbageRecordFailsAloneAndBatchGoesOn(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t, incident.SEV1)
	garbage := map[string]events.DynamoDBAttributeValue{
		"type":       events.NewStringAttribute("incident"),
		"id":         events.NewNumberAttribute("12"), // not a string
		"started_at": events.NewStringAttribute("yesterday"),
	}
	bad := e.record("INSERT", garbage, nil)
	good := e.record("INSERT", e.image(t, inc.ID), nil)
	failed := e.handle(t, bad, good)
	if want := []string{bad.Change.SequenceNumber}; !slices.Equal(failed, want) {
		t.Errorf("got failures %v, want %v", failed, want)
	}
	if want := []string{"inc-" + inc.ID + "-0"}; !slices.Equal(e.x.started, want) {
		t.Errorf("got executions %v, want %v", e.x.started, want)
	}
}
