package deployevents

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/errkind"
)

// Store records deployments; *dynamo.Store is one.
type Store interface {
	// PutDeployment records r with deploy.Merge's redelivery rule and
	// returns the stored record and whether anything was written.
	PutDeployment(ctx context.Context, r deploy.Record) (deploy.Record, bool, error)
}

// Handler is the deploys function: one EventBridge event per invocation.
type Handler struct {
	store    Store
	services deploy.ServiceResolver
	log      *slog.Logger
}

// NewHandler returns the handler over store, mapping sources with services.
func NewHandler(store Store, services deploy.ServiceResolver, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{store: store, services: services, log: logger}
}

// Outcomes of an event.
const (
	OutcomeRecorded  = "recorded"  // the record was written (new, or a later state)
	OutcomeUnchanged = "unchanged" // a redelivery or an older state: nothing written
	OutcomeIgnored   = "ignored"   // not a deployment state, or an unmapped source
	OutcomeRejected  = "rejected"  // malformed: logged, not retried
)

// Result is what an invocation answers (read by the local invoke endpoint
// and the logs).
type Result struct {
	Outcome      string `json:"outcome"`
	DeploymentID string `json:"deployment_id,omitempty"`
	Status       string `json:"status,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// Handle records the deployment state ev reports. An ignored or malformed
// event is logged and acknowledged (a retry would read it the same way); only
// a store failure is an error, for Lambda to retry and then send to the
// function's on-failure destination.
func (h *Handler) Handle(ctx context.Context, ev events.CloudWatchEvent) (Result, error) {
	r, err := Parse(ctx, ev, h.services)
	switch {
	case errors.Is(err, deploy.ErrIgnored):
		h.log.InfoContext(ctx, "deployment event ignored", "event_id", ev.ID, "detail_type", ev.DetailType, "reason", err.Error())
		return Result{Outcome: OutcomeIgnored, Reason: err.Error()}, nil
	case errors.Is(err, errkind.Invalid):
		h.log.WarnContext(ctx, "deployment event rejected", "event_id", ev.ID, "detail_type", ev.DetailType, "reason", err.Error())
		return Result{Outcome: OutcomeRejected, Reason: err.Error()}, nil
	case err != nil:
		return Result{}, err
	}
	stored, wrote, err := h.store.PutDeployment(ctx, r)
	if errors.Is(err, errkind.Invalid) {
		h.log.WarnContext(ctx, "deployment event rejected", "event_id", ev.ID, "deployment_id", r.ID, "reason", err.Error())
		return Result{Outcome: OutcomeRejected, Reason: err.Error()}, nil
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Outcome: OutcomeUnchanged, DeploymentID: stored.ID, Status: string(stored.Status)}
	if wrote {
		res.Outcome = OutcomeRecorded
	}
	h.log.InfoContext(ctx, "deployment event", "event_id", ev.ID, "deployment_id", stored.ID, "service", stored.Service,
		"environment", stored.Environment, "status", stored.Status, "outcome", res.Outcome)
	return res, nil
}
