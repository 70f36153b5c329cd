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

// Handle counts the batch's errors and signals every fingerprint whose window
// count reached the threshold. A payload that cannot be decoded is logged and
// dropped (a redelivery would not fix it); a store error is returned, so that
// Lambda retries the event: the batch is counted once however often it comes,
// and a retry finishes the signalling a failed attempt left undone.
//
// A fingerprint signals at most once per window: the delivery id is the
// service, fingerprint and window, so the batch that crosses the threshold
// opens or adds to the incident, and later batches of the same window (and
// redeliveries) are no-ops. A persistent error adds one timeline entry per
// window, not one per batch.
func (h *Handler) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) error {
	d, err := Decode(ev)
	if err != nil {
		h.log.WarnContext(ctx, "log payload rejected", "error", err.Error(), "data_bytes", len(ev.AWSLogs.Data))
		return nil
	}
	if d.MessageType == ControlMessage {
		h.log.InfoContext(ctx, "control message ignored", "log_group", d.LogGroup, "log_stream", d.LogStream)
		return nil
	}
	b := Scan(d, h.cfg.Services, h.cfg.Window)
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
			return fmt.Errorf("count errors of log batch %s: %w", b.ID, err)
		}
		if duplicate {
			log.InfoContext(ctx, "log batch counted before: signalling from the stored totals", "window_start", w.Start)
		}
		for _, g := range w.Groups {
			total := totals[CounterKey(b.Service, g.Fingerprint)]
			if total < h.cfg.Threshold {
				continue
			}
			sig := h.signal(b, w, g, total)
			res, err := h.incidents.Ingest(ctx, sig)
			if errors.Is(err, errkind.Invalid) {
				// A retry would be refused the same way.
				log.ErrorContext(ctx, "log signal rejected", "dedup_key", sig.DedupKey, "error", err.Error())
				continue
			}
			if err != nil {
				return fmt.Errorf("signal %s: %w", sig.DedupKey, err)
			}
			signals++
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
	return nil
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
