package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// Ingester turns a signal into an incident change; *incident.Service is one.
type Ingester interface {
	Ingest(ctx context.Context, sig incident.Signal) (incident.Result, error)
}

// ServiceLister lists the configured services; the store is one.
type ServiceLister interface {
	ListServiceConfigs(ctx context.Context) ([]incident.ServiceConfig, error)
}

// DefaultServiceCacheTTL is how long the handler reuses the service list: a
// burst of alarms reads it once, and a new service's Alarms list applies
// within a minute.
const DefaultServiceCacheTTL = 60 * time.Second

// Config configures a Handler.
type Config struct {
	// DefaultService receives alarms no rule maps to a service.
	DefaultService string
	// ServiceCacheTTL is how long the service list is reused (0: a minute).
	ServiceCacheTTL time.Duration
	// Logger receives one JSON line per notification (nil: slog.Default()).
	Logger *slog.Logger
	// Tags, when set, looks up the tags of alarms whose payload names no
	// service or severity and carries no tags (shared/cloudwatch's Tags). A failed
	// lookup is logged and routing goes on without tags.
	Tags TagSource
	// Now is the clock of the caches (nil: time.Now).
	Now func() time.Time
}

// Handler receives CloudWatch alarm state changes from SNS, EventBridge and
// direct Lambda alarm actions, in one function.
type Handler struct {
	ingest   Ingester
	services *serviceCache
	tags     *tagCache
	def      string
	log      *slog.Logger
}

