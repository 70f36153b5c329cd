package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/incident"
)

// A timeline of big entries is cut to the byte budget, keeping the first entry
// and the newest, so the response always fits Lambda's 6 MB.
func TestFitTimelineKeepsFirstAndNewestWithinBudget(t *testing.T) {
	big := strings.Repeat(`<"quoted">`, 400)
	var tl []incident.Entry
	for i := range 10 {
		tl = append(tl, incident.Entry{ID: fmt.Sprintf("e%02d", i), Kind: incident.EntrySignal, Text: big})
	}
	one, _ := json.Marshal(incident.NewEntryView(tl[0]))
	tests := []struct {
		name    string
		budget  int
		wantIDs []string
		wantCut bool
	}{
		{"everything fits", 100 * len(one), []string{"e00", "e01", "e02", "e03", "e04", "e05", "e06", "e07", "e08", "e09"}, false},
		{"room for four", 4*(len(one)+1) + 10, []string{"e00", "e07", "e08", "e09"}, true},
		{"room for the first only", len(one) + 2, []string{"e00"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := fitTimeline(tl, tt.budget)
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") || cut != tt.wantCut {
				t.Errorf("got %v cut %v, want %v cut %v", ids, cut, tt.wantIDs, tt.wantCut)
			}
		})
	}
}
