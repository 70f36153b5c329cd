package lifecycle_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/slack"
)

// flakySlack is the local Slack recorder, except that calls to a channel in
// fail return that error (and are counted in attempts, not recorded).
type flakySlack struct {
	*slack.Recorder
	mu       sync.Mutex
	fail     map[string]error
	attempts int
}

func (f *flakySlack) failing(channel string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.fail, channel)
		return
	}
	f.fail[channel] = err
}

func (f *flakySlack) err(channel string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	return f.fail[channel]
}

func (f *flakySlack) PostMessage(ctx context.Context, channel string, msg slack.Message) (string, error) {
	if err := f.err(channel); err != nil {
		return "", err
	}
	return f.Recorder.PostMessage(ctx, channel, msg)
}

func (f *flakySlack) UpdateMessage(ctx context.Context, channel, ts string, msg slack.Message) error {
	if err := f.err(channel); err != nil {
		return err
	}
	return f.Recorder.UpdateMessage(ctx, channel, ts, msg)
}

// posts returns the messages posted to channel.
func (f *flakySlack) posts(channel string) []slack.Message {
	var out []slack.Message
	for _, c := range f.Messages() {
		if c.Method == "chat.postMessage" && c.Channel == channel {
			out = append(out, *c.Message)
		}
	}
	return out
}

// published is the test's IncidentEventsTopic.
type published struct {
	mu     sync.Mutex
	events []incident.Event
}

func (p *published) PublishEvent(_ context.Context, ev incident.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, ev)
	return nil
}

func (p *published) types() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []string{}
	for _, ev := range p.events {
		out = append(out, ev.Type)
	}
	return out
}

// entry returns the INSERT record of the incident's newest timeline entry of
// kind, as the stream carries it.
func (e *env) entry(t *testing.T, id string, kind incident.EntryKind) events.DynamoDBEventRecord {
	t.Helper()
	out, err := e.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(e.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :tl)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "INC#" + id}, ":tl": &types.AttributeValueMemberS{Value: "TL#"},
		},
		ScanIndexForward: aws.Bool(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		if k, ok := item["kind"].(*types.AttributeValueMemberS); ok && k.Value == string(kind) {
			return e.record("INSERT", streamImage(t, item), nil)
		}
	}
	t.Fatalf("incident %s has no %s entry", id, kind)
	return events.DynamoDBEventRecord{}
}