// NewHandler returns a handler that ingests into ing and routes by the
// services services lists.
func NewHandler(ing Ingester, services ServiceLister, cfg Config) *Handler {
	if cfg.ServiceCacheTTL <= 0 {
		cfg.ServiceCacheTTL = DefaultServiceCacheTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultService == "" {
		cfg.DefaultService = incident.DefaultServiceName
	}
	h := &Handler{
		ingest:   ing,
		services: &serviceCache{lister: services, ttl: cfg.ServiceCacheTTL, now: cfg.Now, log: cfg.Logger},
		def:      cfg.DefaultService,
		log:      cfg.Logger,
	}
	if cfg.Tags != nil {
		h.tags = &tagCache{src: cfg.Tags, ttl: cfg.ServiceCacheTTL, now: cfg.Now}
	}
	return h
}

// Outcomes of an item beyond the domain's incident.Outcome values.
const (
	// OutcomeSkipped: not an alarm state change (another message, another
	// event type) or a state that maps to nothing.
	OutcomeSkipped = "skipped"
	// OutcomeRejected: an alarm payload that cannot be read or ingested;
	// retrying would not help.
	OutcomeRejected = "rejected"
	// OutcomeFailed: a transient failure (the store); the invocation fails so
	// that Lambda retries it.
	OutcomeFailed = "failed"
)

// Response says what the invocation did with each notification it carried.
type Response struct {
	Items []Item `json:"items"`
}

// Item is what happened to one notification.
type Item struct {
	Path       Path   `json:"path,omitempty"`
	Alarm      string `json:"alarm,omitempty"`
	State      string `json:"state,omitempty"`
	Service    string `json:"service,omitempty"`
	Outcome    string `json:"outcome"`
	IncidentID string `json:"incident_id,omitempty"`
	Duplicate  bool   `json:"duplicate,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// shape is just enough of any of the three payloads to tell them apart.
type shape struct {
	Records    []json.RawMessage `json:"Records"`
	DetailType *string           `json:"detail-type"`
	AlarmData  json.RawMessage   `json:"alarmData"`
}

// Handle processes one invocation. Bad input is logged and skipped; the error
// is returned only for transient failures, so that Lambda retries the
// invocation. Retries are safe: every state change has a delivery id, and a
// change already applied is not applied again.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (any, error) {
	var resp Response
	var s shape
	if err := json.Unmarshal(event, &s); err != nil {
		resp.Items = append(resp.Items, h.reject("", nil, fmt.Errorf("event is not a JSON object: %v", text.Clip(err.Error(), 200, "", text.Bytes))))
		return resp, nil
	}
	var failed []error
	add := func(it Item, err error) {
		resp.Items = append(resp.Items, it)
		if err != nil {
			failed = append(failed, err)
		}
	}
	switch {
	case len(s.Records) > 0:
		for i, raw := range s.Records {
			add(h.snsRecord(ctx, i, raw))
		}
	case s.DetailType != nil:
		add(h.event(ctx, event))
	case len(s.AlarmData) > 0:
		n, err := ParseAction(event)
		if err != nil {
			add(h.reject(PathAction, nil, err), nil)
			break
		}
		add(h.process(ctx, n))
	default:
		add(h.reject("", nil, errors.New("event is neither an SNS event, an EventBridge event nor an alarm action")), nil)
	}
	if len(failed) > 0 {
		return resp, fmt.Errorf("%d of %d alarm notifications failed: %w", len(failed), len(resp.Items), errors.Join(failed...))
	}
	return resp, nil
}

func (h *Handler) snsRecord(ctx context.Context, i int, raw json.RawMessage) (Item, error) {
	attrs := []slog.Attr{slog.Int("record", i)}
	var rec events.SNSEventRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return h.reject(PathSNS, attrs, fmt.Errorf("SNS record is unreadable: %v", text.Clip(err.Error(), 200, "", text.Bytes))), nil
	}
	attrs = append(attrs, slog.String("message_id", text.Clip(rec.SNS.MessageID, 128, "", text.Bytes)))
	if rec.EventSource != "aws:sns" {
		return h.reject(PathSNS, attrs, fmt.Errorf("record from event source %q, want aws:sns", text.Clip(rec.EventSource, 64, "", text.Bytes))), nil
	}
	n, err := ParseSNSRecord(rec)
	if err != nil {
		return h.reject(PathSNS, attrs, err), nil
	}
	return h.process(ctx, n)
}

func (h *Handler) event(ctx context.Context, raw json.RawMessage) (Item, error) {
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return h.reject(PathEventBridge, nil, fmt.Errorf("EventBridge event is unreadable: %v", text.Clip(err.Error(), 200, "", text.Bytes))), nil
	}
	n, err := ParseEvent(ev)
	if err != nil {
		return h.reject(PathEventBridge, []slog.Attr{slog.String("event_id", text.Clip(ev.ID, 128, "", text.Bytes))}, err), nil
	}
	return h.process(ctx, n)
}

// reject logs input that is skipped: not an alarm state change at all (info),
// or an alarm payload that cannot be read (warning).
func (h *Handler) reject(path Path, attrs []slog.Attr, err error) Item {
	it := Item{Path: path, Outcome: OutcomeRejected, Reason: err.Error()}
	level, msg := slog.LevelWarn, "alarm notification rejected"
	if errors.Is(err, ErrNotAlarm) {
		it.Outcome, level, msg = OutcomeSkipped, slog.LevelInfo, "not an alarm state change, skipped"
	}
	attrs = append(attrs, slog.String("path", string(path)), slog.String("outcome", it.Outcome), slog.String("reason", it.Reason))
	h.log.LogAttrs(context.Background(), level, msg, attrs...)
	return it
}

// process routes and ingests one notification. The error is non-nil only for
// a transient failure.
func (h *Handler) process(ctx context.Context, n Notification) (Item, error) {
	it := Item{Path: n.Path, Alarm: n.AlarmName, State: n.State}
	attrs := []slog.Attr{
		slog.String("path", string(n.Path)),
		slog.String("alarm_name", n.AlarmName),
		slog.String("alarm_arn", n.AlarmARN),
		slog.String("state", n.State),
		slog.String("previous_state", n.PreviousState),
		slog.String("alarm_kind", string(n.Kind)),
		slog.String("state_time", n.StateTimestamp),
	}
	if n.Suppressed() {
		attrs = append(attrs, slog.String("actions_suppressed_by", n.ActionsSuppressedBy), slog.String("muted_by", n.MutedBy))
	}
	if len(n.Warnings) > 0 {
		attrs = append(attrs, slog.Any("warnings", n.Warnings))
	}
	if _, ok := SignalKind(n); !ok {
		it.Outcome, it.Reason = OutcomeSkipped, "state "+n.State+" maps to no signal"
		h.log.LogAttrs(ctx, slog.LevelInfo, "alarm state ignored", append(attrs, slog.String("outcome", it.Outcome), slog.String("reason", it.Reason))...)
		return it, nil
	}
	if m := markers(n); h.tags != nil && n.Tags == nil && n.AlarmARN != "" && (m.Service == "" || m.Severity == "") {
		tags, err := h.tags.get(ctx, n.AlarmARN)
		if err != nil {
			attrs = append(attrs, slog.String("tags_error", err.Error()))
		} else {
			n.Tags = tags
		}
	}
	var services []incident.ServiceConfig
	if needsServices(n) {
		var err error
		if services, err = h.services.get(ctx); err != nil {
			it.Outcome, it.Reason = OutcomeFailed, err.Error()
			h.log.LogAttrs(ctx, slog.LevelError, "alarm not ingested", append(attrs, slog.String("outcome", it.Outcome), slog.String("error", err.Error()))...)
			return it, fmt.Errorf("alarm %s: %w", n.AlarmName, err)
		}
	}
	route := Resolve(n, services, h.def)
	sig, _ := NewSignal(n, route)
	it.Service = sig.Service
	attrs = append(attrs,
		slog.String("service", sig.Service),
		slog.String("routed_by", route.By),
		slog.String("severity", string(sig.Severity)),
		slog.String("signal_kind", string(sig.Kind)),
		slog.String("delivery_id", sig.DeliveryID),
	)
	if len(route.Warnings) > 0 {
		attrs = append(attrs, slog.Any("route_warnings", route.Warnings))
	}
	res, err := h.ingest.Ingest(ctx, sig)
	if err != nil {
		if errors.Is(err, errkind.Invalid) {
			it.Outcome, it.Reason = OutcomeRejected, err.Error()
			h.log.LogAttrs(ctx, slog.LevelWarn, "alarm notification rejected", append(attrs, slog.String("outcome", it.Outcome), slog.String("reason", it.Reason))...)
			return it, nil
		}
		it.Outcome, it.Reason = OutcomeFailed, err.Error()
		h.log.LogAttrs(ctx, slog.LevelError, "alarm not ingested", append(attrs, slog.String("outcome", it.Outcome), slog.String("error", err.Error()))...)
		return it, fmt.Errorf("ingest alarm %s: %w", n.AlarmName, err)
	}
	it.Outcome, it.IncidentID, it.Duplicate = string(res.Outcome), res.IncidentID, res.Duplicate
	h.log.LogAttrs(ctx, slog.LevelInfo, "alarm ingested", append(attrs,
		slog.String("outcome", it.Outcome),
		slog.String("incident_id", res.IncidentID),
		slog.Bool("duplicate", res.Duplicate),
	)...)
	return it, nil
}

// serviceCache keeps the service list for a while; on a failed refresh it
// keeps using the list it has.
type serviceCache struct {
	lister ServiceLister
	ttl    time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu      sync.Mutex
	list    []incident.ServiceConfig
	fetched time.Time
	ok      bool
}

func (c *serviceCache) get(ctx context.Context) ([]incident.ServiceConfig, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.ok && now.Sub(c.fetched) < c.ttl {
		return c.list, nil
	}
	list, err := c.lister.ListServiceConfigs(ctx)
	if err != nil {
		if c.ok {
			c.log.LogAttrs(ctx, slog.LevelWarn, "service list refresh failed, using the cached one",
				slog.String("error", err.Error()), slog.Time("fetched_at", c.fetched))
			return c.list, nil
		}
		return nil, fmt.Errorf("list services: %w", err)
	}
	c.list, c.fetched, c.ok = list, now, true
	return list, nil
}
