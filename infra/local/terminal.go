package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/incidentd/incidentd/shared/text"
)

// What `make local` shows a person (README "Local development: what the
// terminal shows"): the functions' structured JSON logs go to a file, and the
// terminal gets one readable line per thing a person acts on. PAGE, EVENT
// (the lifecycle events: opened, acknowledged, resolved, …), SUBSCRIBE and
// POSTMORTEM lines are printed by the local adapters themselves; the lines
// below are picked out of the functions' log records by peopleHandler, so the
// functions log exactly as in Lambda.
//
//	ALARM checkout-cpu OK → recovery_noted, incident 01J…  (an alarm that did not open one; an opening is its EVENT line)
//	SIGNAL pagerduty trigger checkout → appended, incident 01J…  (the PagerDuty- and Opsgenie-compatible ingest)
//	LOGS /aws/lambda/checkout-api (checkout): 14 lines, 9 errors, 1 signal
//	ESCALATION started inc-01J…-0 (policy checkout)
//	ESCALATION done, incident 01J…: acknowledged
//	WAR ROOM #inc-20261203-…-checkout opened, incident 01J…
//	API POST /incidents/x/acknowledge → 404
//	ERROR <message> (details in the log file)

// defaultLogFile is where the JSON logs go, under the module root (ignored
// by git), unless LOCAL_LOG_FILE names another file, or "-" for the terminal.
const defaultLogFile = ".local/incidentd.log"

// openLog opens where the JSON log lines go: LOCAL_LOG_FILE ("-": stderr),
// by default defaultLogFile under root, truncated at each start. With
// LOG_LEVEL=debug they also go to stderr. It returns the writer, the path to
// print ("" for stderr alone) and a close function.
func openLog(getenv func(string) string, root string) (io.Writer, string, func(), error) {
	path := getenv("LOCAL_LOG_FILE")
	if path == "-" {
		return os.Stderr, "", func() {}, nil
	}
	if path == "" {
		path = filepath.Join(root, defaultLogFile)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, "", nil, fmt.Errorf("LOCAL_LOG_FILE: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, "", nil, fmt.Errorf("LOCAL_LOG_FILE: %w", err)
	}
	var w io.Writer = f
	if strings.EqualFold(getenv("LOG_LEVEL"), "debug") {
		w = io.MultiWriter(f, os.Stderr)
	}
	return w, path, func() { _ = f.Close() }, nil
}

// peopleHandler passes every record to next (the JSON log) and prints the
// readable line of the few records a person cares about to out.
type peopleHandler struct {
	next  slog.Handler
	out   *lineWriter
	attrs []slog.Attr // from WithAttrs, outside any group
	group bool        // WithGroup was called: later attributes are not ours
}

// lineWriter serialises the printed lines.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = fmt.Fprintln(l.w, text.EscapeLine(s))
}

func newPeopleHandler(next slog.Handler, out io.Writer) *peopleHandler {
	return &peopleHandler{next: next, out: &lineWriter{w: out}}
}

func (h *peopleHandler) Enabled(ctx context.Context, l slog.Level) bool {
	// The readable lines print whatever LOG_LEVEL says (as PAGE and EVENT
	// lines do); LOG_LEVEL filters the JSON log alone.
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *peopleHandler) Handle(ctx context.Context, r slog.Record) error {
	if line := h.line(r); line != "" {
		h.out.println(line)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *peopleHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	if !h.group {
		c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	}
	return &c
}

func (h *peopleHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.group = c.group || name != ""
	return &c
}

// line is the readable line of r, or "" for a record a person need not see.
func (h *peopleHandler) line(r slog.Record) string {
	a := map[string]slog.Value{}
	for _, at := range h.attrs {
		a[at.Key] = at.Value.Resolve()
	}
	r.Attrs(func(at slog.Attr) bool {
		a[at.Key] = at.Value.Resolve()
		return true
	})
	s := func(k string) string {
		if v, ok := a[k]; ok {
			return v.String()
		}
		return ""
	}
	incident := func() string {
		if id := s("incident_id"); id != "" {
			return ", incident " + id
		}
		return ""
	}
	switch r.Message {
	case "alarm ingested":
		if s("outcome") == "opened" {
			return "" // its EVENT incident.opened line says it
		}
		out := s("outcome")
		if s("duplicate") == "true" {
			out = "a redelivery: nothing changed"
		}
		return fmt.Sprintf("ALARM %s %s → %s%s", s("alarm_name"), s("state"), out, incident())
	case "alarm notification rejected":
		return fmt.Sprintf("ALARM %s rejected: %s", s("alarm_name"), s("reason"))
	case "integration event":
		if s("outcome") == "opened" {
			return ""
		}
		out := s("outcome")
		if s("duplicate") == "true" {
			out = "a redelivery: nothing changed"
		}
		return fmt.Sprintf("SIGNAL %s %s %s → %s%s", s("kind"), s("action"), s("service"), out, incident())
	case "log batch scanned":
		return fmt.Sprintf("LOGS %s (%s): %s lines, %s errors, %s %s", s("log_group"), s("service"), s("lines"), s("errors"),
			s("signals"), plural(s("signals"), "signal", "signals"))
	case "escalation started":
		return fmt.Sprintf("ESCALATION started %s (policy %s)", s("execution"), orNone(s("policy")))
	case "escalation done":
		return fmt.Sprintf("ESCALATION done%s: %s", incident(), s("reason"))
	case "war room opened":
		return fmt.Sprintf("WAR ROOM #%s opened%s", orNone(s("channel_name")), incident())
	case "request":
		if st := a["status"]; st.Kind() == slog.KindInt64 && st.Int64() >= 400 {
			return fmt.Sprintf("API %s %s → %d", s("method"), s("path"), st.Int64())
		}
		return ""
	}
	if r.Level >= slog.LevelError {
		return fmt.Sprintf("ERROR %s%s (details in the log file)", r.Message, incident())
	}
	return ""
}

func plural(n, one, many string) string {
	if n == "1" {
		return one
	}
	return many
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
