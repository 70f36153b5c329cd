package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/text"
)

// Messenger is what the escalate, warroom and stream functions need from
// Slack. *Client talks to Slack's Web API; *Recorder prints and records, for
// `make local` and tests. A consumer may declare a narrower interface of its
// own (escalate only posts); both types satisfy any subset.
type Messenger interface {
	// PostMessage posts msg to channel (an id, or a user id for a DM) and
	// returns the message's ts, which UpdateMessage needs.
	PostMessage(ctx context.Context, channel string, msg Message) (ts string, err error)
	// PostMessageIn is PostMessage returning where the message went: the
	// conversation Slack answered with (for a user id, the DM's D… id, which
	// UpdateMessage needs) and its ts.
	PostMessageIn(ctx context.Context, channel string, msg Message) (Posted, error)
	// UpdateMessage replaces the message ts in channel (e.g. to take the
	// buttons off a page once it is acknowledged).
	UpdateMessage(ctx context.Context, channel, ts string, msg Message) error
	// CreateChannel creates a public channel named name (normalized with
	// NormalizeChannelName); if the name is taken it tries name-2, name-3, …
	// and returns the channel it made.
	CreateChannel(ctx context.Context, name string) (Channel, error)
	// SetTopic sets channel's topic (cut to Slack's 250 characters).
	SetTopic(ctx context.Context, channel, topic string) error
	// Invite adds users to channel. Users already in it (and the bot itself)
	// are not an error.
	Invite(ctx context.Context, channel string, userIDs []string) error
}

// Channel is a conversation Slack created.
type Channel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// APIError is a Slack Web API call that did not succeed: an ok:false answer
// (Code is Slack's error code, e.g. "channel_not_found"), an HTTP error
// status without one (Code empty), or a rate limit that outlasted the retries
// (Code "ratelimited", RetryAfter what Slack asked for last).
type APIError struct {
	Method     string
	Status     int
	Code       string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	switch {
	case e.Code == codeRateLimited:
		return fmt.Sprintf("slack %s: rate limited (retry after %s)", e.Method, e.RetryAfter)
	case e.Code != "":
		return fmt.Sprintf("slack %s: %s", e.Method, e.Code)
	}
	return fmt.Sprintf("slack %s: HTTP %d", e.Method, e.Status)
}

// Permanent reports whether Slack would give the same answer to the call
// again: an error code (channel_not_found, is_archived, not_in_channel,
// message_not_found, invalid_auth, token_revoked, account_inactive…) other
// than a rate limit or Slack's own failure. An HTTP error without a code is
// not. Callers match it without naming this package (errors.As with an
// interface of Permanent and ErrorCode: lifecycle.PermanentError).
func (e *APIError) Permanent() bool { return e.Code != "" && !transientCodes[e.Code] }

// ErrorCode returns Slack's error code ("" for an HTTP error without one).
func (e *APIError) ErrorCode() string { return e.Code }

// transientCodes are Slack error codes worth a retry.
var transientCodes = map[string]bool{
	codeRateLimited: true, "internal_error": true, "fatal_error": true, "service_unavailable": true,
	"request_timeout": true, "team_added_to_org": true,
}

// ErrorCode returns Slack's error code of err ("" if err is no *APIError).
func ErrorCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

const codeRateLimited = "ratelimited"

// Doer sends HTTP requests; *http.Client is one.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Config tunes a Client; the zero value is for production.
type Config struct {
	// BaseURL is the Web API root (default https://slack.com/api/).
	BaseURL string
	// HTTP sends the requests (default: an http.Client with a 10 s timeout).
	HTTP Doer
	// MaxAttempts bounds the tries of one call through 429s (default 3).
	MaxAttempts int
	// MaxRetryWait is the longest Retry-After worth waiting for (default 30 s);
	// a longer one fails the call at once with a "ratelimited" *APIError.
	MaxRetryWait time.Duration
	// Sleep waits d or until ctx ends (default: a timer); tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives a line per rate-limited retry (nil: slog.Default()).
	Logger *slog.Logger
}

