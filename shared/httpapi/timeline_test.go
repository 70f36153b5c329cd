package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// addNotes writes n note entries "note 1" … "note n" to an incident, a second
// apart, straight through the store (the API would take n requests).
func (e *env) addNotes(t *testing.T, id string, n int) {
	t.Helper()
	ctx := context.Background()
	inc, err := e.store.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 90 { // a transaction holds 100 writes
		var entries []incident.Entry
		for j := i; j < min(i+90, n); j++ {
			at := inc.CreatedAt.Add(time.Duration(j+1) * time.Second)
			entries = append(entries, incident.Entry{ID: incident.NewID(at), At: at, Kind: incident.EntryNote,
				Actor: "writer", Text: fmt.Sprintf("note %d", j+1)})
		}
		if err := e.store.Apply(ctx, incident.Change{Kind: incident.Touch, Incident: inc, Entries: entries}); err != nil {
			t.Fatalf("write notes %d…: %v", i+1, err)
		}
	}
}

// A long-running incident's timeline is answered bounded, so that it fits in
// Lambda's 6 MB answer: the opened entry, then the newest 500, oldest first,
// with "timeline_truncated": true. A short one is answered whole, without the
// flag.
func TestGetIncidentBoundsTheTimeline(t *testing.T) {
	tests := []struct {
		name          string
		notes         int
		wantLen       int
		wantSecond    string // the text of the entry after "opened"
		wantTruncated bool
	}{
		{"short", 3, 4, "note 1", false},
		{"the limit and the opened entry", incident.TimelineLimit, incident.TimelineLimit + 1, "note 1", false},
		{"longer", incident.TimelineLimit + 40, incident.TimelineLimit + 1, "note 41", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			id := e.declare(t)
			e.addNotes(t, id, tt.notes)

			got := e.do(t, req{method: "GET", path: "/incidents/" + id, token: "reader"})
			if got.status != http.StatusOK {
				t.Fatalf("GET: got %d %s, want 200", got.status, got.body)
			}
			flag, present := got.json["timeline_truncated"]
			if (flag == true) != tt.wantTruncated || present != tt.wantTruncated {
				t.Errorf("got timeline_truncated %v (present %v), want %v", flag, present, tt.wantTruncated)
			}
			timeline, _ := got.json["timeline"].([]any)
			if len(timeline) != tt.wantLen {
				t.Fatalf("got %d timeline entries, want %d", len(timeline), tt.wantLen)
			}
			entry := func(i int) map[string]any { m, _ := timeline[i].(map[string]any); return m }
			if k := entry(0)["kind"]; k != "opened" {
				t.Errorf("got first entry of kind %v, want opened", k)
			}
			if txt := entry(1)["text"]; txt != tt.wantSecond {
				t.Errorf("got second entry %q, want %q", txt, tt.wantSecond)
			}
			if txt, want := entry(len(timeline) - 1)["text"], fmt.Sprintf("note %d", tt.notes); txt != want {
				t.Errorf("got last entry %q, want the newest, %q", txt, want)
			}
			var prev time.Time
			for i := range timeline {
				at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(entry(i)["at"]))
				if err != nil || at.Before(prev) {
					t.Fatalf("entry %d at %v (%v) comes before entry %d at %s: want oldest first", i, entry(i)["at"], err, i-1, prev)
				}
				prev = at
			}
		})
	}
}
