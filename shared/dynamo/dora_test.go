package dynamo_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
)

// readCounter counts what a store reads: index entries (Queries'
// ScannedCount) and items (BatchGetItem's responses).
type readCounter struct {
	countingClient
	items atomic.Int64
}

func (c *readCounter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.Client.BatchGetItem(ctx, in, opts...)
	if err == nil {
		for _, items := range out.Responses {
			c.items.Add(int64(len(items)))
		}
	}
	return out, err
}

// DORARecords reads the window and the lookback before it, not the history:
// the same entries and items for 150 and 400 days of history.
//
// The history: a successful deployment of payments and one of search each
// day, 1 hour before the day's end (end − d days − 1h, d = 0, 1, …); a
// resolved incident of payments every 5 days (created end − 5k days − 2h,
// resolved an hour later); and one open incident, created a day before end.
// The window is the 30 days before end, so the range read is the 120 days
// before end (30 + DORALookback's 90):
//   - deployments: d = 0…119 (d = 119 finished 119 days + 1 h before end,
//     within 120 days; d = 120 is outside) → 120 of payments, 240 of both;
//   - resolved incidents: k = 0…23 (5·23 = 115 days + 2 h; k = 24 is 120
//     days + 2 h, outside) → 24, and the open one → 25.
func TestDORARecordsReadsTheWindowNotTheHistory(t *testing.T) {
	ctx := context.Background()
	end := ts("2026-12-01T00:00:00Z")
	w := dora.Window{Start: end.AddDate(0, 0, -30), End: end}
	for _, days := range []int{150, 400} {
		t.Run(fmt.Sprintf("%d days of history", days), func(t *testing.T) {
			c := &readCounter{countingClient: countingClient{Client: dynamotest.Client(t)}}
			store := dynamo.New(c, dynamotest.NewTable(t))
			for d := range days {
				at := end.Add(-time.Duration(d)*24*time.Hour - time.Hour)
				for _, svc := range []string{"payments", "search"} {
					r := deploy.Record{ID: fmt.Sprintf("%s-%d", svc, d), Service: svc, Status: deploy.Succeeded, FinishedAt: at,
						Changes: []deploy.Change{{CommitSHA: fmt.Sprintf("%x%07d", len(svc), d), PRCreatedAt: at.Add(-5 * time.Hour)}}}
					if _, _, err := store.PutDeployment(ctx, r); err != nil {
						t.Fatal(err)
					}
				}
			}
			for k := 0; 5*k < days; k++ {
				created := end.Add(-time.Duration(5*k)*24*time.Hour - 2*time.Hour)
				resolved := created.Add(time.Hour)
				create(t, store, incident.Incident{ID: incident.NewID(created), Service: "payments", Title: "t", Severity: incident.SEV2,
					Status: incident.StatusResolved, Source: incident.SourceManual, StartedAt: created, CreatedAt: created, UpdatedAt: resolved,
					ResolvedAt: &resolved, Version: 1})
			}
			opened := end.Add(-24 * time.Hour)
			create(t, store, incident.Incident{ID: incident.NewID(opened), Service: "search", Title: "t", Severity: incident.SEV3,
				Status: incident.StatusTriggered, Source: incident.SourceManual, StartedAt: opened, CreatedAt: opened, UpdatedAt: opened, Version: 1})

			tests := []struct {
				name                string
				scope               dora.Scope
				deployments, incs   int
				entries, itemsFetch int64
			}{
				{"payments", dora.Scope{Service: "payments"}, 120, 25, 120 + 24 + 1, 120 + 25},
				{"all services", dora.Scope{}, 240, 25, 240 + 24 + 1, 240 + 25},
			}
			for _, tt := range tests {
				c.scanned.Store(0)
				c.items.Store(0)
				deps, incs, err := store.DORARecords(ctx, tt.scope, w)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				if len(deps) != tt.deployments || len(incs) != tt.incs {
					t.Errorf("%s: got %d deployments and %d incidents, want %d and %d", tt.name, len(deps), len(incs), tt.deployments, tt.incs)
				}
				if n := c.scanned.Load(); n != tt.entries {
					t.Errorf("%s: ScannedCount %d, want %d (the window's and the lookback's, not the history's)", tt.name, n, tt.entries)
				}
				if n := c.items.Load(); n != tt.itemsFetch {
					t.Errorf("%s: %d items read, want %d", tt.name, n, tt.itemsFetch)
				}
				for _, d := range deps {
					if d.FinishedAt.Before(w.Start.Add(-dynamo.DORALookback)) || !d.FinishedAt.Before(end) {
						t.Errorf("%s: deployment %s finished %s, outside the range read", tt.name, d.ID, d.FinishedAt)
					}
				}
			}

			// What Compute makes of it for payments: 30 successful
			// deployments in the window (d = 0…29); incidents resolved in
			// the window: k = 0…5 (k = 6 was created 30 days + 2 h before
			// end), each restored in 1 hour; the open one is search's.
			deps, incs, err := store.DORARecords(ctx, dora.Scope{Service: "payments"}, w)
			if err != nil {
				t.Fatal(err)
			}
			r, err := dora.Compute(dora.Input{Scope: dora.Scope{Service: "payments"}, Window: w, Deployments: deps, Incidents: incs})
			if err != nil {
				t.Fatal(err)
			}
			if r.DeploymentFrequency.Deployments != 30 || r.TimeToRestore.N != 6 || *r.TimeToRestore.MedianSeconds != 3600 || r.LeadTime.N != 30 {
				t.Errorf("got deployments %d, restores %d (median %v), lead times %d; want 30, 6 (3600), 30",
					r.DeploymentFrequency.Deployments, r.TimeToRestore.N, *r.TimeToRestore.MedianSeconds, r.LeadTime.N)
			}
		})
	}
}
