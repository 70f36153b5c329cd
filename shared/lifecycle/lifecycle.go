// Package lifecycle reacts to changes of incidents, as the table's DynamoDB
// stream reports them (functions/stream):
//
//   - an incident that opens, reopens or whose severity rises starts its
//     escalation (incident items, INSERT and MODIFY);
//   - every timeline entry added (entry items, INSERT) fans out: to the
//     incident's war-room channel in Slack, to IncidentEventsTopic as a
//     lifecycle event, and, for acknowledged and resolved, to the Slack pages
//     of the incident, which lose their buttons.
//
// Each record is handled on its own: one that fails is reported in
// BatchItemFailures (Lambda retries from it, then sends it to the DLQ) and the
// others go on. Handling a record twice is harmless: escalations start under a
// name made of the incident id and its reopen count, which Step Functions
// refuses to start twice; each war-room post and event is recorded after it
// went out (a delivery record "warroom#<incident id>#<entry id>" or
// "event#<entry id>", kept 7 days) and skipped when recorded, so the only
// window for a second one is a crash between the send and the record (the
// other order could drop it); a page update writes the same content again.
//
// The package knows no table item and no Slack message: Config.Decode (the
// store adapter's dynamo.DecodeStreamRecord) turns each record into an
// incident.StreamChange, and Slack is an interface in domain terms
// (slack.Notifier implements it).
//
// # War room
//
// Entries of the kinds in WarRoomKinds are posted to the incident's
// WarRoomChannel, if it has one (Slack.PostEntry; slack.Notifier posts
// slack.EntryMessage): the transitions, notes, changes of severity, title and
// commander, recoveries, user reports, pages and flapping (auto-resolve
// suspended: responders must know). Left out: opened (before any war room exists), signal (every
// repeated alarm and log batch: noise in a channel), stale_signal (a late
// delivery not acted on: on the timeline only), war_room_opened (the
// war room posts its own summary) and war_room_failed (there is no channel).
// Slack answers that will not change on a retry (channel_not_found,
// is_archived, not_in_channel, invalid_auth…: any Slack error code but
// ratelimited and Slack's own internal failures; see Permanent) are logged and
// the post dropped; others (network, HTTP 5xx, rate limits, the 5 s timeout)
// fail the record, to be retried. A Slack call is not started when the
// invocation has less than the Slack timeout and one second more left: the
// record fails and is retried instead of the function timing out with the
// whole batch.
//
// The bot token may come late (LazySlack): while it cannot be read, every
// Slack call fails its record, to be retried; a Slack answering ErrSlackOff
// (no bot token: Slack not configured) is skipped, and nothing is recorded as
// sent.
//
// # Lifecycle events
//
// Entries of the kinds in EventKinds (opened, acknowledged, identified,
// resolved, reopened, severity_changed, recovered, flapping,
// postmortem_updated) are published to
// IncidentEventsTopic as JSON (each publish bounded to 5 s, as a Slack call):
//
//	{"event_id": "<entry id>", "type": "incident.acknowledged",
//	 "at": "2026-11-24T09:20:00Z", "actor": "alice", "text": "...",
//	 "incident": {"id": "...", "service": "checkout", "title": "...",
//	              "severity": "SEV2", "status": "acknowledged", "source": "alarm",
//	              "started_at": "...", "created_at": "...", "updated_at": "...",
//	              "acknowledged_at": "...", "identified_at": null, "resolved_at": null,
//	              "recovered_at": null, "commander": "", "war_room_channel": "C0123",
//	              "cause_deployment_id": "", "root_cause": "", "fix": "",
//	              "signal_count": 1, "last_signal_at": "...", "reopen_count": 0,
//	              "reporter_count": 0, "version": 3}}
//
// (incident.Event, built by incident.NewEvent.) event_id is unique per event
// (subscribers deduplicate on it: delivery is at least once); type is
// "incident." + the entry's kind; at, actor and text are the entry's; incident
// is the API's view of the incident (incident.View) without the timeline, as
// the stream function read it when it handled the entry, which may already be
// later than the entry (an acknowledged event handled after a quick resolve
// shows status resolved): type says what happened. The SNS message attributes event_type, service, severity and
// incident_id (all String) let subscriptions filter, e.g.
// {"event_type": ["incident.resolved"], "severity": ["SEV1", "SEV2"]}.
//
// # Slack pages
//
// escalate records every page it posts to a responder in Slack (the DM's
// channel and ts, incident.SlackPage). An acknowledged or resolved entry
// closes each of them (Slack.ClosePage; slack.Notifier renders
// slack.PageClosedMessage): no buttons, "Acknowledged by <actor>". An update
// that fails for good (message_not_found…) is logged; others fail the record,
// and the retry updates every page again. A page escalate records after this
// read its pages (the acknowledgement came while it was posting) is closed by
// escalate itself: it reads the status again once the page is recorded.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// Starter starts an incident's escalation (escalation.Starter).
type Starter interface {
	Start(ctx context.Context, inc incident.Incident) (started bool, err error)
}

