package postmortemjob_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
	"github.com/incidentd/incidentd/shared/postmortem"
	"github.com/incidentd/incidentd/shared/postmortemjob"
	"github.com/incidentd/incidentd/shared/s3"
	"github.com/incidentd/incidentd/shared/s3/s3local"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

const bucket = "postmortems"

// recordingSlack is the war room: it records each announcement, and
// answers err while it is set.
type recordingSlack struct {
	mu    sync.Mutex
	err   error
	posts []string // channel + " " + version
}

func (s *recordingSlack) PostPostmortem(_ context.Context, channel string, _ incident.Incident, link incident.PostmortemLink) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.posts = append(s.posts, channel+" "+link.VersionID)
	return nil
}

func (s *recordingSlack) set(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *recordingSlack) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.posts)
}

// permanent is a Slack answer a retry does not change.
type permanent struct{}

func (permanent) Error() string   { return "channel_not_found" }
func (permanent) Permanent() bool { return true }

type env struct {
	job   *postmortemjob.Job
	svc   *incident.Service
	store *dynamo.Store
	docs  *s3.Documents
	s3    *awss3.Client
	slack *recordingSlack
}

// newEnv is the job over DynamoDB Local and a versioned gofakes3 bucket.
func newEnv(t *testing.T) env {
	t.Helper()
	srv, err := s3local.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c := s3local.Client(srv.Endpoint)
	if err := s3local.CreateBucket(context.Background(), c, bucket); err != nil {
		t.Fatal(err)
	}
	store := dynamotest.Store(t)
	svc := incident.NewService(store, incident.Rules{})
	e := env{svc: svc, store: store, docs: s3.New(c, bucket), s3: c, slack: &recordingSlack{}}
	e.job = postmortemjob.New(postmortemjob.Config{
		Incidents: store, Links: svc, Deployments: store, Documents: e.docs, Slack: e.slack,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return e
}

// versions counts the stored versions of the incident's document.
func (e env) versions(t *testing.T, id string) int {
	t.Helper()
	out, err := e.s3.ListObjectVersions(context.Background(), &awss3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(postmortem.Key(id))})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Versions)
}

func (e env) latest(t *testing.T, id string) string {
	t.Helper()
	obj, err := e.docs.Get(context.Background(), postmortem.Key(id), "")
	if err != nil {
		t.Fatal(err)
	}
	return string(obj.Body)
}

