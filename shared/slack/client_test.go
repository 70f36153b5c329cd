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
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

const testToken = "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx"

// fakeSlack answers the Web API methods the Client uses the way Slack does,
// and records every request.
type fakeSlack struct {
	mu       sync.Mutex
	requests []fakeRequest
	channels map[string]string          // taken name → id
	members  map[string]map[string]bool // channel id → users
	// limited counts down the 429s to answer before serving requests.
	limited    int
	retryAfter string
	// status, when set, is answered with an HTML body (a proxy's error page).
	status int
}

type fakeRequest struct {
	Method      string
	Auth        string
	ContentType string
	Body        map[string]any
	Raw         string
	At          time.Time
}

func newFake(t *testing.T) (*fakeSlack, *httptest.Server) {
	f := &fakeSlack{channels: map[string]string{}, members: map[string]map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	req := fakeRequest{Method: strings.TrimPrefix(r.URL.Path, "/api/"), Auth: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"), Raw: string(raw), At: time.Now()}
	_ = json.Unmarshal(raw, &req.Body)
	f.requests = append(f.requests, req)
	if f.limited > 0 {
		f.limited--
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if f.status != 0 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, "<html><body>Bad Gateway</body></html>")
		return
	}
	reply := func(v map[string]any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(v)
	}
	if req.Auth != "Bearer "+testToken {
		reply(map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	str := func(k string) string { s, _ := req.Body[k].(string); return s }
	switch req.Method {
	case "chat.postMessage", "chat.update":
		if str("channel") == "CGONE" {
			reply(map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		reply(map[string]any{"ok": true, "channel": str("channel"), "ts": fmt.Sprintf("1700000000.%06d", len(f.requests))})
	case "conversations.create":
		name := str("name")
		if f.channels[name] != "" {
			reply(map[string]any{"ok": false, "error": "name_taken"})
			return
		}
		id := fmt.Sprintf("C%08d", len(f.requests))
		f.channels[name] = id
		f.members[id] = map[string]bool{"UBOT": true}
		reply(map[string]any{"ok": true, "channel": map[string]any{"id": id, "name": name, "is_channel": true}})
	case "conversations.setTopic":
		reply(map[string]any{"ok": true, "channel": map[string]any{"id": str("channel")}})
	case "conversations.invite":
		members := f.members[str("channel")]
		if members == nil {
			reply(map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		// Slack fails the whole call if one user fails, inviting nobody.
		users := strings.Split(str("users"), ",")
		var errs []map[string]any
		for _, u := range users {
			switch {
			case u == "UBOT":
				errs = append(errs, map[string]any{"user": u, "ok": false, "error": "cant_invite_self"})
			case u == "UGONE":
				errs = append(errs, map[string]any{"user": u, "ok": false, "error": "user_not_found"})
			case members[u]:
				errs = append(errs, map[string]any{"user": u, "ok": false, "error": "already_in_channel"})
			}
		}
		if len(errs) > 0 {
			reply(map[string]any{"ok": false, "error": errs[0]["error"], "errors": errs})
			return
		}
		for _, u := range users {
			members[u] = true
		}
		reply(map[string]any{"ok": true, "channel": map[string]any{"id": str("channel")}})
	default:
		reply(map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (f *fakeSlack) calls() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// sleeps records the waits a Client asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

func newTestClient(srv *httptest.Server, cfg Config) *Client {
	cfg.BaseURL = srv.URL + "/api"
	cfg.HTTP = srv.Client()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return NewClient(testToken, cfg)
}

func TestPostMessageSendsBearerTokenAndJSON(t *testing.T) {
	f, srv := newFake(t)
	c := newTestClient(srv, Config{})
	msg := PageMessage(testIncident(incident.StatusTriggered), Page{Level: 1, SlackUserIDs: []string{"U2CERLKJA"}})
	ts, err := c.PostMessage(context.Background(), "C0123ABCDEF", msg)
	if err != nil {
		t.Fatal(err)
	}
	if ts != "1700000000.000001" {
		t.Fatalf("got ts %q, want 1700000000.000001", ts)
	}
	reqs := f.calls()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "chat.postMessage" || r.Auth != "Bearer "+testToken || !strings.HasPrefix(r.ContentType, "application/json") {
		t.Fatalf("got method %q, auth %q, content type %q", r.Method, r.Auth, r.ContentType)
	}
	if strings.Contains(r.Raw, testToken) {
		t.Fatal("got the token in the body, want it only in the Authorization header")
	}
	if r.Body["channel"] != "C0123ABCDEF" || r.Body["text"] != msg.Text {
		t.Fatalf("got channel %v, text %v", r.Body["channel"], r.Body["text"])
	}
	var want any
	_ = json.Unmarshal(mustJSON(t, msg.Blocks), &want)
	if got := r.Body["blocks"]; !jsonEqual(got, want) {
		t.Fatalf("got blocks %v, want %v", got, want)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestRetryAfter429(t *testing.T) {
	f, srv := newFake(t)
	f.limited, f.retryAfter = 1, "1"
	var s sleeps
	c := newTestClient(srv, Config{Sleep: s.sleep})
	ts, err := c.PostMessage(context.Background(), "C0123ABCDEF", Message{Text: "page"})
	if err != nil {
		t.Fatalf("got %v, want the retry to succeed", err)
	}
	if ts == "" {
		t.Fatal("got no ts")
	}
	if got := len(f.calls()); got != 2 {
		t.Fatalf("got %d requests, want 2 (one retry)", got)
	}
	if got := s.got(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Fatalf("got waits %v, want [1s]", got)
	}
}

// TestRetryAfterWaitsForReal checks the default sleeper: the retry comes at
// least Retry-After later.
func TestRetryAfterWaitsForReal(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a second")
	}
	f, srv := newFake(t)
	f.limited, f.retryAfter = 1, "1"
	c := newTestClient(srv, Config{})
	if _, err := c.PostMessage(context.Background(), "C0123ABCDEF", Message{Text: "page"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.calls()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < time.Second {
		t.Fatalf("got the retry %s after the 429, want at least 1s", gap)
	}
}

func TestRateLimitBounds(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		timeout    time.Duration
		wantReqs   int
		wantWaits  []time.Duration
		wantAfter  time.Duration
	}{
		{"attempts run out", "1", 0, 3, []time.Duration{time.Second, time.Second}, time.Second},
		{"no Retry-After waits a second", "", 0, 3, []time.Duration{time.Second, time.Second}, time.Second},
		{"longer than MaxRetryWait: no wait", "120", 0, 1, nil, 120 * time.Second},
		{"longer than the deadline: no wait", "5", 500 * time.Millisecond, 1, nil, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t)
			f.limited, f.retryAfter = 100, tt.retryAfter
			var s sleeps
			c := newTestClient(srv, Config{Sleep: s.sleep})
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err := c.PostMessage(ctx, "C0123ABCDEF", Message{Text: "page"})
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != "ratelimited" || ae.Status != 429 || ae.RetryAfter != tt.wantAfter {
				t.Fatalf("got %#v, want a ratelimited *APIError with RetryAfter %s", err, tt.wantAfter)
			}
			if got := len(f.calls()); got != tt.wantReqs {
				t.Fatalf("got %d requests, want %d", got, tt.wantReqs)
			}
			if got := s.got(); !slices.Equal(got, tt.wantWaits) {
				t.Fatalf("got waits %v, want %v", got, tt.wantWaits)
			}
		})
	}
}

// TestRateLimitWaitEndsWithContext: a caller that gives up (the page must go
// out) is not held by a Retry-After.
func TestRateLimitWaitEndsWithContext(t *testing.T) {
	f, srv := newFake(t)
	f.limited, f.retryAfter = 100, "20"
	c := newTestClient(srv, Config{}) // the real sleeper
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.PostMessage(ctx, "C0123ABCDEF", Message{Text: "page"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("got a call of %s, want it to end with its context", took)
	}
}

func TestSlackErrorsSurfaceTheirCode(t *testing.T) {
	f, srv := newFake(t)
	var logs bytes.Buffer
	c := newTestClient(srv, Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	_, err := c.PostMessage(context.Background(), "CGONE", Message{Text: "x"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "channel_not_found" || ae.Method != "chat.postMessage" {
		t.Fatalf("got %v, want channel_not_found from chat.postMessage", err)
	}
	if got := ErrorCode(err); got != "channel_not_found" {
		t.Fatalf("got code %q", got)
	}
	if want := "slack chat.postMessage: channel_not_found"; err.Error() != want {
		t.Fatalf("got %q, want %q", err.Error(), want)
	}
	if len(f.calls()) != 1 {
		t.Fatalf("got %d requests, want 1: only 429s are retried", len(f.calls()))
	}

	f.status = http.StatusBadGateway
	err = c.SetTopic(context.Background(), "C1", "x")
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != "" || err.Error() != "slack conversations.setTopic: HTTP 502" {
		t.Fatalf("got %v, want HTTP 502 from conversations.setTopic", err)
	}

	bad := NewClient("xoxb-wrong", Config{BaseURL: srv.URL + "/api/", HTTP: srv.Client()})
	f.status = 0
	if got := ErrorCode(bad.SetTopic(context.Background(), "C1", "x")); got != "not_authed" {
		t.Fatalf("got %q with a wrong token, want not_authed", got)
	}
}

func TestNetworkErrorIsReturned(t *testing.T) {
	_, srv := newFake(t)
	c := newTestClient(srv, Config{})
	srv.Close()
	_, err := c.PostMessage(context.Background(), "C1", Message{Text: "x"})
	if err == nil || !strings.HasPrefix(err.Error(), "slack chat.postMessage: ") || strings.Contains(err.Error(), testToken) {
		t.Fatalf("got %v, want a wrapped network error without the token", err)
	}
}

func TestCreateChannelHandlesNameCollisions(t *testing.T) {
	f, srv := newFake(t)
	f.channels["inc-20261124-0t1v2w-checkout"] = "CTAKEN1"
	f.channels["inc-20261124-0t1v2w-checkout-2"] = "CTAKEN2"
	c := newTestClient(srv, Config{})
	ch, err := c.CreateChannel(context.Background(), "inc-20261124-0t1v2w-checkout")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Name != "inc-20261124-0t1v2w-checkout-3" || ch.ID == "" {
		t.Fatalf("got %+v, want inc-20261124-0t1v2w-checkout-3 with an id", ch)
	}
	var names []string
	for _, r := range f.calls() {
		names = append(names, r.Body["name"].(string))
		if r.Body["is_private"] != false {
			t.Fatalf("got is_private %v, want false", r.Body["is_private"])
		}
	}
	want := []string{"inc-20261124-0t1v2w-checkout", "inc-20261124-0t1v2w-checkout-2", "inc-20261124-0t1v2w-checkout-3"}
	if !slices.Equal(names, want) {
		t.Fatalf("got tries %v, want %v", names, want)
	}
}

func TestCreateChannelGivesUp(t *testing.T) {
	f, srv := newFake(t)
	f.channels["war"] = "C0"
	for i := 2; i <= maxNameTries; i++ {
		f.channels[fmt.Sprintf("war-%d", i)] = "C0"
	}
	c := newTestClient(srv, Config{})
	if _, err := c.CreateChannel(context.Background(), "war"); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("got %v, want an error saying the names are taken", err)
	}
	if got := len(f.calls()); got != maxNameTries {
		t.Fatalf("got %d tries, want %d", got, maxNameTries)
	}
}

func TestCreateChannelNormalizesAndFits(t *testing.T) {
	f, srv := newFake(t)
	long := strings.Repeat("a", 80)
	f.channels[long] = "C0"
	c := newTestClient(srv, Config{})
	ch, err := c.CreateChannel(context.Background(), strings.ToUpper(long))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("a", 78) + "-2"; ch.Name != want {
		t.Fatalf("got %q, want %q", ch.Name, want)
	}
	if _, err := c.CreateChannel(context.Background(), "!!!"); err == nil {
		t.Fatal("got no error for a name without a valid character")
	}
}

func TestInvite(t *testing.T) {
	tests := []struct {
		name        string
		members     []string
		invite      []string
		wantMembers []string
		wantErr     string // in the error; "" for none
		wantReqs    int
	}{
		{"new users", nil, []string{"U1", "U2"}, []string{"U1", "U2"}, "", 1},
		{"already in the channel", []string{"U1"}, []string{"U1"}, []string{"U1"}, "", 1},
		{"some already in the channel", []string{"U1"}, []string{"U1", "U2", "U3"}, []string{"U1", "U2", "U3"}, "", 4},
		{"the bot itself", nil, []string{"UBOT", "U2"}, []string{"U2"}, "", 3},
		{"duplicates and blanks", nil, []string{"U1", " U1 ", "", "U2"}, []string{"U1", "U2"}, "", 1},
		{"nobody", nil, nil, nil, "", 0},
		{"a deleted user does not keep the others out", nil, []string{"UGONE", "U2"}, []string{"U2"}, "invite UGONE: slack conversations.invite: user_not_found", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t)
			f.members["CWAR"] = map[string]bool{"UBOT": true}
			for _, u := range tt.members {
				f.members["CWAR"][u] = true
			}
			c := newTestClient(srv, Config{})
			err := c.Invite(context.Background(), "CWAR", tt.invite)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %v, want error %q", err, tt.wantErr)
			}
			var got []string
			for u := range f.members["CWAR"] {
				if u != "UBOT" {
					got = append(got, u)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.wantMembers) {
				t.Fatalf("got members %v, want %v", got, tt.wantMembers)
			}
			if n := len(f.calls()); n != tt.wantReqs {
				t.Fatalf("got %d requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestInviteToAMissingChannelFailsOnce(t *testing.T) {
	f, srv := newFake(t)
	c := newTestClient(srv, Config{})
	err := c.Invite(context.Background(), "CNONE", []string{"U1", "U2"})
	if ErrorCode(err) != "channel_not_found" {
		t.Fatalf("got %v, want channel_not_found", err)
	}
	if n := len(f.calls()); n != 1 {
		t.Fatalf("got %d requests, want 1 (no per-user retries for a channel error)", n)
	}
}

func TestSetTopicAndUpdate(t *testing.T) {
	f, srv := newFake(t)
	c := newTestClient(srv, Config{})
	ctx := context.Background()
	if err := c.SetTopic(ctx, "CWAR", strings.Repeat("t", 300)); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateMessage(ctx, "CWAR", "1700000000.000001", Message{Text: "Acknowledged by alice"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.calls()
	if got := len([]rune(reqs[0].Body["topic"].(string))); got != 250 {
		t.Fatalf("got a topic of %d characters, want 250", got)
	}
	if blocks, ok := reqs[1].Body["blocks"].([]any); !ok || len(blocks) != 0 || reqs[1].Body["ts"] != "1700000000.000001" {
		t.Fatalf("got update %v, want ts and an empty blocks list (so the old buttons go)", reqs[1].Body)
	}
}

func TestTokenIsNeverPrintedOrLogged(t *testing.T) {
	f, srv := newFake(t)
	f.limited, f.retryAfter = 1, "1"
	var logs bytes.Buffer
	var s sleeps
	c := newTestClient(srv, Config{Sleep: s.sleep, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if _, err := c.PostMessage(context.Background(), "C1", Message{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PostMessage(context.Background(), "CGONE", Message{Text: "x"})
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("client", "client", c, "value", *c)
	printed := fmt.Sprintf("%v %+v %#v %s %v", c, c, c, c, *c) + logs.String() + err.Error()
	if strings.Contains(printed, testToken) || strings.Contains(printed, "xoxb") {
		t.Fatalf("got the token in %s", printed)
	}
	if !strings.Contains(logs.String(), `"retry_after":1000000000`) {
		t.Fatalf("got logs %s, want the rate-limited retry logged", logs.String())
	}
}