// Incidents reads incidents (dynamo.Store, incident.Service).
type Incidents interface {
	Incident(ctx context.Context, id string) (incident.Incident, error)
}

// Deliveries records what went out, so that a redelivered record does not
// send it again (dynamo.Store).
type Deliveries interface {
	// Delivery returns the record of id, or an error matching
	// errkind.NotFound.
	Delivery(ctx context.Context, id string) (incident.Result, error)
	// RecordDelivery writes the record of id, kept until expires; one
	// already there is an error matching errkind.Duplicate.
	RecordDelivery(ctx context.Context, id, incidentID string, expires time.Time) error
}

// SlackPages lists the Slack pages escalate posted for an incident
// (dynamo.Store).
type SlackPages interface {
	SlackPages(ctx context.Context, incidentID string) ([]incident.SlackPage, error)
}

// Slack is what the handler needs of Slack (slack.Notifier, LazySlack).
type Slack interface {
	// PostEntry posts timeline entry e of inc to the war-room channel.
	PostEntry(ctx context.Context, channel string, inc incident.Incident, e incident.Entry) error
	// ClosePage replaces page p of inc with its answered version (no
	// buttons; answer, the acknowledged or resolved entry, says by whom).
	ClosePage(ctx context.Context, inc incident.Incident, p incident.SlackPage, answer incident.Entry) error
}

// Publisher publishes lifecycle events to IncidentEventsTopic (sns.Events).
type Publisher interface {
	PublishEvent(ctx context.Context, ev incident.Event) error
}

// Folder folds pending signals into their incidents (incident.Service.Fold):
// each at most once however often it is delivered.
type Folder interface {
	Fold(ctx context.Context, pending []incident.PendingSignal) error
}

// Decoder decodes a stream record into the change it reports, in domain
// types (dynamo.DecodeStreamRecord): the store adapter knows its items.
// Records of no interest are the zero change; an error fails the record.
type Decoder func(r events.DynamoDBEventRecord) (incident.StreamChange, error)

// PermanentError is an error that a retry would get again, as Slack's
// answers say of themselves (*slack.APIError): Permanent reports whether it
// is one, ErrorCode is the service's code for it (logged as slack_error).
type PermanentError interface {
	error
	Permanent() bool
	ErrorCode() string
}

// DefaultSlackTimeout bounds each Slack call.
const DefaultSlackTimeout = 5 * time.Second

// DefaultPublishTimeout bounds each publish to IncidentEventsTopic, the SDK's
// retries included: a slow SNS must not time out the whole batch.
const DefaultPublishTimeout = 5 * time.Second

// DefaultDeliveryTTL is how long a sent post or event is remembered: far
// longer than a record stays in the stream (24 hours) or is retried.
const DefaultDeliveryTTL = 7 * 24 * time.Hour

