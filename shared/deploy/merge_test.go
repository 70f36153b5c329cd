package deploy

import (
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
)

func rec(status Status, started, finished string) Record {
	r := Record{ID: "codedeploy:d-1", Service: "payments", Environment: "production", Status: status}
	if started != "" {
		r.StartedAt = at(started)
	}
	if finished != "" {
		r.FinishedAt = at(finished)
	}
	return r
}

func TestMerge(t *testing.T) {
	const t0, t1, t2 = "2026-11-24T09:00:00Z", "2026-11-24T09:10:00Z", "2026-11-24T09:20:00Z"
	withVersion := func(r Record, v string) Record { r.Version = v; return r }
	withChanges := func(r Record, sha string) Record { r.Changes = []Change{{CommitSHA: sha}}; return r }
	tests := []struct {
		name        string
		stored      Record
		incoming    Record
		want        Record
		wantChanged bool
	}{
		{"nothing stored", Record{}, rec(Started, t0, ""), rec(Started, t0, ""), true},
		{"identical replay", rec(Succeeded, t0, t1), rec(Succeeded, t0, t1), rec(Succeeded, t0, t1), false},
		{"started then succeeded", rec(Started, t0, ""), rec(Succeeded, "", t1), rec(Succeeded, t0, t1), true},
		{"started then failed", rec(Started, t0, ""), rec(Failed, t0, t1), rec(Failed, t0, t1), true},
		{"started then rolled back", rec(Started, t0, ""), rec(RolledBack, "", t2), rec(RolledBack, t0, t2), true},
		{"succeeded then rolled back", rec(Succeeded, t0, t1), rec(RolledBack, "", t2), rec(RolledBack, t0, t2), true},
		{"failed then rolled back", rec(Failed, t0, t1), rec(RolledBack, t0, t2), rec(RolledBack, t0, t2), true},
		{"rolled back then a stale success", rec(RolledBack, t0, t1), rec(Succeeded, t0, t2), rec(RolledBack, t0, t1), false},
		{"succeeded then a stale start", rec(Succeeded, t0, t1), rec(Started, t0, ""), rec(Succeeded, t0, t1), false},
		{"a late start fills the start time", rec(Succeeded, "", t1), rec(Started, t0, ""), rec(Succeeded, t0, t1), true},
		{"a late start after the finish is not taken", rec(Succeeded, "", t1), rec(Started, t2, ""), rec(Succeeded, "", t1), false},
		{"failure after success", rec(Succeeded, t0, t1), rec(Failed, t0, t2), rec(Failed, t0, t2), true},
		{"success after failure (a retry)", rec(Failed, t0, t1), rec(Succeeded, t0, t2), rec(Succeeded, t0, t2), true},
		{"an older failure is ignored", rec(Succeeded, t0, t2), rec(Failed, t0, t1), rec(Succeeded, t0, t2), false},
		{"failure and success at one instant: failure", rec(Succeeded, t0, t1), rec(Failed, t0, t1), rec(Failed, t0, t1), true},
		{"success and failure at one instant: failure", rec(Failed, t0, t1), rec(Succeeded, t0, t1), rec(Failed, t0, t1), false},
		{"the same state fills a version", rec(Succeeded, t0, t1), withVersion(rec(Succeeded, t0, t1), "v2"), withVersion(rec(Succeeded, t0, t1), "v2"), true},
		{"the same state keeps the stored version", withVersion(rec(Succeeded, t0, t1), "v1"), withVersion(rec(Succeeded, t0, t1), "v2"), withVersion(rec(Succeeded, t0, t1), "v1"), false},
		{"a later state keeps the changes it lacks", withChanges(rec(Started, t0, ""), "abcdef0"), rec(Succeeded, "", t1), withChanges(rec(Succeeded, t0, t1), "abcdef0"), true},
		{"a later state's changes win", withChanges(rec(Started, t0, ""), "abcdef0"), withChanges(rec(Succeeded, "", t1), "1234567"), withChanges(rec(Succeeded, t0, t1), "1234567"), true},
		{"another id is not merged", rec(Started, t0, ""), Record{ID: "other", Service: "payments", Status: Succeeded, FinishedAt: at(t1)}, rec(Started, t0, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := Merge(tt.stored, tt.incoming)
			if !got.Equal(tt.want) || changed != tt.wantChanged {
				t.Errorf("got %+v, changed %v; want %+v, changed %v", got, changed, tt.want, tt.wantChanged)
			}
		})
	}
}

// mergeSamples are valid records of one deployment, in many states.
func mergeSamples() []Record {
	base := at("2026-11-24T09:00:00Z")
	var out []Record
	for i, s := range []Status{Started, Succeeded, Failed, RolledBack} {
		for j := range 3 {
			r := Record{ID: "github:42", Service: "search", Environment: "production", Status: s}
			if j != 1 || s == Started {
				r.StartedAt = base.Add(time.Duration(j) * time.Minute)
			}
			if s != Started {
				r.FinishedAt = base.Add(time.Duration(10+j*i) * time.Minute)
			}
			if j == 2 {
				r.Version, r.CommitSHA, r.Rework = "v9", "abcdef0", dora.Hotfix
				r.Changes = []Change{{CommitSHA: "abcdef0", PRCreatedAt: base.Add(-time.Hour)}}
			}
			out = append(out, r)
		}
	}
	return out
}

// Replaying any delivery changes nothing, whatever came before it, and the
// result of two deliveries of different states does not depend on their
// order; every result is valid.
func TestMergeProperties(t *testing.T) {
	samples := mergeSamples()
	for _, a := range samples {
		if _, err := Validate(a); err != nil {
			t.Fatalf("sample %+v: %v", a, err)
		}
		for _, b := range samples {
			ab, _ := Merge(a, b)
			if _, err := Validate(ab); err != nil {
				t.Errorf("Merge(%+v, %+v) = %+v is invalid: %v", a, b, ab, err)
			}
			again := ab
			for range 5 {
				var changed bool
				if again, changed = Merge(again, b); changed {
					t.Errorf("replaying %+v onto %+v changed it to %+v", b, ab, again)
				}
			}
			if Later(a, b) || Later(b, a) {
				ba, _ := Merge(b, a)
				if !ab.Equal(ba) {
					t.Errorf("order matters: %+v then %+v gives %+v, the reverse %+v", a, b, ab, ba)
				}
			}
		}
	}
}
