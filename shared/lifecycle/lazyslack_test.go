package lifecycle_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/slack"
)

// secret is the Slack secret behind a LazySlack: reads counts the reads, err
// fails them, token is what a read gives.
type secret struct {
	mu    sync.Mutex
	token string
	err   error
	reads int
}

func (s *secret) read(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return s.token, s.err
}

func (s *secret) set(token string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.err = token, err
}

func (s *secret) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// lazyInc is the incident of the LazySlack tests' posts, lazyEntry an entry
// of it.
var lazyInc = incident.Incident{ID: "01kkc0r8r0v8jpwcaajhtjk24r", Service: "checkout", Title: "t", Severity: incident.SEV2, Status: incident.StatusAcknowledged}

func lazyEntry(text string) incident.Entry {
	return incident.Entry{ID: "e-" + text, Kind: incident.EntryNote, Actor: "alice", Text: text}
}

// lazy returns a LazySlack over s whose clients are rec, and the tokens it
// built clients with.
func lazy(s *secret, rec *slack.Recorder) (*lifecycle.LazySlack, *[]string) {
	var built []string
	l := lifecycle.NewLazySlack(s.read, func(token string) lifecycle.Slack {
		built = append(built, token)
		return slack.NewNotifier(rec)
	})
	l.RetryWait = time.Nanosecond
	return l, &built
}

