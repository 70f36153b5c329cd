package dynamo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// legacyKeys rewrites an incident item as the store wrote it before the
// indexes changed: the keys of LegacyIndexes, none of today's.
func legacyKeys(t *testing.T, db *dynamodb.Client, table string, inc incident.Incident) {
	t.Helper()
	pos := inc.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + inc.ID
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	names := map[string]string{"#sp": "svc_pk", "#ss": "svc_sk", "#tp": "time_pk", "#ts": "time_sk"}
	values := map[string]types.AttributeValue{":sp": s(inc.Service), ":pos": s(pos), ":tp": s("INCIDENT")}
	update := "SET #sp = :sp, #ss = :pos, #tp = :tp, #ts = :pos"
	if inc.Status.Open() {
		update += ", #op = :op, #os = :pos"
		names["#op"], names["#os"] = "open_pk", "open_sk"
		values[":op"] = s("OPEN")
	}
	update += " REMOVE"
	for i, ix := range dynamo.Indexes {
		a, b := "#n"+string(rune('a'+2*i)), "#n"+string(rune('b'+2*i))
		names[a], names[b] = ix.PartitionKey, ix.SortKey
		if i > 0 {
			update += ","
		}
		update += " " + a + ", " + b
	}
	_, err := db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			dynamo.PartitionKey: s("INC#" + inc.ID), dynamo.SortKey: s("META"),
		},
		UpdateExpression: aws.String(update), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An upgraded deployment's incidents, keyed for the indexes of before, are
// listed again once Reindex has re-keyed them; a second run changes nothing.
func TestReindexKeysLegacyIncidents(t *testing.T) {
	clk := newClock()
	svc, store := newService(t, clk, incident.Rules{})
	ctx := context.Background()
	all := incidenttest.SeedIncidents(t, svc, clk)
	db := dynamotest.Client(t)
	for _, inc := range all {
		legacyKeys(t, db, store.Table(), inc)
	}
	if page, err := svc.List(ctx, incident.Query{Limit: 100}); err != nil || len(page.Items) != 0 {
		t.Fatalf("before re-keying: got %d incidents (%v), want none listed", len(page.Items), err)
	}

	n, err := dynamo.Reindex(ctx, db, store.Table())
	if err != nil || n != len(all) {
		t.Fatalf("reindex: got %d re-keyed (%v), want %d", n, err, len(all))
	}
	for _, q := range []incident.Query{{Limit: 100}, {Status: "open", Limit: 100}, {Service: "web", Status: "resolved", Limit: 100}} {
		page, err := svc.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, inc := range all {
			if q.Matches(inc) {
				want = append(want, inc.ID)
			}
		}
		if got := incidenttest.IDs(page.Items); !slices.Equal(got, want) {
			t.Errorf("%+v after re-keying: got %v, want %v", q, got, want)
		}
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(store.Table())})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		for _, ix := range dynamo.LegacyIndexes {
			if _, ok := item[ix.PartitionKey]; ok {
				t.Errorf("item %v still has %s", item[dynamo.PartitionKey], ix.PartitionKey)
			}
		}
	}
	if n, err := dynamo.Reindex(ctx, db, store.Table()); err != nil || n != 0 {
		t.Errorf("second run: got %d re-keyed (%v), want 0", n, err)
	}
}

// A deployment recorded when the resolved index held an environment's
// deployments in one partition (r_pk DEPLOY#<environment>) is in no day's
// partition, so the all-services DORA window misses it until Reindex moves
// it; a second run changes nothing.
func TestReindexMovesDeploymentsToTheirDay(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	store := dynamo.New(db, dynamotest.NewTable(t))
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, _, err := store.PutDeployment(ctx, deploy.Record{ID: "d1", Service: "payments", Status: deploy.Succeeded, FinishedAt: at}); err != nil {
		t.Fatal(err)
	}
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(store.Table()),
		Key:                       map[string]types.AttributeValue{dynamo.PartitionKey: &types.AttributeValueMemberS{Value: "DEPLOY#d1"}, dynamo.SortKey: &types.AttributeValueMemberS{Value: "DEPLOY"}},
		UpdateExpression:          aws.String("SET r_pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "DEPLOY#production"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	all := func() int {
		deps, _, err := store.DORARecords(ctx, dora.Scope{}, dora.Window{Start: at.AddDate(0, 0, -1), End: at.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return len(deps)
	}
	if n := all(); n != 0 {
		t.Fatalf("before Reindex: %d deployments in the all-services window, want 0 (the legacy partition is not read)", n)
	}
	if n, err := dynamo.Reindex(ctx, db, store.Table()); err != nil || n != 1 {
		t.Fatalf("Reindex: %d, %v; want 1 re-keyed", n, err)
	}
	if n := all(); n != 1 {
		t.Errorf("after Reindex: %d deployments in the all-services window, want 1", n)
	}
	if n, err := dynamo.Reindex(ctx, db, store.Table()); err != nil || n != 0 {
		t.Errorf("second Reindex: %d, %v; want 0", n, err)
	}
}
