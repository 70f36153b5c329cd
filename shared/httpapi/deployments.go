package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/github"
	"github.com/incidentd/incidentd/shared/text"
)

// Deployments stores deployment records; *dynamo.Store is one.
type Deployments interface {
	// PutDeployment records r with deploy.Merge's redelivery rule and
	// returns the stored record and whether anything was written.
	PutDeployment(ctx context.Context, r deploy.Record) (deploy.Record, bool, error)
	// Deployment reads one (errkind.NotFound when there is none).
	Deployment(ctx context.Context, id string) (deploy.Record, error)
	// ShipChange records a merged pull request and ships it onto the
	// deployments of its merge commit (deploy.Ship).
	ShipChange(ctx context.Context, source string, c deploy.Change) ([]string, error)
}

// Deliveries remembers the webhook deliveries applied; *dynamo.Store is one.
type Deliveries interface {
	// RecordDelivery records id once (errkind.Duplicate when it was).
	RecordDelivery(ctx context.Context, deliveryID, incidentID string, expires time.Time) error
	// DeliveryRecorded reports whether id was recorded.
	DeliveryRecorded(ctx context.Context, deliveryID string) (bool, error)
}

// deploymentsMaxBody bounds a POST /deployments body: up to deploy.MaxChanges
// changes of some 130 bytes each.
const deploymentsMaxBody = 256 << 10

// githubMaxBody bounds a webhook delivery, read before its signature can be
// checked: a pull_request payload carries the pull request's description.
const githubMaxBody = 1 << 20

// githubDeliveryTTL is how long a delivery id is remembered (GitHub
// redelivers on request, within days).
const githubDeliveryTTL = 7 * 24 * time.Hour

func (a *API) deploymentRoutes() {
	if a.deployments == nil {
		return
	}
	a.handle("POST /deployments", route{scope: auth.ScopeDeploymentsWrite, h: a.postDeployment})
	if a.githubSecret != "" && a.githubServices != nil && a.deliveries != nil {
		a.mux.HandleFunc("POST /webhooks/github", func(w http.ResponseWriter, r *http.Request) {
			if err := a.githubWebhook(w, r); err != nil {
				a.writeError(w, r, err)
			}
		})
	}
}

// deploymentView is a deployment record's JSON: unknown times are null.
type deploymentView struct {
	ID          string       `json:"id"`
	Service     string       `json:"service"`
	Environment string       `json:"environment"`
	Version     string       `json:"version,omitempty"`
	CommitSHA   string       `json:"commit_sha,omitempty"`
	Status      string       `json:"status"`
	StartedAt   *time.Time   `json:"started_at"`
	FinishedAt  *time.Time   `json:"finished_at"`
	Changes     []changeView `json:"changes"`
	Rework      string       `json:"rework,omitempty"`
}

