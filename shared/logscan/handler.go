package logscan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	textpkg "github.com/incidentd/incidentd/shared/text" // text is a local name here
)

// Counter keeps the error counters per window. It adds a batch's counts exactly
// once: a batch added before returns duplicate with the current totals.
// *dynamo.Store implements it.
type Counter interface {
	AddLogCounts(ctx context.Context, batchID string, windowStart time.Time, window time.Duration, counts map[string]int) (totals map[string]int, duplicate bool, err error)
}

// Ingester turns signals into incidents; *incident.Service implements it.
type Ingester interface {
	Ingest(ctx context.Context, sig incident.Signal) (incident.Result, error)
}

// Defaults of Config.
const (
	DefaultThreshold = 5
	DefaultWindow    = 5 * time.Minute
)

// Config is how log errors become incidents (package settings reads it from
// LOG_THRESHOLD, LOG_WINDOW, LOG_GROUP_SERVICES and DEFAULT_SERVICE).
type Config struct {
	// Threshold: a fingerprint with this many errors in one window opens (or
	// adds to) an incident.
	Threshold int
	// Window is the length of the fixed counting windows (aligned to UTC).
	Window time.Duration
	// DefaultService receives the errors of log groups that name no service.
	DefaultService string
	Services       Services
}

// Handler handles CloudWatch Logs subscription events.
type Handler struct {
	counter   Counter
	incidents Ingester
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
}

// NewHandler returns a handler counting into counter and signalling incidents.
func NewHandler(counter Counter, incidents Ingester, cfg Config, log *slog.Logger) *Handler {
	if cfg.Threshold < 1 {
		cfg.Threshold = DefaultThreshold
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if log == nil {
		log = slog.Default()
	}
	return &Handler{counter: counter, incidents: incidents, cfg: cfg, log: log, now: time.Now}
}

// maxSignalAge bounds how far back a signal's time may be: CloudWatch Logs
// accepts no events older than 14 days; an older timestamp is garbage, and
// the incident is stamped with the time of handling instead.
const maxSignalAge = 15 * 24 * time.Hour

// Summary is what an invocation did with its batch: the logs function's
// response. CloudWatch Logs invokes the function asynchronously and drops the
// response; `make local`'s invoke endpoint and `sam local invoke` show it,
// as the alarms function's (README "Quick start").
type Summary struct {
	// Outcome is "scanned", "control_message" (CloudWatch Logs' check of the
	// subscription, ignored) or "rejected" (a payload that cannot be decoded;
	// Reason says why).
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason,omitempty"`
	LogGroup  string `json:"log_group,omitempty"`
	LogStream string `json:"log_stream,omitempty"`
	Service   string `json:"service,omitempty"`
	// Lines is the number of log events in the batch, Errors how many of
	// them were errors.
	Lines  int `json:"lines"`
	Errors int `json:"errors"`
	// Threshold and Window are the configuration a fingerprint is judged by.
	Threshold int    `json:"threshold"`
	Window    string `json:"window"`
	// Fingerprints are the batch's errors by fingerprint and window, most
	// frequent first.
	Fingerprints []FingerprintSummary `json:"fingerprints"`
	// IncidentsOpened and IncidentsJoined count the fingerprints whose signal
	// opened an incident, or was added to one already open (or reopened
	// it); a redelivered batch counts neither.
	IncidentsOpened int `json:"incidents_opened"`
	IncidentsJoined int `json:"incidents_joined"`
}

// FingerprintSummary is one fingerprint of a batch in one window.
type FingerprintSummary struct {
	Fingerprint string    `json:"fingerprint"`
	Template    string    `json:"template"`
	WindowStart time.Time `json:"window_start"`
	// Errors is this batch's count; WindowCount the window's total so far,
	// every batch counted once.
	Errors      int `json:"errors"`
	WindowCount int `json:"window_count"`
	// Outcome is "below_threshold", "rejected", or what the incident service
	// did with the signal ("opened", "appended", "reopened", …).
	Outcome    string `json:"outcome"`
	IncidentID string `json:"incident_id,omitempty"`
	// Duplicate: the signal was applied before (a redelivered batch).
	Duplicate bool `json:"duplicate,omitempty"`
}

// Handle counts the batch's errors and signals every fingerprint whose window
// count reached the threshold, and answers a Summary. A payload that cannot
// be decoded is logged and dropped (a redelivery would not fix it); a store
// error is returned, so that Lambda retries the event: the batch is counted
// once however often it comes, and a retry finishes the signalling a failed
// attempt left undone.
//
// A fingerprint signals at most once per window: the delivery id is the
// service, fingerprint and window, so the batch that crosses the threshold
// opens or adds to the incident, and later batches of the same window (and
// redeliveries) are no-ops. A persistent error adds one timeline entry per
// window, not one per batch.
func (h *Handler) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) (Summary, error) {
	sum := Summary{Threshold: h.cfg.Threshold, Window: shortDuration(h.cfg.Window), Fingerprints: []FingerprintSummary{}}
	d, err := Decode(ev)
	if err != nil {
		h.log.WarnContext(ctx, "log payload rejected", "error", err.Error(), "data_bytes", len(ev.AWSLogs.Data))
		sum.Outcome, sum.Reason = "rejected", err.Error()
		return sum, nil
	}
	sum.LogGroup, sum.LogStream = d.LogGroup, d.LogStream
	if d.MessageType == ControlMessage {
		h.log.InfoContext(ctx, "control message ignored", "log_group", d.LogGroup, "log_stream", d.LogStream)
		sum.Outcome = "control_message"
		return sum, nil
	}
	b := Scan(d, h.cfg.Services, h.cfg.Window)
	sum.Outcome, sum.Service, sum.Lines, sum.Errors = "scanned", b.Service, b.Lines, b.Errors
	log := h.log.With("batch_id", b.ID, "log_group", b.LogGroup, "log_stream", b.LogStream, "service", b.Service)
	if b.DroppedFingerprints > 0 {
		log.WarnContext(ctx, "too many distinct errors in one batch: only the most frequent are counted",
			"max_fingerprints", MaxFingerprints, "dropped_fingerprints", b.DroppedFingerprints, "dropped_errors", b.DroppedErrors)
	}
	signals := 0
	for _, w := range b.Windows {
		counts := make(map[string]int, len(w.Groups))
		for _, g := range w.Groups {
			counts[CounterKey(b.Service, g.Fingerprint)] = g.Count
		}
		totals, duplicate, err := h.counter.AddLogCounts(ctx, b.ID, w.Start, h.cfg.Window, counts)
		if err != nil {
			return sum, fmt.Errorf("count errors of log batch %s: %w", b.ID, err)
		}
		if duplicate {
			log.InfoContext(ctx, "log batch counted before: signalling from the stored totals", "window_start", w.Start)
		}
		for _, g := range w.Groups {
			total := totals[CounterKey(b.Service, g.Fingerprint)]
			fp := FingerprintSummary{Fingerprint: g.Fingerprint, Template: g.Template, WindowStart: w.Start.UTC(),
				Errors: g.Count, WindowCount: total, Outcome: "below_threshold"}
			if total < h.cfg.Threshold {
				sum.Fingerprints = append(sum.Fingerprints, fp)
				continue
			}
			sig := h.signal(b, w, g, total)
			res, err := h.incidents.Ingest(ctx, sig)
			if errors.Is(err, errkind.Invalid) {
				// A retry would be refused the same way.
				log.ErrorContext(ctx, "log signal rejected", "dedup_key", sig.DedupKey, "error", err.Error())
				fp.Outcome = "rejected"
				sum.Fingerprints = append(sum.Fingerprints, fp)
				continue
			}
			if err != nil {
				return sum, fmt.Errorf("signal %s: %w", sig.DedupKey, err)
			}
			signals++
			fp.Outcome, fp.IncidentID, fp.Duplicate = string(res.Outcome), res.IncidentID, res.Duplicate
			switch {
			case res.Duplicate:
			case res.Outcome == incident.Opened:
				sum.IncidentsOpened++
			case res.IncidentID != "":
				sum.IncidentsJoined++
			}
			sum.Fingerprints = append(sum.Fingerprints, fp)
			log.InfoContext(ctx, "log signal", "dedup_key", sig.DedupKey, "fingerprint", g.Fingerprint,
				"template", g.Template, "window_start", w.Start, "window_count", total,
				"outcome", string(res.Outcome), "incident_id", res.IncidentID, "duplicate", res.Duplicate)
		}
	}
	level := slog.LevelInfo
	if b.Errors == 0 {
		level = slog.LevelDebug // most batches: one line each would be noise
	}
	log.Log(ctx, level, "log batch scanned", "lines", b.Lines, "errors", b.Errors, "windows", len(b.Windows), "signals", signals)
	return sum, nil
}

