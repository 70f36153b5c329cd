package slack

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A page posted to a user id lands in a DM: PostMessageIn returns the DM's
// id, which chat.update needs (it refuses the user id).
func TestPostMessageInReturnsTheConversation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"D0ALICE","ts":"1700000000.000001","message":{}}`)
	}))
	defer srv.Close()
	c := newTestClient(srv, Config{})
	got, err := c.PostMessageIn(context.Background(), "U0ALICE", Message{Text: "page"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Posted{Channel: "D0ALICE", TS: "1700000000.000001"}); got != want {
		t.Errorf("client: got %+v, want %+v", got, want)
	}

	rec := NewRecorder(slog.New(slog.DiscardHandler))
	tests := []struct {
		give string
		want string
	}{
		{"U0ALICE", "D0ALICE"},
		{"W0ALICE", "D0ALICE"},
		{"C0WARROOM", "C0WARROOM"},
	}
	for _, tt := range tests {
		got, err := rec.PostMessageIn(context.Background(), tt.give, Message{Text: "page"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Channel != tt.want || got.TS == "" {
			t.Errorf("recorder to %s: got %+v, want channel %s and a ts", tt.give, got, tt.want)
		}
	}
}
