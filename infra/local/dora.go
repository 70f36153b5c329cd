package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// demoDeployDays is how many days of demo deployments seedDORA records.
const demoDeployDays = 21

// demoDeployments are the demo deployments of the last demoDeployDays days
// before now, with the pull requests they shipped, so that GET
// /metrics/dora has something to compute (README, "DORA metrics"):
//   - checkout: one a day at 10:00 UTC, each shipping one pull request
//     (opened the day before at 14:00, merged at 07:00); the one 5 days
//     ago failed, the one 12 days ago was rolled back, and the one 11
//     days ago is marked a hotfix (rework);
//   - payments: every other day; search: every third day; one pull request
//     each.
//
// And one incident of checkout, resolved, caused by the deployment of 3
// days ago (cause_deployment_id): started 30 minutes after it finished,
// acknowledged 4 minutes later, resolved 50 minutes after it started.
func demoDeployments(now time.Time) []deploy.Record {
	day := now.UTC().Truncate(24 * time.Hour)
	var out []deploy.Record
	for d := demoDeployDays - 1; d >= 0; d-- {
		finished := day.AddDate(0, 0, -d).Add(10 * time.Hour)
		if !finished.Before(now) {
			finished = finished.AddDate(0, 0, -1).Add(12 * time.Hour) // today's 10:00 is still to come: 22:00 the day before
		}
		for _, svc := range []struct {
			name  string
			every int
		}{{"checkout", 1}, {"payments", 2}, {"search", 3}} {
			if d%svc.every != 0 {
				continue
			}
			sha := fmt.Sprintf("%x%02x%05x", len(svc.name), d, d*7919)
			r := deploy.Record{
				ID: fmt.Sprintf("demo-%s-%02d", svc.name, d), Service: svc.name, Environment: dora.DefaultEnvironment,
				Version: fmt.Sprintf("v1.%d.0", demoDeployDays-d), CommitSHA: sha, Status: deploy.Succeeded,
				StartedAt: finished.Add(-12 * time.Minute), FinishedAt: finished,
				Changes: []deploy.Change{{CommitSHA: sha, PRCreatedAt: finished.Add(-20 * time.Hour), PRMergedAt: finished.Add(-3 * time.Hour)}},
			}
			if svc.name == "checkout" {
				switch d {
				case 5:
					r.Status = deploy.Failed
				case 12:
					r.Status = deploy.RolledBack
				case 11:
					r.Rework = dora.Hotfix
				}
			}
			out = append(out, r)
		}
	}
	return out
}

// demoCause is the demo deployment the demo incident is linked to.
const demoCause = "demo-checkout-03"

// seedDORA records the demo deployments and the demo incident, once: a
// restart on the same data (LOCAL_DB_PATH) finds the first demo deployment
// and adds nothing.
func seedDORA(ctx context.Context, store *dynamo.Store, now time.Time) error {
	deps := demoDeployments(now)
	if _, err := store.Deployment(ctx, deps[0].ID); err == nil {
		return nil
	} else if !errors.Is(err, errkind.NotFound) {
		return err
	}
	var cause deploy.Record
	// The first deployment last: it marks the seeding done.
	for i := len(deps) - 1; i >= 1; i-- {
		if _, _, err := store.PutDeployment(ctx, deps[i]); err != nil {
			return fmt.Errorf("seed deployment %s: %w", deps[i].ID, err)
		}
		if deps[i].ID == demoCause {
			cause = deps[i]
		}
	}
	started := cause.FinishedAt.Add(30 * time.Minute)
	ack, resolved := started.Add(4*time.Minute), started.Add(50*time.Minute)
	inc := incident.Incident{
		ID: incident.NewID(started), Service: "checkout", Title: "Checkout 5xx after v1." + fmt.Sprint(demoDeployDays-3) + ".0",
		Severity: incident.SEV2, Status: incident.StatusResolved, Source: incident.SourceManual,
		StartedAt: started, CreatedAt: started, UpdatedAt: resolved, AcknowledgedAt: &ack, ResolvedAt: &resolved,
		Commander: "alice", CauseDeploymentID: demoCause, RootCause: "a bad cache setting in the release", Fix: "rolled forward",
		Version: 1,
	}
	entries := []incident.Entry{
		{ID: incident.NewID(started), At: started, Kind: incident.EntryOpened, Actor: "demo", Text: "declared (demo data)"},
		{ID: incident.NewID(ack), At: ack, Kind: incident.EntryAcknowledged, Actor: "alice"},
		{ID: incident.NewID(resolved), At: resolved, Kind: incident.EntryResolved, Actor: "alice", Text: "rolled forward"},
	}
	if err := store.Apply(ctx, incident.Change{Kind: incident.Create, Incident: inc, Entries: entries}); err != nil {
		return fmt.Errorf("seed the demo incident: %w", err)
	}
	if _, _, err := store.PutDeployment(ctx, deps[0]); err != nil {
		return fmt.Errorf("seed deployment %s: %w", deps[0].ID, err)
	}
	return nil
}