// open opens a checkout incident from an alarm with a war room.
func (e env) open(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	res, err := e.svc.Ingest(ctx, incidenttest.Alarm("checkout", "checkout-5xx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetWarRoom(ctx, res.IncidentID, "warroom", "C0WARROOM", "inc-checkout"); err != nil {
		t.Fatal(err)
	}
	return res.IncidentID
}

func TestResolveWritesOneVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.open(t)

	// Not resolved yet: nothing is written.
	if out, err := e.job.Run(ctx, id); err != nil || out.Rendered {
		t.Fatalf("open incident: got %+v, %v, want nothing rendered", out, err)
	}
	if _, err := e.svc.Resolve(ctx, id, "alice", incident.Resolution{RootCause: "pool exhausted", Fix: "rolled back"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // the event, then two redeliveries
		out, err := e.job.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if out.Written != (i == 0) {
			t.Errorf("run %d: got written %v, want %v", i, out.Written, i == 0)
		}
	}
	if n := e.versions(t, id); n != 1 {
		t.Errorf("got %d versions after a redelivered resolve, want 1", n)
	}
	if n := e.slack.count(); n != 1 {
		t.Errorf("got %d announcements, want 1", n)
	}
	doc := e.latest(t, id)
	for _, want := range []string{"## Root cause\n\npool exhausted", "## Fix\n\nrolled back", "**resolved** (alice)"} {
		if !strings.Contains(doc, want) {
			t.Errorf("got\n%s\nwant it to contain %q", doc, want)
		}
	}
	inc, err := e.svc.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Postmortem == nil || inc.Postmortem.Key != postmortem.Key(id) || inc.Postmortem.VersionID == "" || inc.Postmortem.Announced != inc.Postmortem.VersionID {
		t.Errorf("got link %+v, want the key, its version, announced", inc.Postmortem)
	}
}

func TestUpdatedFieldsWriteASecondVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.open(t)
	if _, err := e.svc.Resolve(ctx, id, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.job.Run(ctx, id); err != nil {
		t.Fatal(err)
	}
	if doc := e.latest(t, id); !strings.Contains(doc, "## Root cause\n\n_To be completed._") {
		t.Errorf("got\n%s\nwant the root cause to be completed", doc)
	}
	rc, items := "a leaked connection per retry", []string{"cap retries", "alarm on pool usage"}
	if _, err := e.svc.UpdatePostmortem(ctx, id, "bob", incident.PostmortemFields{RootCause: &rc, ActionItems: &items}); err != nil {
		t.Fatal(err)
	}
	out, err := e.job.Run(ctx, id)
	if err != nil || !out.Written {
		t.Fatalf("got %+v, %v, want a new version written", out, err)
	}
	if n := e.versions(t, id); n != 2 {
		t.Errorf("got %d versions, want 2", n)
	}
	doc := e.latest(t, id)
	for _, want := range []string{"a leaked connection per retry", "- [ ] cap retries\n- [ ] alarm on pool usage", "**postmortem_updated** (bob)"} {
		if !strings.Contains(doc, want) {
			t.Errorf("got\n%s\nwant it to contain %q", doc, want)
		}
	}
	if n := e.slack.count(); n != 2 {
		t.Errorf("got %d announcements, want 2 (one per version)", n)
	}
}

func TestSlackDownStoresTheDocumentAndFails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.open(t)
	if _, err := e.svc.Resolve(ctx, id, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	e.slack.set(errors.New("slack: 503 Service Unavailable"))
	if _, err := e.job.Run(ctx, id); err == nil {
		t.Fatal("got no error with Slack down, want one (the event is retried)")
	}
	if n := e.versions(t, id); n != 1 {
		t.Errorf("got %d versions with Slack down, want 1 (stored)", n)
	}
	// The retry, Slack back: no second version, announced once.
	e.slack.set(nil)
	out, err := e.job.Run(ctx, id)
	if err != nil || out.Written || !out.Announced {
		t.Fatalf("retry: got %+v, %v, want announced without a write", out, err)
	}
	if n, a := e.versions(t, id), e.slack.count(); n != 1 || a != 1 {
		t.Errorf("got %d versions and %d announcements, want 1 and 1", n, a)
	}
	// A Slack answer a retry will not change is dropped, not retried.
	id2 := e.open(t)
	if _, err := e.svc.Resolve(ctx, id2, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	e.slack.set(permanent{})
	if _, err := e.job.Run(ctx, id2); err != nil {
		t.Errorf("permanent Slack error: got %v, want it dropped", err)
	}
}

func TestDeploymentsInTheDocument(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.open(t)
	inc, err := e.svc.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	finished := inc.StartedAt.Add(-10 * time.Minute).UTC().Truncate(time.Second)
	for _, r := range []deploy.Record{
		{ID: "deploy-old", Service: "checkout", Environment: "production", Version: "v1", Status: deploy.Succeeded,
			StartedAt: finished.Add(-5 * time.Hour), FinishedAt: finished.Add(-5 * time.Hour)},
		{ID: "deploy-new", Service: "checkout", Environment: "production", Version: "v2", Status: deploy.Succeeded,
			StartedAt: finished.Add(-time.Minute), FinishedAt: finished},
	} {
		if _, _, err := e.store.PutDeployment(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Resolve(ctx, id, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.job.Run(ctx, id); err != nil {
		t.Fatal(err)
	}
	doc := e.latest(t, id)
	if !strings.Contains(doc, "- Suspected: `deploy-new` version v2") || strings.Contains(doc, "deploy-old") {
		t.Errorf("got\n%s\nwant deploy-new suspected (within 4h) and not deploy-old", doc)
	}
}

// The events/ fixture (an incident.resolved event from IncidentEventsTopic)
// replayed twice through the handler writes one version.
func TestFixtureReplays(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	raw, err := os.ReadFile("../../events/postmortem-resolved.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	var msg incident.Event
	if err := json.Unmarshal([]byte(ev.Records[0].SNS.Message), &msg); err != nil {
		t.Fatal(err)
	}
	// The incident the event names, resolved.
	v := msg.Incident
	inc := incident.Incident{ID: v.ID, Service: v.Service, Title: v.Title, Severity: incident.Severity(v.Severity),
		Status: incident.StatusResolved, Source: incident.Source(v.Source), StartedAt: v.StartedAt, CreatedAt: v.CreatedAt,
		UpdatedAt: v.UpdatedAt, AcknowledgedAt: v.AcknowledgedAt, ResolvedAt: v.ResolvedAt, WarRoomChannel: v.WarRoomChannel,
		RootCause: v.RootCause, Fix: v.Fix, Version: 1}
	opened := incident.Entry{ID: "e1", At: v.CreatedAt, Kind: incident.EntryOpened, Actor: "alarms", Text: v.Title}
	resolved := incident.Entry{ID: msg.EventID, At: msg.At, Kind: incident.EntryResolved, Actor: msg.Actor, Text: msg.Text}
	if err := e.store.Apply(ctx, incident.Change{Kind: incident.Create, Incident: inc, Entries: []incident.Entry{opened, resolved}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.job.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if n, a := e.versions(t, v.ID), e.slack.count(); n != 1 || a != 1 {
		t.Errorf("got %d versions and %d announcements, want 1 and 1", n, a)
	}
	if doc := e.latest(t, v.ID); !strings.Contains(doc, "connection pool exhausted by v2.3.0") {
		t.Errorf("got\n%s\nwant the root cause of the event's incident", doc)
	}
}