// Client calls Slack's Web API with a bot token. It honours 429 Retry-After
// within bounds (MaxAttempts, MaxRetryWait, and the context's deadline: a wait
// that would outlast the deadline is not started), so it never blocks beyond
// its caller's budget. Only 429s are retried: any other failure may have
// taken effect (a posted message), and retrying it could post twice.
//
// The token travels only in the Authorization header; the Client never logs
// it, and prints as "slack.Client{token:REDACTED}".
type Client struct {
	token       string
	base        string
	http        Doer
	maxAttempts int
	maxWait     time.Duration
	sleep       func(context.Context, time.Duration) error
	log         *slog.Logger
}

var (
	_ Messenger = (*Client)(nil)
	_ Messenger = (*Recorder)(nil)
)

// NewClient returns a Client for the bot token (xoxb-…).
func NewClient(token string, cfg Config) *Client {
	c := &Client{token: token, base: cfg.BaseURL, http: cfg.HTTP, maxAttempts: cfg.MaxAttempts,
		maxWait: cfg.MaxRetryWait, sleep: cfg.Sleep, log: cfg.Logger}
	if c.base == "" {
		c.base = "https://slack.com/api/"
	}
	if !strings.HasSuffix(c.base, "/") {
		c.base += "/"
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Second}
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 3
	}
	if c.maxWait <= 0 {
		c.maxWait = 30 * time.Second
	}
	if c.sleep == nil {
		c.sleep = sleep
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c
}

// String, GoString and LogValue keep the token out of fmt and slog output.
// They have value receivers so that a copied Client is covered too.
func (c Client) String() string             { return "slack.Client{token:REDACTED}" }
func (c Client) GoString() string           { return c.String() }
func (c Client) LogValue() slog.Value       { return slog.StringValue(c.String()) }
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// PostMessage implements Messenger with chat.postMessage (see PostMessageIn).
func (c *Client) PostMessage(ctx context.Context, channel string, msg Message) (string, error) {
	p, err := c.PostMessageIn(ctx, channel, msg)
	return p.TS, err
}

// UpdateMessage implements Messenger with chat.update.
func (c *Client) UpdateMessage(ctx context.Context, channel, ts string, msg Message) error {
	blocks := msg.Blocks
	if blocks == nil {
		blocks = []Block{} // an absent "blocks" would keep the old ones, buttons included
	}
	return c.call(ctx, "chat.update", map[string]any{
		"channel": channel, "ts": ts, "text": msg.Text, "blocks": blocks,
	}, nil)
}

// maxNameTries bounds the names CreateChannel tries: name, name-2 … name-10.
const maxNameTries = 10

// CreateChannel implements Messenger with conversations.create.
func (c *Client) CreateChannel(ctx context.Context, name string) (Channel, error) {
	base := NormalizeChannelName(name)
	if base == "" {
		return Channel{}, fmt.Errorf("slack conversations.create: channel name %q has no valid character", name)
	}
	for i := 1; i <= maxNameTries; i++ {
		try := suffixed(base, i)
		var out struct {
			Channel Channel `json:"channel"`
		}
		err := c.call(ctx, "conversations.create", map[string]any{"name": try, "is_private": false}, &out)
		if ErrorCode(err) == "name_taken" {
			continue
		}
		if err != nil {
			return Channel{}, err
		}
		if out.Channel.Name == "" {
			out.Channel.Name = try
		}
		return out.Channel, nil
	}
	return Channel{}, fmt.Errorf("slack conversations.create: %s and %d suffixed names are taken", base, maxNameTries-1)
}

// suffixed is name for the first try, then name-<i>, cut to fit 80 characters.
func suffixed(name string, i int) string {
	if i == 1 {
		return name
	}
	suffix := "-" + strconv.Itoa(i)
	if len(name)+len(suffix) > maxChannel {
		name = strings.TrimRight(name[:maxChannel-len(suffix)], "-")
	}
	return name + suffix
}

// SetTopic implements Messenger with conversations.setTopic.
func (c *Client) SetTopic(ctx context.Context, channel, topic string) error {
	return c.call(ctx, "conversations.setTopic", map[string]any{"channel": channel, "topic": Clip(topic, maxTopic)}, nil)
}

