package github

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// DeploymentIDPrefix prefixes the record id of a GitHub deployment.
const DeploymentIDPrefix = "github:"

// The events this package reads.
const (
	EventPullRequest      = "pull_request"
	EventDeploymentStatus = "deployment_status"
	EventPing             = "ping"
)

// Delivery is one webhook delivery, read. ID (X-GitHub-Delivery) is the
// idempotency key: GitHub sends a redelivery with the same id. Exactly one
// of Deployment and PullRequest is set on a delivery that records
// something.
type Delivery struct {
	ID         string
	Event      string
	Action     string
	Repository string // owner/name
	// Deployment is the state a deployment_status reports, a valid record.
	Deployment *deploy.Record
	// PullRequest is an opened or merged pull request.
	PullRequest *PullRequest
}

// PullRequest is a pull request of a mapped repository: opened (Change has
// PRCreatedAt only) or merged (Change has PRCreatedAt, PRMergedAt and
// CommitSHA, the merge commit). A deployment whose commit_sha is the merge
// commit shipped it.
type PullRequest struct {
	Service     string
	Environment string // "" unless the mapping names one
	Repository  string
	Number      int
	Merged      bool
	Change      deploy.Change
}

// Parse reads a delivery whose signature Verify has accepted: the event and
// delivery id from header, the body as the event says. A delivery that
// records nothing (a ping, another event or action, a pull request closed
// without merging, an inactive deployment, an unmapped repository) returns
// the Delivery with its ID, Event and Action and an error that is a
// deploy.ErrIgnored with the reason; a malformed one an errkind.Invalid. A
// repository maps to a service through services, asked for
// "owner/name@environment" first (a monorepo whose GitHub environments are
// per service) and then "owner/name".
func Parse(ctx context.Context, header http.Header, body []byte, services deploy.ServiceResolver) (Delivery, error) {
	var d Delivery
	var err error
	if d.Event, err = single(header, HeaderEvent); err != nil {
		return Delivery{}, err
	}
	if d.ID, err = single(header, HeaderDelivery); err != nil {
		return Delivery{}, err
	}
	if !validDeliveryID(d.ID) {
		return Delivery{}, errkind.Invalidf("%s %s is not a delivery id (1-64 letters, digits and '-')", HeaderDelivery, quoted(d.ID))
	}
	switch d.Event {
	case EventPullRequest:
		return parsePullRequest(ctx, d, body, services)
	case EventDeploymentStatus:
		return parseDeploymentStatus(ctx, d, body, services)
	case EventPing:
		return d, deploy.Ignoredf("ping: the webhook is set up; send pull_request and deployment_status events")
	}
	return d, deploy.Ignoredf("event %s records nothing (only pull_request and deployment_status do)", quoted(d.Event))
}