func TestLazySlack(t *testing.T) {
	ctx := context.Background()
	rec := slack.NewRecorder(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	throttled := errors.New("ThrottlingException: rate exceeded")
	s := &secret{err: throttled}
	l, built := lazy(s, rec)
	if err := l.PostEntry(ctx, "C0WARROOM", lazyInc, lazyEntry("a")); !errors.Is(err, throttled) || errors.Is(err, lifecycle.ErrSlackOff) {
		t.Fatalf("unreadable secret: got %v, want the read's error (not Slack off)", err)
	}
	s.set("xoxb-1", nil)
	if err := l.PostEntry(ctx, "C0WARROOM", lazyInc, lazyEntry("b")); err != nil {
		t.Fatalf("readable again: got %v, want the post made", err)
	}
	if err := l.ClosePage(ctx, lazyInc, incident.SlackPage{Channel: "C0WARROOM", TS: "1.2"}, lazyEntry("c")); err != nil {
		t.Fatal(err)
	}
	if got, want := s.count(), 2; got != want {
		t.Errorf("got %d secret reads, want %d (read again after the failure, then kept)", got, want)
	}
	if want := []string{"xoxb-1"}; !slices.Equal(*built, want) {
		t.Errorf("got clients for %v, want %v (one client)", *built, want)
	}
	if got := len(rec.Messages()); got != 2 {
		t.Errorf("got %d Slack calls, want 2", got)
	}

	// No bot token: Slack is off, and stays off without reading again.
	off := &secret{}
	l, built = lazy(off, rec)
	for range 2 {
		if err := l.PostEntry(ctx, "C0WARROOM", lazyInc, lazyEntry("d")); !errors.Is(err, lifecycle.ErrSlackOff) {
			t.Errorf("empty token: got %v, want ErrSlackOff", err)
		}
	}
	if off.count() != 1 || len(*built) != 0 {
		t.Errorf("empty token: got %d reads and clients %v, want 1 read, no client", off.count(), *built)
	}
}

// A failed read is answered again for RetryWait: the Slack calls of one
// record do not each wait on the secret.
func TestLazySlackWaitsBeforeReadingAgain(t *testing.T) {
	s := &secret{err: errors.New("timeout")}
	clock := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	l := lifecycle.NewLazySlack(s.read, func(string) lifecycle.Slack { return nil })
	l.RetryWait, l.Now = time.Second, func() time.Time { return clock }
	for range 3 {
		if err := l.ClosePage(context.Background(), lazyInc, incident.SlackPage{Channel: "D0ALICE", TS: "1.2"}, lazyEntry("")); err == nil {
			t.Fatal("got nil, want the read's error")
		}
	}
	if got := s.count(); got != 1 {
		t.Errorf("got %d reads within RetryWait, want 1", got)
	}
	clock = clock.Add(time.Second)
	_ = l.ClosePage(context.Background(), lazyInc, incident.SlackPage{Channel: "D0ALICE", TS: "1.2"}, lazyEntry(""))
	if got := s.count(); got != 2 {
		t.Errorf("got %d reads after RetryWait, want 2", got)
	}
}

// handlerWith is e's handler with slack as its Slack.
func (e *env) handlerWith(sl lifecycle.Slack) *lifecycle.Handler {
	return lifecycle.NewHandler(lifecycle.Config{
		Starter: e.starter, Incidents: e.store, Deliveries: e.store, SlackPages: e.store, Decode: dynamo.DecodeStreamRecord, Slack: sl, Publisher: e.events,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
}

func handleWith(t *testing.T, h *lifecycle.Handler, recs ...events.DynamoDBEventRecord) []string {
	t.Helper()
	resp, err := h.Handle(context.Background(), events.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	failed := []string{}
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

// entryID is the id of the timeline entry rec inserts.
func entryID(t *testing.T, rec events.DynamoDBEventRecord) string {
	t.Helper()
	img, err := dynamo.FromStreamImage(rec.Change.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	_, en, err := dynamo.DecodeEntry(img)
	if err != nil {
		t.Fatal(err)
	}
	return en.ID
}

// An unreadable Slack secret fails the record (the mapping retries it)
// instead of dropping the war-room post; the retry, with the secret
// readable, posts it. The event goes out on the first try, once.
func TestUnreadableSlackSecretFailsTheRecordUntilReadable(t *testing.T) {
	e := newEnv(t)
	inc := e.withWarRoom(t, "C0WARROOM")
	if _, err := e.svc.Acknowledge(context.Background(), inc.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	s := &secret{err: errors.New("ThrottlingException")}
	l, _ := lazy(s, e.slack.Recorder)
	h := e.handlerWith(l)
	ack := e.entry(t, inc.ID, incident.EntryAcknowledged)
	if failed, want := handleWith(t, h, ack), []string{ack.Change.SequenceNumber}; !slices.Equal(failed, want) {
		t.Fatalf("secret unreadable: got failures %v, want %v", failed, want)
	}
	s.set("xoxb-1", nil)
	if failed := handleWith(t, h, ack); len(failed) != 0 {
		t.Fatalf("retry: got failures %v, want none", failed)
	}
	if got := len(e.slack.posts("C0WARROOM")); got != 1 {
		t.Errorf("got %d war-room posts, want 1", got)
	}
	if got, want := e.events.types(), []string{"incident.acknowledged"}; !slices.Equal(got, want) {
		t.Errorf("got events %v, want %v (once, on the first try)", got, want)
	}
}

// Without a bot token (Slack not configured) the war room is skipped, the
// record succeeds, and the post is not recorded as sent.
func TestSlackOffSkipsWithoutRecording(t *testing.T) {
	e := newEnv(t)
	inc := e.withWarRoom(t, "C0WARROOM")
	if _, err := e.svc.Acknowledge(context.Background(), inc.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	l, _ := lazy(&secret{}, e.slack.Recorder)
	ack := e.entry(t, inc.ID, incident.EntryAcknowledged)
	if failed := handleWith(t, e.handlerWith(l), ack); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	if got := len(e.slack.Messages()); got != 0 {
		t.Errorf("got %d Slack calls, want none", got)
	}
	if got, want := e.events.types(), []string{"incident.acknowledged"}; !slices.Equal(got, want) {
		t.Errorf("got events %v, want %v", got, want)
	}
	key := "warroom#" + inc.ID + "#" + entryID(t, ack)
	if _, err := e.store.Delivery(context.Background(), key); !errors.Is(err, errkind.NotFound) {
		t.Errorf("delivery %s: got %v, want not found (nothing was sent)", key, err)
	}
}

// Escalations start without the Slack secret being read.
func TestEscalationStartDoesNotReadTheSlackSecret(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t, incident.SEV1)
	s := &secret{err: errors.New("timeout")}
	l, _ := lazy(s, e.slack.Recorder)
	if failed := handleWith(t, e.handlerWith(l), e.record("INSERT", e.image(t, inc.ID), nil)); len(failed) != 0 {
		t.Fatalf("got failures %v, want none", failed)
	}
	if len(e.x.started) != 1 || s.count() != 0 {
		t.Errorf("got %d executions after %d secret reads, want 1 after none", len(e.x.started), s.count())
	}
}
