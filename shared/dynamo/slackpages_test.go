package dynamo_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// Slack pages live in the incident's partition but never in its timeline;
// each incident reads its own, once per message.
func TestSlackPagesStayOutOfTheTimeline(t *testing.T) {
	ctx := context.Background()
	store := dynamo.New(dynamotest.Client(t), dynamotest.NewTable(t))
	id := writeTimeline(t, store, 3, 0)
	other := incident.NewID(t0.Add(time.Hour))
	pages := []incident.SlackPage{
		{IncidentID: id, Channel: "D0ALICE", TS: "1700000000.000001", Responder: "alice", SlackUserID: "U0ALICE", Level: 1, At: t0},
		{IncidentID: id, Channel: "D0BOB", TS: "1700000000.000002", Responder: "bob", SlackUserID: "U0BOB", Level: 2, At: t0.Add(time.Minute)},
		{IncidentID: other, Channel: "D0CAROL", TS: "1700000000.000003", Responder: "carol", Level: 0, At: t0},
	}
	for _, p := range append(pages, pages[0]) { // the first one twice
		if err := store.RecordSlackPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	tl, _, err := store.Timeline(ctx, id, incident.TimelineLimit)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := entryIDs(tl), span(0, 2); !slices.Equal(got, want) {
		t.Errorf("got timeline %v, want %v", got, want)
	}
	got, err := store.SlackPages(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := pages[:2]; !slices.EqualFunc(got, want, samePage) {
		t.Errorf("got pages %+v, want %+v", got, want)
	}
	none, err := store.SlackPages(ctx, incident.NewID(t0.Add(2*time.Hour)))
	if err != nil || len(none) != 0 {
		t.Errorf("got %v, %v for an incident without pages, want none", none, err)
	}
}

func samePage(a, b incident.SlackPage) bool {
	return a.IncidentID == b.IncidentID && a.Channel == b.Channel && a.TS == b.TS && a.Responder == b.Responder &&
		a.SlackUserID == b.SlackUserID && a.Level == b.Level && a.At.Equal(b.At)
}

func TestRecordSlackPageNeedsItsKey(t *testing.T) {
	store := dynamo.New(dynamotest.Client(t), dynamotest.NewTable(t))
	if err := store.RecordSlackPage(context.Background(), incident.SlackPage{IncidentID: incident.NewID(t0), Channel: "D0ALICE"}); err == nil {
		t.Error("got no error for a page without ts, want one")
	}
}

// A delivery record is written once, read back by Delivery, and expires.
func TestRecordDelivery(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.NewTable(t)
	store := dynamo.New(db, table)
	expires := t0.Add(7 * 24 * time.Hour)
	if err := store.RecordDelivery(ctx, "event#e1", "inc-1", expires); err != nil {
		t.Fatal(err)
	}
	res, err := store.Delivery(ctx, "event#e1")
	if err != nil {
		t.Fatal(err)
	}
	if want := (incident.Result{Outcome: dynamo.OutcomeSent, IncidentID: "inc-1"}); res != want {
		t.Errorf("got %+v, want %+v", res, want)
	}
	if err := store.RecordDelivery(ctx, "event#e1", "inc-1", expires); !errors.Is(err, errkind.Duplicate) {
		t.Errorf("got %v recording it again, want errkind.Duplicate", err)
	}
	if _, err := store.Delivery(ctx, "event#e2"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("got %v for an unrecorded delivery, want errkind.NotFound", err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		dynamo.PartitionKey: &types.AttributeValueMemberS{Value: "DLV#event#e1"}, dynamo.SortKey: &types.AttributeValueMemberS{Value: "DLV"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ttl, ok := out.Item[dynamo.TTLAttribute].(*types.AttributeValueMemberN)
	if !ok || ttl.Value != strconv.FormatInt(expires.Unix(), 10) {
		t.Errorf("got %s %#v, want the expiry %d", dynamo.TTLAttribute, out.Item[dynamo.TTLAttribute], expires.Unix())
	}
}
