package deployevents_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/deployevents"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

var handlerServices = deploy.StaticServices{
	"payments-pipeline":            {Service: "payments"},
	"checkout/checkout-production": {Service: "checkout"},
}

func event(t *testing.T, name string) events.CloudWatchEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// Every fixture, in any order and 5 times more, ends in the same records;
// the ignored ones record nothing.
func TestHandlerReplaysFixtures(t *testing.T) {
	store := dynamotest.Store(t)
	h := deployevents.NewHandler(store, handlerServices, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	tests := []struct {
		file, outcome, id string
	}{
		{"deploys-codepipeline-succeeded.json", deployevents.OutcomeRecorded, "codepipeline:3f1e5b2a-6c4d-4e8f-9a0b-1c2d3e4f5a6b"},
		{"deploys-codepipeline-started.json", deployevents.OutcomeRecorded, ""}, // a late start fills started_at, or an older one changes nothing
		{"deploys-codepipeline-failed.json", deployevents.OutcomeRecorded, ""},
		{"deploys-codepipeline-superseded.json", deployevents.OutcomeIgnored, ""},
		{"deploys-codedeploy-start.json", deployevents.OutcomeRecorded, ""},
		{"deploys-codedeploy-ready.json", deployevents.OutcomeIgnored, ""},
		{"deploys-codedeploy-success.json", deployevents.OutcomeRecorded, ""},
		{"deploys-codedeploy-failure.json", deployevents.OutcomeRecorded, ""},
		{"deploys-codedeploy-stop.json", deployevents.OutcomeRecorded, ""},
	}
	for _, tt := range tests {
		ev := event(t, tt.file)
		first, err := h.Handle(ctx, ev)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if first.Outcome == deployevents.OutcomeRejected || (tt.outcome == deployevents.OutcomeIgnored) != (first.Outcome == deployevents.OutcomeIgnored) {
			t.Errorf("%s: got %+v, want %s", tt.file, first, tt.outcome)
		}
		var before deploy.Record
		if first.DeploymentID != "" {
			before, _ = store.Deployment(ctx, first.DeploymentID)
		}
		for i := range 5 {
			again, err := h.Handle(ctx, ev)
			if err != nil || (again.Outcome != deployevents.OutcomeUnchanged && again.Outcome != deployevents.OutcomeIgnored) {
				t.Errorf("%s replay %d: got %+v, %v; want it unchanged", tt.file, i, again, err)
			}
		}
		if first.DeploymentID != "" {
			if after, _ := store.Deployment(ctx, first.DeploymentID); !after.Equal(before) {
				t.Errorf("%s: replays changed %+v into %+v", tt.file, before, after)
			}
		}
	}
	got, err := store.Deployment(ctx, tests[0].id)
	if err != nil || got.Status != deploy.Succeeded || got.StartedAt.IsZero() {
		t.Errorf("pipeline execution: got %+v, %v; want succeeded with its start", got, err)
	}
}

func TestHandlerRejectsAndIgnores(t *testing.T) {
	h := deployevents.NewHandler(dynamotest.Store(t), deploy.StaticServices{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	unmapped, err := h.Handle(ctx, event(t, "deploys-codepipeline-succeeded.json"))
	if err != nil || unmapped.Outcome != deployevents.OutcomeIgnored {
		t.Errorf("unmapped: got %+v, %v; want ignored", unmapped, err)
	}
	bad := event(t, "deploys-codepipeline-succeeded.json")
	bad.Detail = json.RawMessage(`{"state": 7}`)
	rejected, err := h.Handle(ctx, bad)
	if err != nil || rejected.Outcome != deployevents.OutcomeRejected {
		t.Errorf("malformed: got %+v, %v; want rejected without an error (no retry)", rejected, err)
	}
}
