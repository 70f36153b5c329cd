package dora

import "time"

// Link ties an incident to the deployment that caused it.
type Link struct {
	DeploymentID string `json:"deployment_id"`
	// Suspected: found by the rule below, not set by a person.
	Suspected bool `json:"suspected"`
}

// LinkIncident returns the deployment inc is tied to, and false when none.
// An explicit link (CauseDeploymentID) wins whatever the deployments are.
// Otherwise the suspected cause is the latest successful deployment of the
// incident's service and environment that finished within window (zero:
// DefaultSuspectWindow) before the incident started, that is with
// started_at − window ≤ finished_at ≤ started_at; of two that finished at the
// same instant, the greater ID. Deployments of other services or
// environments may be passed; they are skipped.
//
// Compute applies the same rule over all deployments in one pass; this is
// the rule for one incident (a post-mortem's "suspected deployments", the
// API), and the test that the two agree.
func LinkIncident(inc Incident, deployments []Deployment, window time.Duration) (Link, bool) {
	if inc.CauseDeploymentID != "" {
		return Link{DeploymentID: inc.CauseDeploymentID}, true
	}
	if inc.StartedAt.IsZero() {
		return Link{}, false
	}
	if window <= 0 {
		window = DefaultSuspectWindow
	}
	start := inc.StartedAt.UnixNano()
	from := start - int64(window)
	env := envOr(inc.Environment)
	var best *Deployment
	var bestAt int64
	for i := range deployments {
		d := &deployments[i]
		if d.Status != Succeeded || d.FinishedAt.IsZero() || d.Service != inc.Service || envOr(d.Environment) != env {
			continue
		}
		at := d.FinishedAt.UnixNano()
		if at < from || at > start {
			continue
		}
		if best == nil || at > bestAt || at == bestAt && d.ID > best.ID {
			best, bestAt = d, at
		}
	}
	if best == nil {
		return Link{}, false
	}
	return Link{DeploymentID: best.ID, Suspected: true}, true
}
