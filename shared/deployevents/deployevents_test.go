package deployevents

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/errkind"
)

// fixtureDir holds the deploys-*.json fixtures, replayed through
// functions/deploys too (infra/local's TestEveryEventReplays).
const fixtureDir = "../../events"

// fixtureServices maps the fixtures' pipeline and CodeDeploy application.
var fixtureServices = deploy.StaticServices{
	"arn:aws:codepipeline:eu-west-1:123456789012:payments-pipeline":                          {Service: "payments"},
	"arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:checkout/checkout-production": {Service: "checkout", Environment: "production"},
}

func readEvent(tb testing.TB, name string) events.CloudWatchEvent {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return ev
}

func fixtures(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "deploys-*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no deploys-*.json in %s (err %v)", fixtureDir, err)
	}
	for i, p := range paths {
		paths[i] = filepath.Base(p)
	}
	return paths
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseFixtures(t *testing.T) {
	const pipelineRun = "codepipeline:3f1e5b2a-6c4d-4e8f-9a0b-1c2d3e4f5a6b"
	tests := map[string]struct {
		want       deploy.Record
		wantIgnore string // in the reason, for an ignored event
	}{
		"deploys-codepipeline-started.json": {want: deploy.Record{ID: pipelineRun, Service: "payments", Environment: "production",
			Status: deploy.Started, StartedAt: at("2026-11-24T09:02:11.529Z")}},
		"deploys-codepipeline-succeeded.json": {want: deploy.Record{ID: pipelineRun, Service: "payments", Environment: "production",
			Status: deploy.Succeeded, StartedAt: at("2026-11-24T09:02:11.529Z"), FinishedAt: at("2026-11-24T09:14:37Z")}},
		"deploys-codepipeline-failed.json": {want: deploy.Record{ID: "codepipeline:8a9b0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d", Service: "payments", Environment: "production",
			Status: deploy.Failed, StartedAt: at("2026-11-24T11:21:48.102Z"), FinishedAt: at("2026-11-24T11:40:05Z")}},
		"deploys-codepipeline-superseded.json": {wantIgnore: "a newer execution took its place"},
		"deploys-codedeploy-start.json": {want: deploy.Record{ID: "codedeploy:d-7Q2XK3M9B", Service: "checkout", Environment: "production",
			Status: deploy.Started, StartedAt: at("2026-11-24T13:05:00Z")}},
		"deploys-codedeploy-success.json": {want: deploy.Record{ID: "codedeploy:d-7Q2XK3M9B", Service: "checkout", Environment: "production",
			Status: deploy.Succeeded, FinishedAt: at("2026-11-24T13:11:42Z")}},
		"deploys-codedeploy-failure.json": {want: deploy.Record{ID: "codedeploy:d-4HN8Z2R6C", Service: "checkout", Environment: "production",
			Status: deploy.Failed, FinishedAt: at("2026-11-24T15:48:19Z")}},
		"deploys-codedeploy-stop.json": {want: deploy.Record{ID: "codedeploy:d-9TC5W1P4E", Service: "checkout", Environment: "production",
			Status: deploy.Failed, FinishedAt: at("2026-11-24T16:20:07Z")}},
		"deploys-codedeploy-ready.json": {wantIgnore: "READY"},
	}
	for _, name := range fixtures(t) {
		tt, ok := tests[name]
		if !ok {
			t.Errorf("%s has no expected record", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			got, err := Parse(context.Background(), readEvent(t, name), fixtureServices)
			if tt.wantIgnore != "" {
				if !errors.Is(err, deploy.ErrIgnored) || !strings.Contains(err.Error(), tt.wantIgnore) {
					t.Fatalf("got %+v, %v; want ignored for %q", got, err, tt.wantIgnore)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The events of one deployment, delivered in any order and each five times,
// leave one record: the later state with what the others alone knew.
func TestRedeliveries(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  deploy.Record
	}{
		{"CodeDeploy in order", []string{"deploys-codedeploy-start.json", "deploys-codedeploy-success.json"},
			deploy.Record{ID: "codedeploy:d-7Q2XK3M9B", Service: "checkout", Environment: "production", Status: deploy.Succeeded,
				StartedAt: at("2026-11-24T13:05:00Z"), FinishedAt: at("2026-11-24T13:11:42Z")}},
		{"CodeDeploy, the start last", []string{"deploys-codedeploy-success.json", "deploys-codedeploy-start.json"},
			deploy.Record{ID: "codedeploy:d-7Q2XK3M9B", Service: "checkout", Environment: "production", Status: deploy.Succeeded,
				StartedAt: at("2026-11-24T13:05:00Z"), FinishedAt: at("2026-11-24T13:11:42Z")}},
		{"CodePipeline, the start last", []string{"deploys-codepipeline-succeeded.json", "deploys-codepipeline-started.json"},
			deploy.Record{ID: "codepipeline:3f1e5b2a-6c4d-4e8f-9a0b-1c2d3e4f5a6b", Service: "payments", Environment: "production", Status: deploy.Succeeded,
				StartedAt: at("2026-11-24T09:02:11.529Z"), FinishedAt: at("2026-11-24T09:14:37Z")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stored deploy.Record
			for _, f := range tt.files {
				r, err := Parse(context.Background(), readEvent(t, f), fixtureServices)
				if err != nil {
					t.Fatal(err)
				}
				stored, _ = deploy.Merge(stored, r)
				for i := range 5 {
					if again, changed := deploy.Merge(stored, r); changed {
						t.Fatalf("replay %d of %s changed %+v to %+v", i+1, f, stored, again)
					}
				}
			}
			if !stored.Equal(tt.want) {
				t.Errorf("got %+v, want %+v", stored, tt.want)
			}
		})
	}
}

func TestParseRefused(t *testing.T) {
	pipeline := func(detail string) events.CloudWatchEvent {
		ev := readEvent(t, "deploys-codepipeline-succeeded.json")
		ev.Detail = json.RawMessage(detail)
		return ev
	}
	tests := []struct {
		name     string
		give     events.CloudWatchEvent
		services deploy.ServiceResolver
		wantKind error
		want     string
	}{
		{"another detail-type", events.CloudWatchEvent{DetailType: "CodePipeline Stage Execution State Change"}, fixtureServices, deploy.ErrIgnored, `detail-type "CodePipeline Stage Execution State Change"`},
		{"another source", func() events.CloudWatchEvent {
			ev := readEvent(t, "deploys-codedeploy-success.json")
			ev.Source = "my.app"
			return ev
		}(), fixtureServices, deploy.ErrIgnored, `source "my.app"`},
		{"unmapped pipeline", readEvent(t, "deploys-codepipeline-succeeded.json"), deploy.StaticServices{}, deploy.ErrIgnored, `pipeline "arn:aws:codepipeline:eu-west-1:123456789012:payments-pipeline" maps to no service`},
		{"unmapped application", readEvent(t, "deploys-codedeploy-failure.json"), deploy.StaticServices{}, deploy.ErrIgnored, `application "checkout", deployment group "checkout-production" maps to no service`},
		{"mapped to a bad service name", readEvent(t, "deploys-codepipeline-succeeded.json"), deploy.StaticServices{"payments-pipeline": {Service: "Payments Team"}}, errkind.Invalid, `service "Payments Team"`},
		{"detail not an object", pipeline(`[1]`), fixtureServices, errkind.Invalid, "read detail of CodePipeline event"},
		{"no execution id", pipeline(`{"pipeline":"payments-pipeline","state":"FAILED"}`), fixtureServices, errkind.Invalid, "has no execution-id"},
		{"unknown state", pipeline(`{"pipeline":"payments-pipeline","execution-id":"x","state":"EXPLODED"}`), fixtureServices, deploy.ErrIgnored, `"EXPLODED": not a state`},
		{"no time", func() events.CloudWatchEvent {
			ev := readEvent(t, "deploys-codedeploy-success.json")
			ev.Time = time.Time{}
			return ev
		}(), fixtureServices, errkind.Invalid, "has no time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), tt.give, tt.services)
			if !errors.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %+v, %v; want %v containing %q", got, err, tt.wantKind, tt.want)
			}
		})
	}
}

func TestParseByName(t *testing.T) {
	ev := readEvent(t, "deploys-codedeploy-success.json")
	for _, key := range []string{"arn:aws:codedeploy:eu-west-1:123456789012:application:checkout", "checkout/checkout-production", "checkout"} {
		r, err := Parse(context.Background(), ev, deploy.StaticServices{key: {Service: "checkout", Environment: "staging"}})
		if err != nil || r.Service != "checkout" || r.Environment != "staging" {
			t.Errorf("mapped by %q: got %+v, %v", key, r, err)
		}
	}
	pev := readEvent(t, "deploys-codepipeline-failed.json")
	if r, err := Parse(context.Background(), pev, deploy.StaticServices{"payments-pipeline": {Service: "payments"}}); err != nil || r.Service != "payments" {
		t.Errorf("pipeline mapped by name: got %+v, %v", r, err)
	}
}

func TestTimes(t *testing.T) {
	end := at("2026-11-24T09:14:37Z")
	tests := []struct {
		name                   string
		status                 deploy.Status
		start                  time.Time
		wantStarted, wantEnded time.Time
	}{
		{"started without start-time", deploy.Started, time.Time{}, end, time.Time{}},
		{"started with start-time", deploy.Started, end.Add(-time.Minute), end.Add(-time.Minute), time.Time{}},
		{"ended", deploy.Succeeded, end.Add(-time.Minute), end.Add(-time.Minute), end},
		{"start-time in the same second", deploy.Failed, end.Add(400 * time.Millisecond), end, end},
		{"start-time after the end", deploy.Failed, end.Add(time.Minute), time.Time{}, end},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e := times(tt.status, tt.start, end)
			if !s.Equal(tt.wantStarted) || !e.Equal(tt.wantEnded) {
				t.Errorf("got %v, %v; want %v, %v", s, e, tt.wantStarted, tt.wantEnded)
			}
		})
	}
}
