package deploy

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Run one with: go test -run='^$' -fuzz=FuzzRequestRecord -fuzztime=60s ./shared/deploy

// FuzzRequestRecord feeds POST /deployments bodies: a body is refused with
// an errkind.Invalid or gives a record that is valid as it is, survives a
// JSON round trip, and merges with itself and its replays without change.
func FuzzRequestRecord(f *testing.F) {
	f.Add([]byte(`{"id":"gha-9182-1","service":"payments","version":"v1.4.2","commit_sha":"a1b2c3d","status":"succeeded","started_at":"2026-11-24T09:00:00Z","finished_at":"2026-11-24T09:12:00Z","pr_created_at":"2026-11-23T15:00:00Z","pr_merged_at":"2026-11-24T08:30:00Z"}`))
	f.Add([]byte(`{"id":"d-1","service":"search","environment":"staging","status":"rolled_back","finished_at":"2026-11-24T09:12:00Z","rework":"hotfix","changes":[{"commit_sha":"bbbbbbb"},{"commit_sha":"aaaaaaa","pr_created_at":"2026-11-20T00:00:00+02:00"}]}`))
	f.Add([]byte(`{"id":"d-2","service":"search","status":"started","started_at":"2026-11-24T09:00:00Z"}`))
	f.Add([]byte(`{"id":"d-3","service":"search","status":"failed","started_at":"2026-11-24T09:00:00Z","finished_at":"2026-11-24T08:00:00Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var q Request
		if json.Unmarshal(body, &q) != nil {
			return
		}
		r, err := q.Record()
		if err != nil {
			if !errors.Is(err, errkind.Invalid) {
				t.Fatalf("got error %v, want an errkind.Invalid", err)
			}
			return
		}
		again, err := Validate(r)
		if err != nil || !again.Equal(r) {
			t.Fatalf("Validate of %+v: got %+v, %v; want it unchanged", r, again, err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal %+v: %v", r, err)
		}
		var back Record
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(r) {
			t.Fatalf("round trip of %s: got %+v, %v", b, back, err)
		}
		if m, changed := Merge(r, r); changed || !m.Equal(r) {
			t.Fatalf("Merge of %+v with itself: got %+v, changed %v", r, m, changed)
		}
		if m, changed := Merge(Record{}, r); !changed || !m.Equal(r) {
			t.Fatalf("Merge onto nothing: got %+v, changed %v", m, changed)
		}
	})
}

// FuzzMerge merges two valid records of one deployment built from fuzzed
// fields: the result is valid, and replaying the incoming one changes
// nothing.
func FuzzMerge(f *testing.F) {
	f.Add("started", int64(0), int64(0), "succeeded", int64(-1), int64(600), "v1", "")
	f.Add("rolled_back", int64(0), int64(60), "succeeded", int64(0), int64(600), "", "abcdef0")
	f.Add("failed", int64(-1), int64(60), "started", int64(120), int64(-1), "v1", "v2")
	f.Fuzz(func(t *testing.T, s1 string, start1, end1 int64, s2 string, start2, end2 int64, v1, v2 string) {
		base := at("2026-11-24T09:00:00Z")
		mk := func(s string, start, end int64, v string) (Record, bool) {
			r := Record{ID: "x", Service: "search", Status: Status(s), Version: v}
			if start >= 0 {
				r.StartedAt = base.Add(secs(start))
			}
			if end >= 0 {
				r.FinishedAt = base.Add(secs(end))
			}
			r, err := Validate(r)
			return r, err == nil
		}
		a, okA := mk(s1, start1, end1, v1)
		b, okB := mk(s2, start2, end2, v2)
		if !okA || !okB {
			return
		}
		m, _ := Merge(a, b)
		if _, err := Validate(m); err != nil {
			t.Fatalf("Merge(%+v, %+v) = %+v: %v", a, b, m, err)
		}
		if again, changed := Merge(m, b); changed {
			t.Fatalf("replay of %+v onto %+v changed it to %+v", b, m, again)
		}
	})
}

// secs turns a fuzzed number into a bounded duration in seconds.
func secs(n int64) time.Duration { return time.Duration(n%(400*24*3600)) * time.Second }
