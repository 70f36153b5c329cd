package deploy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/errkind"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// decode reads a POST /deployments body.
func decode(t *testing.T, body string) Request {
	t.Helper()
	var q Request
	if err := json.Unmarshal([]byte(body), &q); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return q
}

func TestRequestRecord(t *testing.T) {
	tests := []struct {
		name string
		give string
		want Record
	}{
		{
			name: "flat PR fields are one change with the deployment's SHA",
			give: `{"id":"gha-9182-1","service":"payments","version":"v1.4.2","commit_sha":"A1B2C3D4E5F6A7B8C9D0A1B2C3D4E5F6A7B8C9D0",
				"status":"succeeded","started_at":"2026-11-24T10:00:00+01:00","finished_at":"2026-11-24T09:12:00Z",
				"pr_created_at":"2026-11-23T15:00:00Z","pr_merged_at":"2026-11-24T08:30:00Z"}`,
			want: Record{
				ID: "gha-9182-1", Service: "payments", Environment: "production", Version: "v1.4.2",
				CommitSHA: "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0", Status: Succeeded,
				StartedAt: at("2026-11-24T09:00:00Z"), FinishedAt: at("2026-11-24T09:12:00Z"),
				Changes: []Change{{PRCreatedAt: at("2026-11-23T15:00:00Z"), PRMergedAt: at("2026-11-24T08:30:00Z"), CommitSHA: "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0"}},
			},
		},
		{
			name: "changes sorted, duplicates once, version cleaned, rework kept",
			give: `{"id":"d-1","service":"search","environment":"staging","version":" v2\u001b[31m\u202e ","status":"rolled_back",
				"finished_at":"2026-11-24T09:12:00Z","rework":"hotfix","changes":[
				{"commit_sha":"bbbbbbb","pr_created_at":"2026-11-20T00:00:00Z"},
				{"commit_sha":"aaaaaaa"},
				{"commit_sha":"bbbbbbb","pr_created_at":"2026-11-20T00:00:00Z"}]}`,
			want: Record{
				ID: "d-1", Service: "search", Environment: "staging", Version: "v2", Status: RolledBack,
				FinishedAt: at("2026-11-24T09:12:00Z"), Rework: dora.Hotfix,
				Changes: []Change{{CommitSHA: "aaaaaaa"}, {CommitSHA: "bbbbbbb", PRCreatedAt: at("2026-11-20T00:00:00Z")}},
			},
		},
		{
			name: "started",
			give: `{"id":"d-2","service":"search","status":"started","started_at":"2026-11-24T09:00:00Z"}`,
			want: Record{ID: "d-2", Service: "search", Environment: "production", Status: Started, StartedAt: at("2026-11-24T09:00:00Z")},
		},
		{
			name: "a merge before the creation is kept for dora to count",
			give: `{"id":"d-3","service":"search","status":"failed","finished_at":"2026-11-24T09:00:00Z",
				"pr_created_at":"2026-11-24T10:00:00Z","pr_merged_at":"2026-11-24T08:00:00Z"}`,
			want: Record{ID: "d-3", Service: "search", Environment: "production", Status: Failed, FinishedAt: at("2026-11-24T09:00:00Z"),
				Changes: []Change{{PRCreatedAt: at("2026-11-24T10:00:00Z"), PRMergedAt: at("2026-11-24T08:00:00Z")}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode(t, tt.give).Record()
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got.StartedAt.Location() != time.UTC || got.FinishedAt.Location() != time.UTC {
				t.Errorf("got times in %v and %v, want UTC", got.StartedAt.Location(), got.FinishedAt.Location())
			}
			again, err := Validate(got)
			if err != nil || !again.Equal(got) {
				t.Errorf("Validate of a valid record: got %+v, %v; want it unchanged", again, err)
			}
		})
	}
}

func TestRequestRecordInvalid(t *testing.T) {
	const ok = `"id":"d-1","service":"payments"`
	tests := []struct {
		name string
		give string
		want string // in the message
	}{
		{"no id", `{"service":"payments","status":"succeeded","finished_at":"2026-11-24T09:00:00Z"}`, "id is required"},
		{"id with a space", `{"id":"a b","service":"payments","status":"succeeded","finished_at":"2026-11-24T09:00:00Z"}`, `id "a b" holds spaces`},
		{"id with a control", `{"id":"a\u0007b","service":"payments","status":"succeeded","finished_at":"2026-11-24T09:00:00Z"}`, "control characters"},
		{"id too long", `{"id":"` + strings.Repeat("x", 129) + `","service":"payments","status":"succeeded","finished_at":"2026-11-24T09:00:00Z"}`, "129 bytes"},
		{"no service", `{"id":"d-1","status":"succeeded","finished_at":"2026-11-24T09:00:00Z"}`, "service is required"},
		{"bad service", `{"id":"d-1","service":"Payments","status":"succeeded","finished_at":"2026-11-24T09:00:00Z"}`, `service "Payments" is not a valid name`},
		{"bad environment", `{` + ok + `,"environment":"prod env","status":"succeeded","finished_at":"2026-11-24T09:00:00Z"}`, `environment "prod env"`},
		{"no status", `{` + ok + `,"finished_at":"2026-11-24T09:00:00Z"}`, "status is required (one of started, succeeded, failed, rolled_back)"},
		{"unknown status", `{` + ok + `,"status":"done","finished_at":"2026-11-24T09:00:00Z"}`, `status "done" is not one of started, succeeded, failed, rolled_back`},
		{"finished without finished_at", `{` + ok + `,"status":"succeeded","started_at":"2026-11-24T09:00:00Z"}`, "finished_at is required for status succeeded"},
		{"started without started_at", `{` + ok + `,"status":"started"}`, "started_at is required for status started"},
		{"started with finished_at", `{` + ok + `,"status":"started","started_at":"2026-11-24T09:00:00Z","finished_at":"2026-11-24T09:10:00Z"}`, "finished_at is set but status is started"},
		{"finished before started", `{` + ok + `,"status":"failed","started_at":"2026-11-24T09:00:00Z","finished_at":"2026-11-24T08:59:59Z"}`, "finished_at 2026-11-24T08:59:59Z is before started_at 2026-11-24T09:00:00Z"},
		{"epoch", `{` + ok + `,"status":"failed","finished_at":"1970-01-01T00:00:01Z"}`, "finished_at 1970-01-01T00:00:01Z is not between 2000 and 9999"},
		{"bad sha", `{` + ok + `,"status":"failed","finished_at":"2026-11-24T09:00:00Z","commit_sha":"main"}`, `commit_sha "main" is not a commit SHA`},
		{"bad change sha", `{` + ok + `,"status":"failed","finished_at":"2026-11-24T09:00:00Z","changes":[{"commit_sha":"abcdef0"},{"commit_sha":"xyz"}]}`, `changes[1].commit_sha "xyz"`},
		{"bad change time", `{` + ok + `,"status":"failed","finished_at":"2026-11-24T09:00:00Z","changes":[{"pr_merged_at":"1999-12-31T23:59:59Z"}]}`, "changes[0].pr_merged_at"},
		{"empty change", `{` + ok + `,"status":"failed","finished_at":"2026-11-24T09:00:00Z","changes":[{}]}`, "changes[0] is empty"},
		{"both forms", `{` + ok + `,"status":"failed","finished_at":"2026-11-24T09:00:00Z","pr_created_at":"2026-11-20T00:00:00Z","changes":[{"commit_sha":"abcdef0"}]}`, "not both"},
		{"unknown rework", `{` + ok + `,"status":"failed","finished_at":"2026-11-24T09:00:00Z","rework":"revert"}`, `rework "revert" is not one of hotfix, rollback`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(t, tt.give).Record()
			if !errors.Is(err, errkind.Invalid) {
				t.Fatalf("got %v, want an errkind.Invalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got message %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestTooManyChanges(t *testing.T) {
	r := Record{ID: "d", Service: "s", Status: Succeeded, FinishedAt: at("2026-11-24T09:00:00Z"), Changes: make([]Change, MaxChanges+1)}
	if _, err := Validate(r); !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), "1001 changes") {
		t.Errorf("got %v, want Invalid naming 1001 changes", err)
	}
}

func TestDORA(t *testing.T) {
	r := Record{ID: "d", Service: "s", Environment: "production", Status: Succeeded, FinishedAt: at("2026-11-24T09:00:00Z"),
		Changes: []Change{{CommitSHA: "abcdef0"}}, Rework: dora.Rollback}
	d := r.DORA()
	if d.ID != "d" || d.Status != dora.Succeeded || !d.FinishedAt.Equal(r.FinishedAt) || d.Rework != dora.Rollback || len(d.Changes) != 1 {
		t.Errorf("got %+v", d)
	}
	d.Changes[0].CommitSHA = "changed"
	if r.Changes[0].CommitSHA != "abcdef0" {
		t.Error("DORA shares its changes with the record")
	}
}

func TestValidateChange(t *testing.T) {
	got, err := ValidateChange(Change{CommitSHA: "ABCDEF0", PRCreatedAt: at("2026-11-24T10:00:00+01:00")})
	if err != nil || got.CommitSHA != "abcdef0" || got.PRCreatedAt.Location() != time.UTC {
		t.Errorf("got %+v, %v; want the SHA in lower case and the time in UTC", got, err)
	}
	if _, err := ValidateChange(Change{}); !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), "change is empty") {
		t.Errorf("empty change: got %v, want Invalid naming it", err)
	}
}