// envelope is what every event's body has.
type envelope struct {
	Action     string `json:"action"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

func (e *envelope) head() *envelope { return e }

// decode reads the body of d's event into p and notes its action and
// repository in d, cleaned and clipped.
func decode(d *Delivery, body []byte, p interface{ head() *envelope }) error {
	if err := json.Unmarshal(body, p); err != nil {
		return errkind.Invalidf("read %s delivery %s: %s", d.Event, d.ID, quoted(err.Error()))
	}
	h := p.head()
	d.Action = text.Clip(text.Clean(h.Action), 64, "", text.Valid)
	d.Repository = text.Clip(text.Clean(h.Repository.FullName), 256, "", text.Valid)
	return nil
}

type pullRequestPayload struct {
	envelope
	Number      int `json:"number"`
	PullRequest *struct {
		Number         int       `json:"number"`
		CreatedAt      time.Time `json:"created_at"`
		MergedAt       time.Time `json:"merged_at"`
		Merged         bool      `json:"merged"`
		MergeCommitSHA string    `json:"merge_commit_sha"`
	} `json:"pull_request"`
}

// parsePullRequest reads opened (a change with pr_created_at) and closed
// with merged true (pr_merged_at and the merge commit). merge_commit_sha of
// an open pull request is GitHub's test merge, never deployed: it is read
// only once merged.
func parsePullRequest(ctx context.Context, d Delivery, body []byte, services deploy.ServiceResolver) (Delivery, error) {
	var p pullRequestPayload
	if err := decode(&d, body, &p); err != nil {
		return d, err
	}
	if p.PullRequest == nil {
		return d, errkind.Invalidf("pull_request delivery %s has no pull_request", d.ID)
	}
	pr := p.PullRequest
	number := pr.Number
	if number == 0 {
		number = p.Number
	}
	switch {
	case p.Action == "opened":
	case p.Action == "closed" && pr.Merged:
	case p.Action == "closed":
		return d, deploy.Ignoredf("pull request %s#%d was closed without merging", quoted(d.Repository), number)
	default:
		return d, deploy.Ignoredf("pull_request action %s records nothing (only opened, and closed when merged, do)", quoted(p.Action))
	}
	if pr.CreatedAt.IsZero() {
		return d, errkind.Invalidf("pull request %s#%d has no created_at", quoted(d.Repository), number)
	}
	service, env, ok := resolve(ctx, services, d.Repository, "")
	if !ok {
		return d, deploy.Ignoredf("repository %s maps to no service", quoted(d.Repository))
	}
	out := &PullRequest{Service: service, Environment: env, Repository: d.Repository, Number: number, Merged: pr.Merged,
		Change: deploy.Change{PRCreatedAt: pr.CreatedAt}}
	if pr.Merged {
		if pr.MergedAt.IsZero() || pr.MergeCommitSHA == "" {
			return d, errkind.Invalidf("merged pull request %s#%d has no merged_at or merge_commit_sha", quoted(d.Repository), number)
		}
		out.Change.PRMergedAt, out.Change.CommitSHA = pr.MergedAt, pr.MergeCommitSHA
	}
	if err := incident.ValidateServiceName(service); err != nil {
		return d, err
	}
	change, err := deploy.ValidateChange(out.Change)
	if err != nil {
		return d, err
	}
	out.Change = change
	d.PullRequest = out
	return d, nil
}

type deploymentStatusPayload struct {
	envelope
	DeploymentStatus *struct {
		State       string    `json:"state"`
		Environment string    `json:"environment"`
		CreatedAt   time.Time `json:"created_at"`
	} `json:"deployment_status"`
	Deployment *struct {
		ID          json.Number `json:"id"`
		SHA         string      `json:"sha"`
		Ref         string      `json:"ref"`
		Environment string      `json:"environment"`
		CreatedAt   time.Time   `json:"created_at"`
	} `json:"deployment"`
}

// parseDeploymentStatus reads a deployment's new state: pending, queued and
// in_progress are started; success succeeded; failure and error failed;
// inactive (a newer deployment to the environment took over; this one's
// outcome stands) and any other state are ignored.
func parseDeploymentStatus(ctx context.Context, d Delivery, body []byte, services deploy.ServiceResolver) (Delivery, error) {
	var p deploymentStatusPayload
	if err := decode(&d, body, &p); err != nil {
		return d, err
	}
	if p.DeploymentStatus == nil || p.Deployment == nil {
		return d, errkind.Invalidf("deployment_status delivery %s has no deployment_status or deployment", d.ID)
	}
	st, dep := p.DeploymentStatus, p.Deployment
	id, err := strconv.ParseInt(dep.ID.String(), 10, 64)
	if err != nil || id <= 0 {
		return d, errkind.Invalidf("deployment_status delivery %s: deployment id %s is not a positive integer", d.ID, quoted(dep.ID.String()))
	}
	var status deploy.Status
	switch st.State {
	case "pending", "queued", "in_progress":
		status = deploy.Started
	case "success":
		status = deploy.Succeeded
	case "failure", "error":
		status = deploy.Failed
	case "inactive":
		return d, deploy.Ignoredf("deployment %d is inactive: a newer deployment to its environment took over, and its own outcome stands", id)
	default:
		return d, deploy.Ignoredf("deployment status %s records nothing", quoted(st.State))
	}
	ghEnv := dep.Environment
	if ghEnv == "" {
		ghEnv = st.Environment
	}
	service, env, ok := resolve(ctx, services, d.Repository, ghEnv)
	if !ok {
		return d, deploy.Ignoredf("repository %s (environment %s) maps to no service", quoted(d.Repository), quoted(ghEnv))
	}
	if env == "" && ghEnv != "" {
		if env = environmentName(ghEnv); env == "" {
			return d, deploy.Ignoredf("GitHub environment %s has no usable name: map %s to a service and environment", quoted(ghEnv), quoted(d.Repository+"@"+ghEnv))
		}
	}
	r := deploy.Record{ID: DeploymentIDPrefix + strconv.FormatInt(id, 10), Service: service, Environment: env,
		Version: dep.Ref, CommitSHA: dep.SHA, Status: status, StartedAt: dep.CreatedAt}
	if status == deploy.Started && r.StartedAt.IsZero() {
		r.StartedAt = st.CreatedAt
	}
	if status != deploy.Started {
		r.FinishedAt = st.CreatedAt
		if r.StartedAt.After(r.FinishedAt) {
			r.StartedAt = time.Time{} // two clocks disagreeing; the end is what counts
		}
	}
	rec, err := deploy.Validate(r)
	if err != nil {
		return d, err
	}
	d.Deployment = &rec
	return d, nil
}

// resolve maps a repository (and a GitHub environment, if any) to a service.
func resolve(ctx context.Context, services deploy.ServiceResolver, repo, env string) (service, environment string, ok bool) {
	if repo == "" {
		return "", "", false
	}
	keys := []string{repo}
	if env != "" {
		keys = []string{repo + "@" + env, repo}
	}
	service, environment, _, ok = deploy.Resolve(ctx, services, keys...)
	return service, environment, ok
}

// environmentName turns a GitHub environment name ("Production", "eu west")
// into a platform one: lower case, each run of other characters than
// letters, digits, '.', '_' and '-' one '-', at most 63 bytes.
func environmentName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-._")
	if len(out) > 63 {
		out = strings.Trim(out[:63], "-._")
	}
	return out
}

// single returns the one value of a header that must be there.
func single(header http.Header, name string) (string, error) {
	values := headerValues(header, name)
	switch {
	case len(values) == 0 || len(values) == 1 && strings.TrimSpace(values[0]) == "":
		return "", errkind.Invalidf("no %s header", name)
	case len(values) > 1:
		return "", errkind.Invalidf("%s header given %d times", name, len(values))
	}
	return strings.TrimSpace(values[0]), nil
}

func validDeliveryID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// quoted is outside text fit for a message: cleaned, clipped and quoted.
func quoted(s string) string { return text.Quote(s, 128) }
