package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// ErrSlackOff is a Slack call's answer when Slack is not configured (no bot
// token): the handler skips the post or page update as if Config.Slack were
// nil, and records nothing as sent.
var ErrSlackOff = errors.New("slack is off: no bot token")

// DefaultTokenRetryWait is how long LazySlack answers a failed token read
// again before reading anew: the few Slack calls of one record do not each
// wait on a secret that just failed.
const DefaultTokenRetryWait = time.Second

// LazySlack is a Slack whose bot token is read on first use rather than at
// cold start, so that an unreadable secret (throttling, a timeout) fails the
// records that need Slack, to be retried, instead of turning Slack off for
// the instance's life; escalation starts never wait on it. Once read, the
// token is kept: an empty one means Slack is off (every call answers
// ErrSlackOff), any other builds the client once. A failed read is answered
// again for DefaultTokenRetryWait, then read anew. Safe for concurrent use.
type LazySlack struct {
	token     func(ctx context.Context) (string, error)
	newClient func(token string) Slack
	// RetryWait overrides DefaultTokenRetryWait (tests); Now the clock.
	RetryWait time.Duration
	Now       func() time.Time

	mu       sync.Mutex
	client   Slack
	off      bool
	err      error
	failedAt time.Time
}

// NewLazySlack returns a LazySlack that reads the bot token with token (e.g.
// settings.Lambda.Slack) and makes its client with newClient (e.g. a
// slack.Notifier around slack.NewClient).
func NewLazySlack(token func(ctx context.Context) (string, error), newClient func(token string) Slack) *LazySlack {
	return &LazySlack{token: token, newClient: newClient}
}

var _ Slack = (*LazySlack)(nil)

// get returns the client, reading the token if it is not read yet.
func (l *LazySlack) get(ctx context.Context) (Slack, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.client != nil:
		return l.client, nil
	case l.off:
		return nil, ErrSlackOff
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	wait := l.RetryWait
	if wait <= 0 {
		wait = DefaultTokenRetryWait
	}
	if l.err != nil && now().Sub(l.failedAt) < wait {
		return nil, l.err
	}
	token, err := l.token(ctx)
	if err != nil {
		l.err, l.failedAt = fmt.Errorf("read the Slack bot token: %w", err), now()
		return nil, l.err
	}
	l.err = nil
	if token == "" {
		l.off = true
		return nil, ErrSlackOff
	}
	l.client = l.newClient(token)
	return l.client, nil
}

// PostEntry implements Slack.
func (l *LazySlack) PostEntry(ctx context.Context, channel string, inc incident.Incident, e incident.Entry) error {
	c, err := l.get(ctx)
	if err != nil {
		return err
	}
	return c.PostEntry(ctx, channel, inc, e)
}

// ClosePage implements Slack.
func (l *LazySlack) ClosePage(ctx context.Context, inc incident.Incident, p incident.SlackPage, answer incident.Entry) error {
	c, err := l.get(ctx)
	if err != nil {
		return err
	}
	return c.ClosePage(ctx, inc, p, answer)
}
