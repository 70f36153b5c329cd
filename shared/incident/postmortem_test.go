package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

func TestUpdatePostmortemValidates(t *testing.T) {
	long := strings.Repeat("x", 4001)
	tests := []struct {
		name string
		give incident.PostmortemFields
		want string // in the error's message
	}{
		{"nothing", incident.PostmortemFields{}, "nothing to change"},
		{"long root cause", incident.PostmortemFields{RootCause: &long}, "root_cause is 4001 bytes"},
		{"long went_wrong", incident.PostmortemFields{WentWrong: &long}, "went_wrong is 4001 bytes"},
		{"empty action item", incident.PostmortemFields{ActionItems: &[]string{"a", " \x07 "}}, "action_items[1] is empty"},
		{"too many action items", incident.PostmortemFields{ActionItems: ptr(make([]string, 51))}, "action_items has 51 items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, incident.Rules{})
			id := e.ingest(t, alarm()).IncidentID
			_, err := e.svc.UpdatePostmortem(context.Background(), id, "alice", tt.give)
			if !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an invalid error naming %q", err, tt.want)
			}
		})
	}
}

func TestUpdatePostmortem(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	ctx := context.Background()
	id := e.ingest(t, alarm()).IncidentID
	if _, err := e.svc.UpdatePostmortem(ctx, "01jnosuchincidentxxxxxxxxx", "alice", incident.PostmortemFields{RootCause: ptr("x")}); !errors.Is(err, errkind.NotFound) {
		t.Errorf("unknown incident: got %v, want not found", err)
	}
	inc, err := e.svc.UpdatePostmortem(ctx, id, "alice", incident.PostmortemFields{
		RootCause: ptr("  disk full \n"), ActionItems: &[]string{" add a disk alarm "}})
	if err != nil {
		t.Fatal(err)
	}
	if inc.RootCause != "disk full" || len(inc.ActionItems) != 1 || inc.ActionItems[0] != "add a disk alarm" {
		t.Errorf("got %q %q, want the trimmed fields", inc.RootCause, inc.ActionItems)
	}
	// The same again changes nothing and adds no entry.
	if _, err := e.svc.UpdatePostmortem(ctx, id, "bob", incident.PostmortemFields{RootCause: ptr("disk full")}); err != nil {
		t.Fatal(err)
	}
	// An empty list clears the items.
	if inc, err = e.svc.UpdatePostmortem(ctx, id, "bob", incident.PostmortemFields{ActionItems: &[]string{}}); err != nil || inc.ActionItems != nil {
		t.Errorf("got %q, %v, want the items cleared", inc.ActionItems, err)
	}
	_, tl := e.get(t, id)
	if got := count(tl, incident.EntryPostmortemUpdated); got != 2 {
		t.Errorf("got %d postmortem_updated entries, want 2", got)
	}
	if last := tl[len(tl)-1]; last.Text != "post-mortem updated by bob: action items" {
		t.Errorf("got entry %q, want it to name who and what", last.Text)
	}
}