// shortDuration writes 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// CounterKey names the counter of a service's fingerprint.
func CounterKey(service, fingerprint string) string { return service + "#" + fingerprint }

// maxTitleTemplate bounds the template in an incident title.
const maxTitleTemplate = 150

func (h *Handler) signal(b Batch, w Window, g Group, total int) incident.Signal {
	now := h.now()
	at := g.First
	if at.After(now) || at.Before(now.Add(-maxSignalAge)) {
		at = now
	}
	noun := "errors"
	if total == 1 {
		noun = "error"
	}
	text := fmt.Sprintf("%d %s like this in the %s window from %s (threshold %d), log group %s.\n%s\nfingerprint %s (%s)",
		total, noun, shortDuration(h.cfg.Window), w.Start.UTC().Format(time.RFC3339), h.cfg.Threshold, b.LogGroup,
		g.Template, g.Fingerprint, g.Reason)
	return incident.Signal{
		Source:     incident.SourceLog,
		Kind:       incident.Trigger,
		Service:    b.Service,
		DedupKey:   "log:" + b.Service + ":" + g.Fingerprint,
		Title:      b.Service + ": " + textpkg.Clip(g.Template, maxTitleTemplate, "…", textpkg.Bytes|textpkg.MarkExtra|textpkg.TrimSpace),
		Text:       text,
		At:         at,
		Ref:        b.LogGroup + ":" + b.LogStream,
		DeliveryID: "log:" + b.Service + ":" + g.Fingerprint + ":" + strconv.FormatInt(w.Start.Unix(), 10),
		Actor:      "log:" + b.LogGroup,
		Samples:    append([]string(nil), g.Samples...),
	}
}
