package dora_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
)

// benchInput is a year of history: n deployments of 200 services (every
// 20th failed or rolled back, every 50th a hotfix), each shipping 1–3
// changes with 40-character SHAs (every 10th deployment redeploys its
// predecessor's first change), and 5,000 incidents (a quarter with an
// explicit link), over the scope of all services and a 90-day window at
// the end.
func benchInput(n int) dora.Input {
	rng := rand.New(rand.NewPCG(7, 11))
	end := at("11-29 00:00")
	start := end.AddDate(0, 0, -365)
	year := int64(end.Sub(start))
	in := dora.Input{
		Window:      dora.Window{Start: end.AddDate(0, 0, -90), End: end},
		Deployments: make([]dora.Deployment, n),
		Incidents:   make([]dora.Incident, 5000),
	}
	changes := make([]dora.Change, 0, 2*n)
	for i := range in.Deployments {
		fin := start.Add(time.Duration(rng.Int64N(year)))
		d := dora.Deployment{ID: fmt.Sprintf("dep-%08d", i), Service: fmt.Sprintf("svc-%03d", rng.IntN(200)),
			Environment: "production", Status: dora.Succeeded, StartedAt: fin.Add(-5 * time.Minute), FinishedAt: fin}
		switch {
		case i%20 == 0:
			d.Status = dora.Failed
		case i%20 == 1:
			d.Status = dora.RolledBack
		}
		if i%50 == 2 {
			d.Rework = dora.Hotfix
		}
		k := len(changes)
		for range 1 + rng.IntN(3) {
			created := fin.Add(-time.Duration(rng.Int64N(int64(14 * 24 * time.Hour))))
			changes = append(changes, dora.Change{PRCreatedAt: created,
				PRMergedAt: created.Add(time.Duration(rng.Int64N(int64(48 * time.Hour)))),
				CommitSHA:  fmt.Sprintf("%040x", rng.Uint64())})
		}
		if i%10 == 9 && i > 0 && len(in.Deployments[i-1].Changes) > 0 {
			changes[k] = in.Deployments[i-1].Changes[0]
		}
		d.Changes = changes[k:len(changes):len(changes)]
		in.Deployments[i] = d
	}
	for i := range in.Incidents {
		s := start.Add(time.Duration(rng.Int64N(year)))
		inc := dora.Incident{ID: fmt.Sprint("inc-", i), Service: fmt.Sprintf("svc-%03d", rng.IntN(200)),
			Severity: fmt.Sprint("SEV", 1+rng.IntN(4)), StartedAt: s,
			AcknowledgedAt: s.Add(time.Duration(rng.Int64N(int64(30 * time.Minute)))),
			ResolvedAt:     s.Add(time.Duration(rng.Int64N(int64(8 * time.Hour))))}
		if i%4 == 0 {
			inc.CauseDeploymentID = in.Deployments[rng.IntN(n)].ID
		}
		in.Incidents[i] = inc
	}
	return in
}

// BenchmarkCompute: the report of all services over 90 days from a year of
// 1,000,000 deployments (about 2,000,000 changes) and 5,000 incidents.
func BenchmarkCompute(b *testing.B) {
	in := benchInput(1_000_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := dora.Compute(in); err != nil {
			b.Fatal(err)
		}
	}
}
