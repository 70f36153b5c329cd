package dynamo

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// plans are the index reads a cursor can belong to.
var plans = []incident.Query{
	{}, {Status: "open"}, {Status: "triggered"}, {Status: "resolved"},
	{Service: "checkout"}, {Service: "checkout", Status: "open"},
}

// FuzzDecodeCursor feeds the cursor parser what a caller can put in ?cursor=:
// it must never panic, must refuse with errkind.Invalid, and whatever it accepts must
// be a position in the index partition of the query it came with.
func FuzzDecodeCursor(f *testing.F) {
	inc := incident.Incident{ID: incident.NewID(time.Unix(1_790_000_000, 0)), Service: "checkout",
		Status: incident.StatusTriggered, CreatedAt: time.Unix(1_790_000_000, 5)}
	for _, q := range plans {
		f.Add(encodeCursor(planFor(q), newIncidentItem(inc)), q.Status, q.Service)
	}
	f.Add("", "", "")
	f.Add("e30", "", "")
	f.Add("!!", "open", "")
	f.Add("eyJwayI6IklOQyN4In0", "", "checkout")
	f.Fuzz(func(t *testing.T, cursor, status, service string) {
		p := planFor(incident.Query{Status: status, Service: service})
		key, err := decodeCursor(cursor, p)
		if err != nil {
			if !errors.Is(err, errkind.Invalid) {
				t.Fatalf("got %v, want errkind.Invalid", err)
			}
			return
		}
		if cursor == "" {
			if key != nil {
				t.Fatalf("got key %v for no cursor, want none", key)
			}
			return
		}
		if len(key) != 4 {
			t.Fatalf("got a key of %d attributes, want 4", len(key))
		}
		if v, ok := key[p.index.PartitionKey].(*types.AttributeValueMemberS); !ok || v.Value != p.partition {
			t.Fatalf("got index partition %v, want %q", key[p.index.PartitionKey], p.partition)
		}
		again, err := decodeCursor(encodeCursorKey(key), p)
		if err != nil || len(again) != 4 {
			t.Fatalf("got %v re-decoding an accepted cursor, want it accepted", err)
		}
	})
}
