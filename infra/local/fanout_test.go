package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

// syncBuffer is a bytes.Buffer safe for the platform's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// slackCall is a local Slack call as the recorder logs it.
type slackCall struct {
	Msg     string `json:"msg"`
	Method  string `json:"method"`
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Text    string `json:"text"`
}

func slackCalls(log string) []slackCall {
	var out []slackCall
	for _, line := range strings.Split(log, "\n") {
		var c slackCall
		if json.Unmarshal([]byte(line), &c) == nil && c.Msg == "slack (local)" {
			out = append(out, c)
		}
	}
	return out
}

// waitFor polls the log until ok says yes, or fails after timeout.
func waitFor(t *testing.T, logs *syncBuffer, timeout time.Duration, what string, ok func([]slackCall) bool) []slackCall {
	t.Helper()
	for end := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		calls := slackCalls(logs.String())
		if ok(calls) {
			return calls
		}
		if time.Now().After(end) {
			for _, c := range calls {
				t.Logf("slack: %s %s %s %q", c.Method, c.Channel, c.TS, c.Text)
			}
			t.Fatalf("no %s within %v", what, timeout)
		}
	}
}

// Acknowledging an incident through the API reaches Slack through the
// stream: the war room gets the acknowledgement, the Slack page loses its
// buttons and says who acknowledged, and the event is printed.
func TestLocalAcknowledgeReachesSlackAndEvents(t *testing.T) {
	logs, out := &syncBuffer{}, &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	env := map[string]string{"TABLE_NAME": "fanout-" + strings.ReplaceAll(t.Name(), "/", "-"), "LOCAL_TIME_SCALE": "60"}
	p, err := newPlatform(context.Background(), dynamotest.Endpoint(t), func(k string) string { return env[k] }, logger,
		withPager(&pageRecorder{}), func(o *platformOptions) { o.out = out })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	api := httptest.NewServer(p.api)
	invoke := httptest.NewServer(&invokeServer{functions: p.functions, log: logger})
	t.Cleanup(func() { api.Close(); invoke.Close() })

	for _, u := range []string{"alice", "bob"} {
		body := map[string]any{"name": u, "slack_user_id": "U0" + strings.ToUpper(u)}
		if status, _, b := call(t, http.MethodPut, api.URL+"/users/"+u, p.token, body); status != http.StatusOK {
			t.Fatalf("PUT /users/%s: got %d %s", u, status, b)
		}
	}
	postAlarm(t, invoke.URL)
	// The war room opens (the summary), then level 1 is paged in Slack.
	var page, room slackCall
	waitFor(t, logs, 5*time.Second, "Slack page", func(calls []slackCall) bool {
		for _, c := range calls {
			switch {
			case c.Method == "conversations.create":
				room.Channel = c.Channel
			case c.Method == "chat.postMessage" && (c.Channel == "U0ALICE" || c.Channel == "U0BOB"):
				page = c
			}
		}
		return page.TS != "" && room.Channel != ""
	})
	var id string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "EVENT" && f[1] == "incident.opened" {
			id = f[2]
		}
	}
	if id == "" {
		t.Fatalf("got output %q, want an EVENT incident.opened line", out.String())
	}
	if status, _, b := call(t, http.MethodPost, api.URL+"/incidents/"+id+"/acknowledge", p.token, map[string]any{}); status != http.StatusOK {
		t.Fatalf("acknowledge: got %d %s", status, b)
	}
	dm := "D" + page.Channel[1:]
	waitFor(t, logs, 5*time.Second, "war-room post and page update", func(calls []slackCall) bool {
		posted, updated := false, false
		for _, c := range calls {
			posted = posted || c.Method == "chat.postMessage" && c.Channel == room.Channel && strings.Contains(c.Text, "Acknowledged by")
			updated = updated || c.Method == "chat.update" && c.Channel == dm && c.TS == page.TS && strings.Contains(c.Text, "Acknowledged by")
		}
		return posted && updated
	})
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(out.String(), "EVENT incident.acknowledged "+id) {
		if time.Now().After(deadline) {
			t.Fatalf("got output %q, want an EVENT incident.acknowledged %s line", out.String(), id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