// Config wires a Handler. Only Starter and Decode are required.
type Config struct {
	Starter Starter
	// Decode decodes each stream record (dynamo.DecodeStreamRecord).
	Decode Decoder
	// Signals folds the pending signals of a batch into their incidents;
	// nil: pending signals are ignored (their counts never land).
	Signals Folder
	// Incidents reads the incident of an entry; nil: entries are ignored.
	Incidents Incidents
	// Deliveries makes posts and events once-only; nil: a redelivered record
	// sends again.
	Deliveries Deliveries
	// SlackPages lists the pages to update; nil: pages are not updated.
	SlackPages SlackPages
	// Slack posts to war rooms and updates pages; nil: no Slack. A Slack
	// whose calls fail with ErrSlackOff is skipped as if nil (LazySlack
	// without a bot token).
	Slack Slack
	// Publisher publishes lifecycle events; nil: no events.
	Publisher Publisher
	// SlackTimeout bounds each Slack call (0: DefaultSlackTimeout).
	SlackTimeout time.Duration
	// PublishTimeout bounds each publish (0: DefaultPublishTimeout).
	PublishTimeout time.Duration
	// DeliveryTTL is how long delivery records are kept (0: DefaultDeliveryTTL).
	DeliveryTTL time.Duration
	Logger      *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Handler handles DynamoDB stream batches.
type Handler struct{ cfg Config }

// NewHandler returns a Handler; a nil logger is slog.Default().
func NewHandler(cfg Config) *Handler {
	if cfg.Decode == nil {
		// A wiring mistake: every record fails, and is retried, rather than
		// panicking.
		cfg.Decode = func(events.DynamoDBEventRecord) (incident.StreamChange, error) {
			return incident.StreamChange{}, errors.New("lifecycle: no stream decoder (Config.Decode)")
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SlackTimeout <= 0 {
		cfg.SlackTimeout = DefaultSlackTimeout
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.DeliveryTTL <= 0 {
		cfg.DeliveryTTL = DefaultDeliveryTTL
	}
	return &Handler{cfg: cfg}
}

// WarRoomKinds are the entry kinds posted to the war room.
var WarRoomKinds = map[incident.EntryKind]bool{
	incident.EntryAcknowledged: true, incident.EntryIdentified: true, incident.EntryResolved: true,
	incident.EntryReopened: true, incident.EntryRecovered: true, incident.EntryNote: true,
	incident.EntrySeverityChanged: true, incident.EntryTitleChanged: true, incident.EntryCommander: true,
	incident.EntryReport: true, incident.EntryPaged: true, incident.EntryFlapping: true,
	incident.EntryStatusUpdate:      true,
	incident.EntryPostmortemUpdated: true,
}

// EventKinds are the entry kinds published as lifecycle events.
var EventKinds = map[incident.EntryKind]bool{
	incident.EntryOpened: true, incident.EntryAcknowledged: true, incident.EntryIdentified: true,
	incident.EntryResolved: true, incident.EntryReopened: true, incident.EntrySeverityChanged: true,
	incident.EntryRecovered: true, incident.EntryFlapping: true,
	// The postmortem function renders the document again on it.
	incident.EntryPostmortemUpdated: true,
}

// closesPages are the entry kinds that answer a page.
var closesPages = map[incident.EntryKind]bool{incident.EntryAcknowledged: true, incident.EntryResolved: true}

// Handle is the Lambda handler (with ReportBatchItemFailures on the event
// source mapping). It never returns an error: failures are per record.
// Records are handled in order: each mapping hands over one kind (incident
// changes, or entry insertions), so escalations never wait behind Slack.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	// Pending signals are folded together, one transaction per incident
	// for the whole batch; the other records one by one.
	var pending []incident.PendingSignal
	var pendingRecords []events.DynamoDBEventRecord
	var others []events.DynamoDBEventRecord
	for _, r := range ev.Records {
		if ch, err := h.cfg.Decode(r); err == nil && ch.Signal != nil {
			pending = append(pending, *ch.Signal)
			pendingRecords = append(pendingRecords, r)
			continue
		}
		others = append(others, r)
	}
	if len(pending) > 0 {
		if err := h.fold(ctx, pending); err != nil {
			for _, r := range pendingRecords {
				h.cfg.Logger.ErrorContext(ctx, "stream record failed", slog.String("event_id", r.EventID),
					slog.String("event_name", r.EventName), slog.String("sequence_number", r.Change.SequenceNumber),
					slog.Any("keys", r.Change.Keys), slog.Any("error", err))
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			}
		}
	}
	for _, r := range others {
		if err := h.record(ctx, r); err != nil {
			// The failure queue names shard and sequence numbers only: the
			// item's key here says which incident a failed record was about.
			h.cfg.Logger.ErrorContext(ctx, "stream record failed", slog.String("event_id", r.EventID),
				slog.String("event_name", r.EventName), slog.String("sequence_number", r.Change.SequenceNumber),
				slog.Any("keys", r.Change.Keys), slog.Any("error", err))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		}
	}
	return resp, nil
}

// fold folds the batch's pending signals (a redelivered batch folds
// nothing twice).
func (h *Handler) fold(ctx context.Context, pending []incident.PendingSignal) error {
	if h.cfg.Signals == nil {
		h.cfg.Logger.WarnContext(ctx, "pending signals ignored: no folder (Config.Signals)", slog.Int("signals", len(pending)))
		return nil
	}
	return h.cfg.Signals.Fold(ctx, pending)
}

// record handles one stream record: an incident's change, or a timeline
// entry's insertion, as Decode reads them. Other records are ignored.
func (h *Handler) record(ctx context.Context, r events.DynamoDBEventRecord) error {
	ch, err := h.cfg.Decode(r)
	if err != nil {
		return err
	}
	switch {
	case ch.Incident != nil:
		return h.incidentChange(ctx, r, ch)
	case ch.Entry != nil:
		return h.entry(ctx, ch.IncidentID, *ch.Entry)
	}
	return nil // dedup keys, deliveries, Slack pages, configs, removals...
}

// incidentChange starts the escalation of an incident that opened, reopened
// or whose severity rose (ch.Incident is set).
func (h *Handler) incidentChange(ctx context.Context, r events.DynamoDBEventRecord, ch incident.StreamChange) error {
	inc := *ch.Incident
	why := "opened"
	if ch.Previous != nil {
		why = escalates(*ch.Previous, inc)
	}
	if why == "" {
		return nil
	}
	log := h.cfg.Logger.With(slog.String("incident_id", inc.ID), slog.String("event_id", r.EventID))
	if inc.Status != incident.StatusTriggered {
		// Someone has it already (declared acknowledged, or acknowledged
		// before the stream caught up): nobody to page.
		log.InfoContext(ctx, "escalation not started: incident is "+string(inc.Status), slog.String("change", why))
		return nil
	}
	started, err := h.cfg.Starter.Start(ctx, inc)
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "incident change handled", slog.String("change", why), slog.Bool("escalation_started", started))
	return nil
}

// escalates says why a change from old to cur starts an escalation, or "".
// A severity that rises starts one: the Starter checks it pages, and an
// incident that paged already has its execution, so none starts twice.
func escalates(old, cur incident.Incident) string {
	switch {
	case cur.ReopenCount > old.ReopenCount,
		old.Status == incident.StatusResolved && cur.Status == incident.StatusTriggered:
		return "reopened"
	case cur.Severity.MoreSevereThan(old.Severity):
		return "severity raised"
	}
	return ""
}

// entry fans out one inserted timeline entry e of incident id: the lifecycle
// event, the war-room post, the page updates. Each goes on when another
// fails; the record fails if any did (a retry skips what was recorded as
// sent).
func (h *Handler) entry(ctx context.Context, id string, e incident.Entry) error {
	publish := h.cfg.Publisher != nil && EventKinds[e.Kind]
	post := h.cfg.Slack != nil && WarRoomKinds[e.Kind]
	closePages := h.cfg.Slack != nil && h.cfg.SlackPages != nil && closesPages[e.Kind]
	if h.cfg.Incidents == nil || !publish && !post && !closePages {
		return nil
	}
	log := h.cfg.Logger.With(slog.String("incident_id", id), slog.String("entry_id", e.ID), slog.String("kind", string(e.Kind)))
	if !incident.ValidID(id) || e.ID == "" {
		log.WarnContext(ctx, "timeline entry dropped: no incident id or entry id")
		return nil
	}
	inc, err := h.cfg.Incidents.Incident(ctx, id)
	if errors.Is(err, errkind.NotFound) {
		log.WarnContext(ctx, "timeline entry dropped: its incident does not exist")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read incident %s: %w", id, err)
	}
	var errs []error
	if publish {
		errs = append(errs, h.once(ctx, log, "event#"+e.ID, id, func() error {
			return h.bounded(ctx, "publish event", h.cfg.PublishTimeout, func(ctx context.Context) error {
				return h.cfg.Publisher.PublishEvent(ctx, incident.NewEvent(inc, e))
			})
		}))
	}
	if post && inc.WarRoomChannel != "" {
		errs = append(errs, h.once(ctx, log, "warroom#"+id+"#"+e.ID, id, func() error {
			return h.slack(ctx, log, "war-room post", func(ctx context.Context) error {
				return h.cfg.Slack.PostEntry(ctx, inc.WarRoomChannel, inc, e)
			})
		}))
	}
	if closePages {
		errs = append(errs, h.closePages(ctx, log, inc, e))
	}
	return errors.Join(errs...)
}

// once sends unless the delivery key was recorded, and records it after the
// send succeeded. A send that finds Slack off (ErrSlackOff) is not recorded:
// nothing went out.
func (h *Handler) once(ctx context.Context, log *slog.Logger, key, incidentID string, send func() error) error {
	if h.cfg.Deliveries != nil {
		_, err := h.cfg.Deliveries.Delivery(ctx, key)
		if err == nil {
			log.InfoContext(ctx, "already sent", slog.String("delivery", key))
			return nil
		}
		if !errors.Is(err, errkind.NotFound) {
			return fmt.Errorf("read delivery %s: %w", key, err)
		}
	}
	if err := send(); errors.Is(err, ErrSlackOff) {
		log.DebugContext(ctx, "not sent: Slack is off", slog.String("delivery", key))
		return nil
	} else if err != nil {
		return err
	}
	if h.cfg.Deliveries == nil {
		return nil
	}
	err := h.cfg.Deliveries.RecordDelivery(ctx, key, incidentID, h.cfg.Now().Add(h.cfg.DeliveryTTL))
	if err != nil && !errors.Is(err, errkind.Duplicate) {
		// Sent: failing the record now would send it again. A retry for
		// another reason may still do so.
		log.WarnContext(ctx, "sent but not recorded", slog.String("delivery", key), slog.Any("error", err))
	}
	return nil
}

// closePages replaces every Slack page of the incident with a version
// without buttons saying who answered it.
func (h *Handler) closePages(ctx context.Context, log *slog.Logger, inc incident.Incident, e incident.Entry) error {
	pages, err := h.cfg.SlackPages.SlackPages(ctx, inc.ID)
	if err != nil {
		return fmt.Errorf("read slack pages of %s: %w", inc.ID, err)
	}
	var errs []error
	for _, p := range pages {
		err := h.slack(ctx, log.With(slog.String("responder", p.Responder), slog.String("channel", p.Channel)),
			"page update", func(ctx context.Context) error {
				return h.cfg.Slack.ClosePage(ctx, inc, p, e)
			})
		if errors.Is(err, ErrSlackOff) {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// errNoTime fails a record whose Slack call or publish would outlast the
// invocation.
var errNoTime = errors.New("too little time left in this invocation")

// bounded makes one call within timeout, and does not start it when the
// invocation has less than timeout and one second more left.
func (h *Handler) bounded(ctx context.Context, what string, timeout time.Duration, call func(ctx context.Context) error) error {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < timeout+time.Second {
		return fmt.Errorf("%s: %w", what, errNoTime)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := call(cctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// slack makes one Slack call within SlackTimeout. An error Slack will answer
// again whatever the retry is logged and dropped; others (ErrSlackOff among
// them) are returned.
func (h *Handler) slack(ctx context.Context, log *slog.Logger, what string, call func(ctx context.Context) error) error {
	err := h.bounded(ctx, what, h.cfg.SlackTimeout, call)
	if p, ok := permanent(err); ok {
		log.ErrorContext(ctx, what+" dropped: Slack refused it", slog.String("slack_error", p.ErrorCode()), slog.Any("error", err))
		return nil
	}
	return err
}

// Permanent reports whether err is a Slack answer that a retry would get
// again (a PermanentError saying so; *slack.APIError decides): an error code
// (channel_not_found, is_archived, not_in_channel, message_not_found,
// invalid_auth, token_revoked, account_inactive…) other than a rate limit or
// Slack's own failure. Network errors, HTTP errors without a code and
// timeouts are not.
//
// A revoked or wrong bot token (invalid_auth and the like) is permanent too,
// though it may be fixed within the hours the fan-out retries: a failing
// record holds up its shard for the fan-out mapping, and with it the
// IncidentEventsTopic events of every other incident behind it. Slack posts
// are dropped (and logged as errors) rather than the events delayed until
// someone fixes the token.
func Permanent(err error) bool {
	_, ok := permanent(err)
	return ok
}

// permanent returns the PermanentError in err's chain if it is permanent.
func permanent(err error) (PermanentError, bool) {
	var p PermanentError
	if err != nil && errors.As(err, &p) && p.Permanent() {
		return p, true
	}
	return nil, false
}
