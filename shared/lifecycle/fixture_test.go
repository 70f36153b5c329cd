package lifecycle_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
)

// starts records the incidents a Handler asks to escalate.
type starts struct{ ids []string }

func (s *starts) Start(_ context.Context, inc incident.Incident) (bool, error) {
	if !incident.ValidID(inc.ID) {
		return false, incident.Invalidf("incident id %q is not an incident id", inc.ID)
	}
	s.ids = append(s.ids, inc.ID)
	return true, nil
}

func fixtures(t testing.TB) map[string][]byte {
	files, err := filepath.Glob("../../events/stream-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stream fixtures (%v)", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestFixtureIncidentOpenedStartsEscalation(t *testing.T) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(fixtures(t)["stream-incident-opened.json"], &ev); err != nil {
		t.Fatal(err)
	}
	s := &starts{}
	resp, err := lifecycle.NewHandler(s, slog.New(slog.NewJSONHandler(io.Discard, nil))).Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("got failures %v, want none", resp.BatchItemFailures)
	}
	// The incident's META item starts; the dedup item beside it does not.
	if want := []string{"01kkc0r8r0v8jpwcaajhtjk24r"}; !slices.Equal(s.ids, want) {
		t.Errorf("got starts %v, want %v", s.ids, want)
	}
}

// FuzzHandle: whatever the stream hands over, the handler does not panic and
// reports failures only by the batch's own sequence numbers.
func FuzzHandle(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[{"eventName":"MODIFY","dynamodb":{"SequenceNumber":"1","NewImage":{"type":{"S":"incident"}},"OldImage":{"type":{"N":"1"}}}}]}`))
	f.Add([]byte(`{"Records":[{"eventName":"INSERT","dynamodb":{"SequenceNumber":"2","NewImage":{"type":{"S":"incident"},"reporters":{"L":[{"M":{"at":{"BOOL":true}}}]}}}}]}`))
	h := lifecycle.NewHandler(&starts{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return
		}
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("got error %v, want failures per record", err)
		}
		seqs := map[string]bool{}
		for _, r := range ev.Records {
			seqs[r.Change.SequenceNumber] = true
		}
		for _, fl := range resp.BatchItemFailures {
			if !seqs[fl.ItemIdentifier] {
				t.Errorf("got failure %q, which is no record's sequence number", fl.ItemIdentifier)
			}
		}
	})
}
