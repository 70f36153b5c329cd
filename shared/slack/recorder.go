package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// Call is one Messenger call a Recorder received.
type Call struct {
	// Method is the Web API method the call stands for (chat.postMessage,
	// chat.update, conversations.create, conversations.setTopic,
	// conversations.invite).
	Method  string   `json:"method"`
	Channel string   `json:"channel,omitempty"`
	TS      string   `json:"ts,omitempty"`
	Name    string   `json:"name,omitempty"`
	Topic   string   `json:"topic,omitempty"`
	Users   []string `json:"users,omitempty"`
	Message *Message `json:"message,omitempty"`
	// Err is the error the call returned, if Fail made it fail.
	Err string `json:"error,omitempty"`
}

// Recorder is the local Slack: it logs every call as one JSON line (through
// its logger: give it a slog.JSONHandler) and keeps the calls for tests. It
// behaves like Slack where the callers can tell: channel names collide and
// get suffixed, invites of members are no-ops, messages get increasing ts.
type Recorder struct {
	log *slog.Logger

	mu       sync.Mutex
	calls    []Call
	channels map[string]string          // name → id
	members  map[string]map[string]bool // channel id → users
	seq      int
	fail     error
}

// NewRecorder returns an empty Recorder logging to log (nil: slog.Default()).
func NewRecorder(log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{log: log, channels: map[string]string{}, members: map[string]map[string]bool{}}
}

// Fail makes every later call return err (and be recorded with it), as Slack
// being down would; Fail(nil) heals it.
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// Calls returns a copy of the calls so far, in order.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Messages returns the posted and updated messages so far, in order.
func (r *Recorder) Messages() []Call {
	var out []Call
	for _, c := range r.Calls() {
		if c.Message != nil && c.Err == "" {
			out = append(out, c)
		}
	}
	return out
}

// Members returns the users invited to channel, sorted.
func (r *Recorder) Members(channel string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for u := range r.members[channel] {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// PostMessage implements Messenger.
func (r *Recorder) PostMessage(ctx context.Context, channel string, msg Message) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := Call{Method: "chat.postMessage", Channel: channel, Message: &msg}
	if r.fail == nil {
		r.seq++
		c.TS = fmt.Sprintf("1700000000.%06d", r.seq)
	}
	return c.TS, r.record(ctx, c)
}

// UpdateMessage implements Messenger.
func (r *Recorder) UpdateMessage(ctx context.Context, channel, ts string, msg Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.record(ctx, Call{Method: "chat.update", Channel: channel, TS: ts, Message: &msg})
}

// CreateChannel implements Messenger.
func (r *Recorder) CreateChannel(ctx context.Context, name string) (Channel, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	base := NormalizeChannelName(name)
	if base == "" {
		return Channel{}, fmt.Errorf("slack conversations.create: channel name %q has no valid character", name)
	}
	c := Call{Method: "conversations.create", Name: base}
	if r.fail == nil {
		for i := 1; i <= maxNameTries; i++ {
			if try := suffixed(base, i); r.channels[try] == "" {
				c.Name = try
				break
			}
		}
		if r.channels[c.Name] != "" {
			return Channel{}, fmt.Errorf("slack conversations.create: %s and %d suffixed names are taken", base, maxNameTries-1)
		}
		r.seq++
		c.Channel = fmt.Sprintf("CLOCAL%05d", r.seq)
		r.channels[c.Name] = c.Channel
		r.members[c.Channel] = map[string]bool{}
	}
	if err := r.record(ctx, c); err != nil {
		return Channel{}, err
	}
	return Channel{ID: c.Channel, Name: c.Name}, nil
}

// SetTopic implements Messenger.
func (r *Recorder) SetTopic(ctx context.Context, channel, topic string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.record(ctx, Call{Method: "conversations.setTopic", Channel: channel, Topic: Clip(topic, maxTopic)})
}

// Invite implements Messenger.
func (r *Recorder) Invite(ctx context.Context, channel string, userIDs []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	users := dedupe(userIDs)
	if len(users) == 0 {
		return nil
	}
	if err := r.record(ctx, Call{Method: "conversations.invite", Channel: channel, Users: users}); err != nil {
		return err
	}
	if r.members[channel] == nil {
		r.members[channel] = map[string]bool{}
	}
	for _, u := range users {
		r.members[channel][u] = true
	}
	return nil
}

// record keeps and logs c, failing it if Fail said so. r.mu is held.
func (r *Recorder) record(ctx context.Context, c Call) error {
	if r.fail != nil {
		c.Err = r.fail.Error()
	}
	r.calls = append(r.calls, c)
	attrs := []slog.Attr{slog.String("method", c.Method)}
	if c.Channel != "" {
		attrs = append(attrs, slog.String("channel", c.Channel))
	}
	if c.TS != "" {
		attrs = append(attrs, slog.String("ts", c.TS))
	}
	if c.Name != "" {
		attrs = append(attrs, slog.String("name", c.Name))
	}
	if c.Topic != "" {
		attrs = append(attrs, slog.String("topic", c.Topic))
	}
	if len(c.Users) > 0 {
		attrs = append(attrs, slog.Any("users", c.Users))
	}
	if c.Message != nil {
		attrs = append(attrs, slog.String("text", c.Message.Text))
		if blocks, err := json.Marshal(c.Message.Blocks); err == nil && len(c.Message.Blocks) > 0 {
			attrs = append(attrs, slog.Any("blocks", json.RawMessage(blocks)))
		}
	}
	if r.fail != nil {
		attrs = append(attrs, slog.String("error", c.Err))
		r.log.LogAttrs(ctx, slog.LevelWarn, "slack (local) call failed", attrs...)
		return fmt.Errorf("slack %s: %w", c.Method, r.fail)
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "slack (local)", attrs...)
	return nil
}
