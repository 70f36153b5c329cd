// Package lifecycle reacts to changes of incidents, as the table's DynamoDB
// stream reports them (functions/stream): an incident that opens, reopens or
// whose severity rises starts its escalation.
//
// Each record is handled on its own: one that fails is reported in
// BatchItemFailures (Lambda retries from it, then sends it to the DLQ) and the
// others go on. Handling a record twice is harmless: escalations start under a
// name made of the incident id and its reopen count, which Step Functions
// refuses to start twice.
package lifecycle

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
)

// Starter starts an incident's escalation (escalation.Starter).
type Starter interface {
	Start(ctx context.Context, inc incident.Incident) (started bool, err error)
}

// Handler handles DynamoDB stream batches.
type Handler struct {
	starter Starter
	log     *slog.Logger
}

// NewHandler returns a Handler; a nil logger is slog.Default().
func NewHandler(starter Starter, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{starter: starter, log: logger}
}

// Handle is the Lambda handler (with ReportBatchItemFailures on the event
// source mapping). It never returns an error: failures are per record.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	for _, r := range ev.Records {
		if err := h.record(ctx, r); err != nil {
			h.log.ErrorContext(ctx, "stream record failed", slog.String("event_id", r.EventID),
				slog.String("event_name", r.EventName), slog.String("sequence_number", r.Change.SequenceNumber),
				slog.Any("error", err))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		}
	}
	return resp, nil
}

// record handles one stream record.
func (h *Handler) record(ctx context.Context, r events.DynamoDBEventRecord) error {
	if r.EventName != "INSERT" && r.EventName != "MODIFY" {
		return nil // REMOVE: TTL expiry of dedup and delivery records
	}
	newImage, err := dynamo.FromStreamImage(r.Change.NewImage)
	if err != nil {
		return fmt.Errorf("new image: %w", err)
	}
	if dynamo.ItemType(newImage) != dynamo.TypeIncident {
		return nil // timeline entries, dedup keys, configs...
	}
	inc, err := dynamo.DecodeIncident(newImage)
	if err != nil {
		return err
	}
	why := ""
	switch r.EventName {
	case "INSERT":
		why = "opened"
	case "MODIFY":
		oldImage, err := dynamo.FromStreamImage(r.Change.OldImage)
		if err != nil {
			return fmt.Errorf("old image: %w", err)
		}
		if dynamo.ItemType(oldImage) != dynamo.TypeIncident {
			return fmt.Errorf("modified incident %s has no old image (the stream must carry new and old images)", inc.ID)
		}
		old, err := dynamo.DecodeIncident(oldImage)
		if err != nil {
			return fmt.Errorf("old image: %w", err)
		}
		why = escalates(old, inc)
	}
	log := h.log.With(slog.String("incident_id", inc.ID), slog.String("event_id", r.EventID))
	if why == "" {
		return nil
	}
	if inc.Status != incident.StatusTriggered {
		// Someone has it already (declared acknowledged, or acknowledged
		// before the stream caught up): nobody to page.
		log.InfoContext(ctx, "escalation not started: incident is "+string(inc.Status), slog.String("change", why))
		return nil
	}
	started, err := h.starter.Start(ctx, inc)
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