type changeView struct {
	PRCreatedAt *time.Time `json:"pr_created_at"`
	PRMergedAt  *time.Time `json:"pr_merged_at"`
	CommitSHA   string     `json:"commit_sha,omitempty"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func newDeploymentView(r deploy.Record) deploymentView {
	v := deploymentView{
		ID: r.ID, Service: r.Service, Environment: r.Environment, Version: r.Version, CommitSHA: r.CommitSHA,
		Status: string(r.Status), StartedAt: timeOrNil(r.StartedAt), FinishedAt: timeOrNil(r.FinishedAt),
		Changes: []changeView{}, Rework: string(r.Rework),
	}
	for _, c := range r.Changes {
		v.Changes = append(v.Changes, changeView{PRCreatedAt: timeOrNil(c.PRCreatedAt), PRMergedAt: timeOrNil(c.PRMergedAt), CommitSHA: c.CommitSHA})
	}
	return v
}

// postDeployment records a deployment: 202 with the stored record when it
// wrote something (a new deployment, a later state, details the stored one
// lacked), 200 with the stored record when it wrote nothing (an identical
// replay, an older state).
func (a *API) postDeployment(w http.ResponseWriter, r *http.Request, _ principal) error {
	var req deploy.Request
	if err := a.decode(w, r, &req, decodeOptions{maxBody: deploymentsMaxBody}); err != nil {
		return err
	}
	rec, err := req.Record()
	if err != nil {
		return err
	}
	stored, wrote, err := a.deployments.PutDeployment(r.Context(), rec)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if wrote {
		status = http.StatusAccepted
	}
	writeJSON(w, status, newDeploymentView(stored))
	return nil
}

// githubAnswer is the body of a webhook's answer.
type githubAnswer struct {
	Delivery string `json:"delivery"`
	Event    string `json:"event"`
	// Outcome is recorded, unchanged (a state already known), ignored
	// (with the reason) or duplicate (the delivery id was applied before).
	Outcome    string          `json:"outcome"`
	Reason     string          `json:"reason,omitempty"`
	Deployment *deploymentView `json:"deployment,omitempty"`
	// ShippedBy lists the deployments a merged pull request was added to.
	ShippedBy []string `json:"shipped_by,omitempty"`
}

// githubWebhook serves POST /webhooks/github: the signature first (401),
// then the delivery id (a known one changes nothing), then the event.
func (a *API) githubWebhook(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	body, err := readBody(w, r, githubMaxBody)
	if err != nil {
		return err
	}
	if err := github.Verify(a.githubSecret, r.Header, body); err != nil {
		a.log.InfoContext(ctx, "github delivery refused", "request_id", RequestID(ctx), "reason", err.Error())
		return newError(http.StatusUnauthorized, "unauthorized", "the X-Hub-Signature-256 signature is missing or does not match the body")
	}
	d, err := github.Parse(ctx, r.Header, body, a.githubServices)
	ans := githubAnswer{Delivery: d.ID, Event: d.Event}
	if errors.Is(err, deploy.ErrIgnored) {
		ans.Outcome, ans.Reason = "ignored", err.Error()
		a.log.InfoContext(ctx, "github delivery ignored", "request_id", RequestID(ctx), "delivery", d.ID, "event", d.Event, "reason", err.Error())
		writeJSON(w, http.StatusAccepted, ans)
		return nil
	}
	if err != nil {
		return err
	}
	key := "github:" + d.ID
	seen, err := a.deliveries.DeliveryRecorded(ctx, key)
	if err != nil {
		return err
	}
	if seen {
		ans.Outcome = "duplicate"
		writeJSON(w, http.StatusAccepted, ans)
		return nil
	}
	ans.Outcome = "unchanged"
	switch {
	case d.Deployment != nil:
		stored, wrote, err := a.deployments.PutDeployment(ctx, *d.Deployment)
		if err != nil {
			return err
		}
		v := newDeploymentView(stored)
		ans.Deployment = &v
		if wrote {
			ans.Outcome = "recorded"
		}
	case d.PullRequest != nil && d.PullRequest.Merged:
		pr := d.PullRequest
		ids, err := a.deployments.ShipChange(ctx, fmt.Sprintf("github:%s#%d", pr.Repository, pr.Number), pr.Change)
		if err != nil {
			return err
		}
		ans.Outcome, ans.ShippedBy = "recorded", ids
	case d.PullRequest != nil:
		// An opened pull request: its creation time comes again with its
		// merge, which is when a deployment can ship it.
		ans.Outcome, ans.Reason = "ignored", "an opened pull request is read when it is merged (its merge carries created_at)"
	}
	// Recorded after the work: a failure before this point is retried by
	// GitHub's redelivery, and the work is idempotent anyway.
	if err := a.deliveries.RecordDelivery(ctx, key, "", a.now().Add(githubDeliveryTTL)); err != nil && !errors.Is(err, errkind.Duplicate) {
		return err
	}
	writeJSON(w, http.StatusAccepted, ans)
	return nil
}

// causeDeployment reads PATCH /incidents/{id}'s cause_deployment_id: null
// or "" unlinks (""), an id must name a recorded deployment (400 naming it
// otherwise).
func (a *API) causeDeployment(ctx context.Context, raw json.RawMessage) (string, error) {
	if string(raw) == "null" {
		return "", nil
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		return "", newError(http.StatusBadRequest, "invalid_field", `field "cause_deployment_id" must be a string or null`)
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return "", nil
	}
	if a.deployments == nil {
		return "", errkind.Invalidf("cause_deployment_id: deployments are not recorded here")
	}
	if _, err := a.deployments.Deployment(ctx, id); err != nil {
		if errors.Is(err, errkind.NotFound) {
			return "", errkind.Invalidf("cause_deployment_id %s names no recorded deployment", strconv.Quote(text.Clip(text.Clean(id), 130, "…", text.Valid)))
		}
		return "", err
	}
	return id, nil
}
