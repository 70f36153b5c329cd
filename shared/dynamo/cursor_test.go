package dynamo

import (
	"errors"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// queries are the filters a cursor can belong to.
var queries = []incident.Query{
	{}, {Status: "open"}, {Status: "triggered"}, {Status: "resolved"},
	{Service: "checkout"}, {Service: "checkout", Status: "open"},
}

// FuzzDecodeCursor feeds the cursor parser what a caller can put in ?cursor=:
// it must never panic, must refuse with errkind.Invalid, and whatever it
// accepts must be a list position (time and incident id) that every range
// the query reads can start after.
func FuzzDecodeCursor(f *testing.F) {
	at := time.Unix(1_790_000_000, 5)
	pos := listSK(at, incident.NewID(at))
	for _, q := range queries {
		f.Add(encodeCursor(q, pos), q.Status, q.Service)
	}
	f.Add("", "", "")
	f.Add("e30", "", "")
	f.Add("!!", "open", "")
	f.Add("eyJwayI6IklOQyN4In0", "", "checkout")
	f.Fuzz(func(t *testing.T, cursor, status, service string) {
		q := incident.Query{Status: status, Service: service, Cursor: cursor}
		after, err := decodeCursor(q)
		if err != nil {
			if !errors.Is(err, errkind.Invalid) {
				t.Fatalf("got %v, want errkind.Invalid", err)
			}
			return
		}
		if cursor == "" {
			if after != "" {
				t.Fatalf("got position %q for no cursor, want none", after)
			}
			return
		}
		for _, src := range sourcesFor(q) {
			k := startKey(src, after)
			if len(k) != 4 {
				t.Fatalf("got a start key of %d attributes, want 4", len(k))
			}
		}
		q.Cursor = encodeCursor(q, after)
		if again, err := decodeCursor(q); err != nil || again != after {
			t.Fatalf("got %q, %v re-decoding an accepted cursor, want %q", again, err, after)
		}
	})
}
