package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

// startTerminal wires the platform as `make local` does, with what the
// terminal would show written to term and the JSON logs to logs.
func startTerminal(t *testing.T, env map[string]string) (p *platform, invoke string, term, logs *syncBuffer) {
	t.Helper()
	table := fmt.Sprintf("term-%d-%d", os.Getpid(), tableSeq.Add(1))
	getenv := func(k string) string {
		if k == "TABLE_NAME" {
			return table
		}
		return env[k]
	}
	term, logs = &syncBuffer{}, &syncBuffer{}
	level := new(slog.LevelVar)
	logger := slog.New(newPeopleHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}), term))
	p, err := newPlatform(context.Background(), dynamotest.Endpoint(t), getenv, logger, withLogLevel(level),
		func(o *platformOptions) { o.out = term })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	srv := httptest.NewServer(&invokeServer{functions: p.functions, log: logger})
	t.Cleanup(srv.Close)
	return p, srv.URL, term, logs
}

// One alarm on the demo service, escalated to the end of its policy, shows
// at most 10 lines on the terminal, one per thing a person cares about; the
// JSON log lines go to the log, not the terminal (README "Local
// development: what the terminal shows").
func TestOneAlarmIsTenTerminalLinesAtMost(t *testing.T) {
	_, invoke, term, logs := startTerminal(t, map[string]string{"LOCAL_TIME_SCALE": "600"})
	fixture, err := os.ReadFile("../../events/alarms-sns-metric.json")
	if err != nil {
		t.Fatal(err)
	}
	status, hdr, body := call(t, http.MethodPost, invoke+"/2015-03-31/functions/alarms/invocations", "", fixture)
	if status != http.StatusOK || hdr.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke alarms: got %d %s", status, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(term.String(), "ESCALATION done") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything printed late would count too
	lines := strings.Split(strings.TrimSpace(term.String()), "\n")
	t.Logf("terminal:\n%s", term.String())
	if len(lines) > 10 {
		t.Errorf("terminal lines for one alarm: got %d, want at most 10:\n%s", len(lines), term.String())
	}
	for _, want := range []string{
		"EVENT incident.opened ",
		"ESCALATION started inc-",
		"PAGE level 1 → alice ",
		"WAR ROOM #inc-",
		"PAGE level 2 → carol ",
		"PAGE fallback → dave ",
		"ESCALATION done, incident ",
	} {
		if !strings.Contains(term.String(), "\n"+want) && !strings.HasPrefix(term.String(), want) {
			t.Errorf("terminal: got no line starting %q, want one:\n%s", want, term.String())
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "{") {
			t.Errorf("terminal: got a JSON log line %s, want them in the log file only", l)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"alarm ingested"`) {
		t.Errorf("JSON log: got no alarm ingested record, want the functions' records there:\n%s", logs.String())
	}
}

// A redelivered alarm prints that nothing changed; an error prints one
// line pointing at the log file; a refused API request prints its status.
func TestPeopleLines(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want string
	}{
		{"alarm opened: its EVENT line says it", func(l *slog.Logger) {
			l.Info("alarm ingested", "alarm_name", "checkout-cpu", "state", "ALARM", "outcome", "opened", "incident_id", "01J", "duplicate", false)
		}, ""},
		{"alarm redelivered", func(l *slog.Logger) {
			l.Info("alarm ingested", "alarm_name", "checkout-cpu", "state", "ALARM", "outcome", "appended", "incident_id", "01J", "duplicate", true)
		}, "ALARM checkout-cpu ALARM → a redelivery: nothing changed, incident 01J\n"},
		{"alarm recovery", func(l *slog.Logger) {
			l.Info("alarm ingested", "alarm_name", "checkout-cpu", "state", "OK", "outcome", "recovery_noted", "incident_id", "01J", "duplicate", false)
		}, "ALARM checkout-cpu OK → recovery_noted, incident 01J\n"},
		{"war room, incident from With", func(l *slog.Logger) {
			l.With("incident_id", "01J").Info("war room opened", "channel_id", "C1", "channel_name", "inc-x-checkout")
		}, "WAR ROOM #inc-x-checkout opened, incident 01J\n"},
		{"refused request", func(l *slog.Logger) {
			l.Info("request", "method", "POST", "path", "/incidents/x/acknowledge", "status", 404)
		}, "API POST /incidents/x/acknowledge → 404\n"},
		{"answered request", func(l *slog.Logger) {
			l.Info("request", "method", "GET", "path", "/incidents", "status", 200)
		}, ""},
		{"an error", func(l *slog.Logger) {
			l.Error("scheduled function failed (local)", "function", "dora")
		}, "ERROR scheduled function failed (local) (details in the log file)\n"},
		{"anything else", func(l *slog.Logger) { l.Info("escalation waits", "wait_seconds", 60) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var term, logs syncBuffer
			tt.log(slog.New(newPeopleHandler(slog.NewJSONHandler(&logs, nil), &term)))
			// LOG_LEVEL=error filters the JSON log, not the terminal.
			var quietTerm syncBuffer
			tt.log(slog.New(newPeopleHandler(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}), &quietTerm)))
			if got := quietTerm.String(); got != tt.want {
				t.Errorf("terminal with LOG_LEVEL=error: got %q, want %q", got, tt.want)
			}
			if got := term.String(); got != tt.want {
				t.Errorf("terminal: got %q, want %q", got, tt.want)
			}
			if logs.String() == "" {
				t.Error("JSON log: got nothing, want the record")
			}
		})
	}
}