// withWarRoom declares an incident whose war room is channel.
func (e *env) withWarRoom(t *testing.T, channel string) incident.Incident {
	t.Helper()
	inc := e.declare(t, incident.SEV2)
	inc, err := e.svc.SetWarRoom(context.Background(), inc.ID, escalation.Actor, channel, "inc-"+strings.ToLower(channel))
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestNoteIsPostedToTheWarRoom(t *testing.T) {
	e := newEnv(t)
	inc := e.withWarRoom(t, "C0WARROOM")
	if _, err := e.svc.AddNote(context.Background(), inc.ID, "carol", "rolled back 4711"); err != nil {
		t.Fatal(err)
	}
	if failed := e.handle(t, e.entry(t, inc.ID, incident.EntryNote)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	posts := e.slack.posts("C0WARROOM")
	if len(posts) != 1 {
		t.Fatalf("got %d war-room posts, want 1", len(posts))
	}
	if want := inc.ID + ": Note by carol: rolled back 4711"; posts[0].Text != want {
		t.Errorf("got post %q, want %q", posts[0].Text, want)
	}
	if got := e.events.types(); len(got) != 0 {
		t.Errorf("got events %v for a note, want none", got)
	}
}

// A record delivered twice (a retried batch) posts once and publishes once.
func TestRedeliveredEntrySendsOnce(t *testing.T) {
	e := newEnv(t)
	inc := e.withWarRoom(t, "C0WARROOM")
	if _, err := e.svc.Acknowledge(context.Background(), inc.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	ack := e.entry(t, inc.ID, incident.EntryAcknowledged)
	for range 2 {
		if failed := e.handle(t, ack); len(failed) != 0 {
			t.Fatalf("got failures %v, want none", failed)
		}
	}
	if got := len(e.slack.posts("C0WARROOM")); got != 1 {
		t.Errorf("got %d war-room posts, want 1", got)
	}
	if got, want := e.events.types(), []string{"incident.acknowledged"}; !slices.Equal(got, want) {
		t.Fatalf("got events %v, want %v", got, want)
	}
	ev := e.events.events[0]
	if ev.EventID == "" || ev.Actor != "carol" || ev.Incident.ID != inc.ID || ev.Incident.Status != "acknowledged" ||
		ev.Incident.AcknowledgedAt == nil || ev.Incident.WarRoomChannel != "C0WARROOM" || ev.Incident.Service != "checkout" {
		t.Errorf("got event %+v, want carol's acknowledgement of %s", ev, inc.ID)
	}
}

// Acknowledging takes the buttons off every Slack page of the incident, and
// only of that incident.
func TestAcknowledgeClosesSlackPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inc := e.declare(t, incident.SEV2)
	other := e.declare(t, incident.SEV2)
	pages := []incident.SlackPage{
		{IncidentID: inc.ID, Channel: "D0ALICE", TS: "1700000000.000001", Responder: "alice", SlackUserID: "U0ALICE", Level: 1},
		{IncidentID: inc.ID, Channel: "D0CAROL", TS: "1700000000.000002", Responder: "carol", SlackUserID: "U0CAROL", Level: 2},
		{IncidentID: other.ID, Channel: "D0BOB", TS: "1700000000.000003", Responder: "bob", SlackUserID: "U0BOB", Level: 1},
	}
	for _, p := range pages {
		if err := e.store.RecordSlackPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Acknowledge(ctx, inc.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if failed := e.handle(t, e.entry(t, inc.ID, incident.EntryAcknowledged)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	var got []string
	for _, c := range e.slack.Messages() {
		if c.Method != "chat.update" {
			t.Errorf("got %s to %s, want only page updates (no war room)", c.Method, c.Channel)
			continue
		}
		got = append(got, c.Channel+"/"+c.TS)
		if !strings.Contains(c.Message.Text, "Acknowledged by carol") {
			t.Errorf("page %s: got %q, want it to say who acknowledged", c.Channel, c.Message.Text)
		}
		for _, b := range c.Message.Blocks {
			if len(b.Buttons) > 0 {
				t.Errorf("page %s: got buttons %+v, want none", c.Channel, b.Buttons)
			}
		}
	}
	if want := []string{"D0ALICE/1700000000.000001", "D0CAROL/1700000000.000002"}; !slices.Equal(got, want) {
		t.Errorf("got updates of %v, want %v", got, want)
	}
}

// Which entry kinds reach the war room and the topic.
func TestEntryKindsPostedAndPublished(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sig := incident.Signal{Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "checkout", DedupKey: "alarm:checkout-5xx",
		Severity: incident.SEV2, Title: "checkout 5xx", At: now, DeliveryID: "m-1", Actor: "alarm:checkout-5xx"}
	res, err := e.svc.Ingest(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	id := res.IncidentID
	if _, err := e.svc.SetWarRoom(ctx, id, escalation.Actor, "C0WARROOM", "inc-checkout"); err != nil {
		t.Fatal(err)
	}
	sig.DeliveryID = "m-2"
	if _, err := e.svc.Ingest(ctx, sig); err != nil { // a repeated alarm: a signal entry
		t.Fatal(err)
	}
	title := "Checkout 5xx at 30%"
	if _, err := e.svc.Update(ctx, id, "carol", incident.Patch{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Resolve(ctx, id, "carol", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind      incident.EntryKind
		wantPost  bool
		wantEvent string
	}{
		{incident.EntryOpened, false, "incident.opened"},
		{incident.EntryWarRoomOpened, false, ""},
		{incident.EntrySignal, false, ""},
		{incident.EntryTitleChanged, true, ""},
		{incident.EntryResolved, true, "incident.resolved"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			before, events := len(e.slack.posts("C0WARROOM")), len(e.events.types())
			if failed := e.handle(t, e.entry(t, id, tt.kind)); len(failed) != 0 {
				t.Fatalf("got failures %v, want none", failed)
			}
			if got := len(e.slack.posts("C0WARROOM")) - before; got != map[bool]int{true: 1}[tt.wantPost] {
				t.Errorf("got %d war-room posts, want posted %v", got, tt.wantPost)
			}
			var want []string
			if tt.wantEvent != "" {
				want = []string{tt.wantEvent}
			}
			if got := e.events.types()[events:]; !slices.Equal(got, want) {
				t.Errorf("got events %v, want %v", got, want)
			}
		})
	}
}

// A channel Slack will never post to (archived, deleted, the bot removed)
// drops the post: the record does not fail and block the shard, and the
// dropped post is recorded as done, so a redelivery does not try it again.
func TestSlackPermanentErrorIsDropped(t *testing.T) {
	e := newEnv(t)
	inc := e.withWarRoom(t, "C0ARCHIVED")
	e.slack.failing("C0ARCHIVED", &slack.APIError{Method: "chat.postMessage", Status: 200, Code: "is_archived"})
	if _, err := e.svc.Acknowledge(context.Background(), inc.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	ack := e.entry(t, inc.ID, incident.EntryAcknowledged)
	for range 2 { // delivered twice
		if failed := e.handle(t, ack); len(failed) != 0 {
			t.Errorf("got failures %v, want the post dropped", failed)
		}
	}
	if e.slack.attempts != 1 {
		t.Errorf("got %d Slack calls, want 1 (the redelivery finds the post recorded)", e.slack.attempts)
	}
	if got, want := e.events.types(), []string{"incident.acknowledged"}; !slices.Equal(got, want) {
		t.Errorf("got events %v, want %v (Slack does not hold the event)", got, want)
	}
}

// Slack failing for one incident's war room fails that record alone; the
// retry posts it, and publishes its event no second time.
func TestSlackTransientErrorFailsThatRecordOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	down := e.withWarRoom(t, "C0DOWN")
	up := e.withWarRoom(t, "C0UP")
	for _, inc := range []incident.Incident{down, up} {
		if _, err := e.svc.Acknowledge(ctx, inc.ID, "carol"); err != nil {
			t.Fatal(err)
		}
	}
	e.slack.failing("C0DOWN", &slack.APIError{Method: "chat.postMessage", Status: 503})
	ackDown, ackUp := e.entry(t, down.ID, incident.EntryAcknowledged), e.entry(t, up.ID, incident.EntryAcknowledged)
	if failed, want := e.handle(t, ackDown, ackUp), []string{ackDown.Change.SequenceNumber}; !slices.Equal(failed, want) {
		t.Fatalf("got failures %v, want %v", failed, want)
	}
	if got := len(e.slack.posts("C0UP")); got != 1 {
		t.Errorf("got %d posts to the working war room, want 1", got)
	}
	e.slack.failing("C0DOWN", nil)
	if failed := e.handle(t, ackDown); len(failed) != 0 {
		t.Fatalf("retry: got failures %v, want none", failed)
	}
	if got := len(e.slack.posts("C0DOWN")); got != 1 {
		t.Errorf("got %d posts after the retry, want 1", got)
	}
	if got := len(e.events.types()); got != 2 {
		t.Errorf("got %d events, want 2 (one per acknowledgement, none again on the retry)", got)
	}
}

// With less time left than a Slack call may take, the record fails (to be
// retried) without calling Slack: the invocation must not time out.
func TestNoSlackCallPastTheDeadline(t *testing.T) {
	e := newEnv(t)
	inc := e.withWarRoom(t, "C0WARROOM")
	if _, err := e.svc.AddNote(context.Background(), inc.ID, "carol", "looking"); err != nil {
		t.Fatal(err)
	}
	rec := e.entry(t, inc.ID, incident.EntryNote)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := e.h.Handle(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || e.slack.attempts != 0 {
		t.Errorf("got failures %v after %d Slack calls, want the record failed without a call", resp.BatchItemFailures, e.slack.attempts)
	}
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&slack.APIError{Code: "channel_not_found"}, true},
		{&slack.APIError{Code: "not_in_channel"}, true},
		{&slack.APIError{Code: "message_not_found"}, true},
		// A revoked token stays permanent: retrying would hold up the fan-out
		// (IncidentEventsTopic) for every other incident.
		{&slack.APIError{Code: "invalid_auth"}, true},
		{&slack.APIError{Code: "ratelimited"}, false},
		{&slack.APIError{Code: "internal_error"}, false},
		{&slack.APIError{Status: 502}, false},
		{context.DeadlineExceeded, false},
		{errors.New("connection reset by peer"), false},
	}
	for _, tt := range tests {
		if got := lifecycle.Permanent(tt.err); got != tt.want {
			t.Errorf("Permanent(%v): got %v, want %v", tt.err, got, tt.want)
		}
	}
}

// deadlines records the deadline of each publish's context.
type deadlines struct {
	mu   sync.Mutex
	left []time.Duration
	none int
}

func (d *deadlines) PublishEvent(ctx context.Context, _ incident.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	deadline, ok := ctx.Deadline()
	if !ok {
		d.none++
		return nil
	}
	d.left = append(d.left, time.Until(deadline))
	return nil
}

// Each publish has its own time bound: SNS retrying inside the SDK must not
// time out the whole batch.
func TestPublishIsTimeBounded(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t, incident.SEV2)
	if _, err := e.svc.Acknowledge(context.Background(), inc.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	d := &deadlines{}
	h := lifecycle.NewHandler(lifecycle.Config{Starter: e.starter, Decode: dynamo.DecodeStreamRecord, Incidents: e.store, Deliveries: e.store, Publisher: d})
	if failed := handleWith(t, h, e.entry(t, inc.ID, incident.EntryAcknowledged)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	if len(d.left) != 1 || d.none != 0 || d.left[0] > lifecycle.DefaultPublishTimeout || d.left[0] <= 0 {
		t.Errorf("got %d publishes without a deadline, time left %v; want one within %v", d.none, d.left, lifecycle.DefaultPublishTimeout)
	}
}
