package slack

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A page posted to a user id lands in a DM: Post returns the DM's id, which
// chat.update needs (it refuses the user id).
func TestPostReturnsTheConversation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"D0ALICE","ts":"1700000000.000001","message":{}}`)
	}))
	defer srv.Close()
	c := newTestClient(srv, Config{})
	got, err := Post(context.Background(), c, "U0ALICE", Message{Text: "page"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Posted{Channel: "D0ALICE", TS: "1700000000.000001"}); got != want {
		t.Errorf("client: got %+v, want %+v", got, want)
	}

	rec := NewRecorder(slog.New(slog.DiscardHandler))
	tests := []struct {
		m    Messenger
		give string
		want string
	}{
		{rec, "U0ALICE", "D0ALICE"},
		{rec, "W0ALICE", "D0ALICE"},
		{rec, "C0WARROOM", "C0WARROOM"},
		{postOnly{rec}, "U0ALICE", "U0ALICE"}, // no ChannelPoster: the channel given
	}
	for _, tt := range tests {
		got, err := Post(context.Background(), tt.m, tt.give, Message{Text: "page"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Channel != tt.want || got.TS == "" {
			t.Errorf("%T to %s: got %+v, want channel %s and a ts", tt.m, tt.give, got, tt.want)
		}
	}
}

// postOnly hides the Recorder's PostMessageIn.
type postOnly struct{ r *Recorder }

func (p postOnly) PostMessage(ctx context.Context, channel string, msg Message) (string, error) {
	return p.r.PostMessage(ctx, channel, msg)
}
func (p postOnly) UpdateMessage(ctx context.Context, channel, ts string, msg Message) error {
	return p.r.UpdateMessage(ctx, channel, ts, msg)
}
func (p postOnly) CreateChannel(ctx context.Context, name string) (Channel, error) {
	return p.r.CreateChannel(ctx, name)
}
func (p postOnly) SetTopic(ctx context.Context, channel, topic string) error {
	return p.r.SetTopic(ctx, channel, topic)
}
func (p postOnly) Invite(ctx context.Context, channel string, users []string) error {
	return p.r.Invite(ctx, channel, users)
}
