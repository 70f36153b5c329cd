package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The newcomer's walk-through: every fixture of events/, in the README's
// order, against a fresh local platform, answers as announced (no 4xx or
// 5xx the README does not name, no function error); replayed a second time
// on the same platform, the same; and the demo data is as it was.
func TestReplayInTheDocumentedOrder(t *testing.T) {
	p, api, invoke := startLocal(t, nil)
	var listed []string
	for _, st := range replayOrder {
		if slices.Contains(listed, st.File) {
			t.Errorf("%s is listed twice in replayOrder", st.File)
		}
		listed = append(listed, st.File)
	}
	files, err := filepath.Glob("../../events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.Contains(listed, filepath.Base(f)) {
			t.Errorf("events/%s is not in replayOrder (infra/local/replay.go) nor in the README's order", filepath.Base(f))
		}
	}
	before := demoData(t, api.URL, p.token)
	for round := 1; round <= 2; round++ {
		var out bytes.Buffer
		results, err := replay(context.Background(), &out, invoke.URL, "../../events", replayOrder)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			want := r.Step.Want
			if round > 1 && r.Step.Again != 0 {
				want = r.Step.Again
			}
			if !r.OK() || r.Status != want {
				t.Errorf("round %d: %s (want %d)", round, replayLine(r), want)
			}
		}
		if got, want := strings.Count(out.String(), "\n"), len(replayOrder); got != want {
			t.Errorf("round %d: got %d printed lines, want one per fixture, %d", round, got, want)
		}
	}
	if after := demoData(t, api.URL, p.token); after != before {
		t.Errorf("demo data after the replay:\n%s\nwant it as before:\n%s", after, before)
	}
}

// demoData is the demo configuration as the API answers it.
func demoData(t *testing.T, api, token string) string {
	t.Helper()
	var b strings.Builder
	paths := []string{"/policies/" + demoPolicyID, "/schedules/" + demoScheduleID}
	for _, u := range demoUsers {
		paths = append(paths, "/users/"+u.ID)
	}
	for _, s := range demoServices {
		if s.Name != throwawayID { // seeded to be deleted by the replay
			paths = append(paths, "/services/"+s.Name)
		}
	}
	for _, path := range paths {
		status, _, body := call(t, "GET", api+path, token, nil)
		b.WriteString(path + " " + string(rune('0'+status/100)) + " " + string(body) + "\n")
	}
	return b.String()
}