// Per-user invite errors. Slack fails the whole conversations.invite call when
// one user fails, inviting nobody; on those codes Invite goes one by one.
var (
	inviteHarmless = map[string]bool{"already_in_channel": true, "cant_invite_self": true}
	invitePerUser  = map[string]bool{
		"already_in_channel": true, "cant_invite_self": true, "cant_invite": true, "user_not_found": true,
		"user_is_restricted": true, "user_is_ultra_restricted": true, "invitee_cant_see_channel": true,
		"no_external_invite_permission": true,
	}
)

// maxInvite is Slack's limit of users per conversations.invite call.
const maxInvite = 1000

// Invite implements Messenger with conversations.invite. Users already in the
// channel and the bot itself are skipped silently; other users that cannot be
// invited do not keep the rest out: their errors are returned together.
func (c *Client) Invite(ctx context.Context, channel string, userIDs []string) error {
	users := dedupe(userIDs)
	var errs []error
	for len(users) > 0 {
		batch := users[:min(len(users), maxInvite)]
		users = users[len(batch):]
		err := c.invite(ctx, channel, batch)
		code := ErrorCode(err)
		switch {
		case err == nil || inviteHarmless[code] && len(batch) == 1:
		case invitePerUser[code] && len(batch) > 1:
			for _, u := range batch {
				if err := c.invite(ctx, channel, []string{u}); err != nil && !inviteHarmless[ErrorCode(err)] {
					errs = append(errs, fmt.Errorf("invite %s: %w", u, err))
				}
			}
		default:
			return err
		}
	}
	return errors.Join(errs...)
}

func (c *Client) invite(ctx context.Context, channel string, users []string) error {
	return c.call(ctx, "conversations.invite", map[string]any{"channel": channel, "users": strings.Join(users, ",")}, nil)
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// maxResponse bounds how much of an answer is read.
const maxResponse = 4 << 20

// call posts params as JSON to method and decodes the answer into out (may be
// nil), retrying 429s as Slack asks.
func (c *Client) call(ctx context.Context, method string, params any, out any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("slack %s: encode: %w", method, err)
	}
	for attempt := 1; ; attempt++ {
		status, header, data, err := c.post(ctx, method, body)
		if err != nil {
			return fmt.Errorf("slack %s: %w", method, err)
		}
		var env struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		jsonErr := json.Unmarshal(data, &env)
		if status == http.StatusTooManyRequests || jsonErr == nil && env.Error == codeRateLimited {
			wait := retryAfter(header.Get("Retry-After"))
			if err := c.wait(ctx, method, attempt, wait); err != nil {
				return err
			}
			continue
		}
		if jsonErr != nil {
			return &APIError{Method: method, Status: status}
		}
		if !env.OK {
			return &APIError{Method: method, Status: status, Code: text.Clip(env.Error, 128, "", text.Bytes|text.Valid)}
		}
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("slack %s: decode: %w", method, err)
			}
		}
		return nil
	}
}

// wait sleeps through a rate limit, or says why it will not.
func (c *Client) wait(ctx context.Context, method string, attempt int, wait time.Duration) error {
	limited := &APIError{Method: method, Status: http.StatusTooManyRequests, Code: codeRateLimited, RetryAfter: wait}
	if attempt >= c.maxAttempts || wait > c.maxWait {
		return limited
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		// Waiting would only end in the deadline: fail now, so the caller
		// (a page that must not wait behind Slack) gets its time back.
		return limited
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "slack rate limited, retrying",
		slog.String("method", method), slog.Duration("retry_after", wait), slog.Int("attempt", attempt))
	if err := c.sleep(ctx, wait); err != nil {
		return fmt.Errorf("slack %s: waiting out rate limit: %w", method, err)
	}
	return nil
}

func (c *Client) post(ctx context.Context, method string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+method, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read answer: %w", err)
	}
	return res.StatusCode, res.Header, data, nil
}

// retryAfter reads a Retry-After of whole seconds; Slack always sends one with
// a 429, so a missing or odd value just waits a second.
func retryAfter(v string) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n < 0 {
		return time.Second
	}
	return time.Duration(n) * time.Second
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
