package dynamo_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
)

// toStream is the other direction of FromStreamImage, as DynamoDB Streams
// would present an item to Lambda.
func toStream(t *testing.T, av types.AttributeValue) events.DynamoDBAttributeValue {
	t.Helper()
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *types.AttributeValueMemberL:
		var l []events.DynamoDBAttributeValue
		for _, e := range v.Value {
			l = append(l, toStream(t, e))
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(toStreamMap(t, v.Value))
	}
	t.Fatalf("unknown attribute value %T", av)
	return events.DynamoDBAttributeValue{}
}

func toStreamMap(t *testing.T, m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	out := map[string]events.DynamoDBAttributeValue{}
	for k, v := range m {
		out[k] = toStream(t, v)
	}
	return out
}

func TestFromStreamImageEveryType(t *testing.T) {
	item := map[string]types.AttributeValue{
		"s":    &types.AttributeValueMemberS{Value: "x"},
		"n":    &types.AttributeValueMemberN{Value: "12.5"},
		"b":    &types.AttributeValueMemberB{Value: []byte{1, 2}},
		"bool": &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{3}}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "in list"},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": &types.AttributeValueMemberN{Value: "1"}}},
		}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
	}
	got, err := dynamo.FromStreamImage(toStreamMap(t, item))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, item) {
		t.Errorf("got %#v, want %#v", got, item)
	}
}

// An incident as stored in DynamoDB Local, presented as a stream image, decodes
// to the incident the service wrote.
func TestFromStreamImageIncidentRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	svc, store := newService(t, c, incident.Rules{})
	res, err := svc.Ingest(ctx, incident.Signal{
		Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "checkout", DedupKey: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-5xx",
		Severity: incident.SEV2, Title: "checkout 5xx", At: c.Now(), DeliveryID: "m-1", Actor: "alarm:checkout-5xx",
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := svc.Incident(ctx, res.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := dynamotest.Client(t).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(store.Table())})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, item := range raw.Items {
		if dynamo.ItemType(item) != dynamo.TypeIncident {
			continue
		}
		found = true
		// Through JSON too, as the Lambda runtime hands the image over.
		js, err := json.Marshal(toStreamMap(t, item))
		if err != nil {
			t.Fatal(err)
		}
		var image map[string]events.DynamoDBAttributeValue
		if err := json.Unmarshal(js, &image); err != nil {
			t.Fatal(err)
		}
		back, err := dynamo.FromStreamImage(image)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, item) {
			t.Errorf("got %#v, want %#v", back, item)
		}
		got, err := dynamo.DecodeIncident(back)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.Severity != incident.SEV2 || got.Status != incident.StatusTriggered ||
			!got.CreatedAt.Equal(want.CreatedAt) || got.Version != want.Version {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
	if !found {
		t.Fatal("no incident item in the table")
	}
}

func TestFromStreamImageTooDeep(t *testing.T) {
	v := events.NewStringAttribute("x")
	for range 40 {
		v = events.NewListAttribute([]events.DynamoDBAttributeValue{v})
	}
	if _, err := dynamo.FromStreamImage(map[string]events.DynamoDBAttributeValue{"l": v}); err == nil {
		t.Errorf("got no error for 40 levels, want one")
	}
}
