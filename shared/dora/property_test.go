package dora_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
)

// randomInput is a small random dataset around the window [11-01, 11-15):
// three services, two environments, every status (and one not finished),
// changes drawn from a few SHAs (so redeploys happen), times that make
// negative spans, explicit links to existing and unknown deployments.
func randomInput(seed uint64, nd, ni int) dora.Input {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := at("10-25 00:00")
	when := func() time.Time { return base.Add(time.Duration(rng.IntN(28*24*60)) * time.Minute) }
	services := []string{"payments", "search", "cart"}
	envs := []string{"production", "", "staging"}
	statuses := []dora.Status{dora.Succeeded, dora.Succeeded, dora.Failed, dora.RolledBack, "started"}
	reworks := []dora.Rework{dora.NoRework, dora.NoRework, dora.Hotfix, dora.Rollback}
	in := dora.Input{
		Scope:         dora.Scope{Service: []string{"payments", ""}[rng.IntN(2)]},
		Window:        dora.Window{Start: at("11-01 00:00"), End: at("11-15 00:00")},
		Benchmark:     dora.Benchmarks[rng.IntN(2)],
		SuspectWindow: time.Duration(rng.IntN(12)) * time.Hour,
	}
	for i := range nd {
		d := dora.Deployment{ID: fmt.Sprint("d", i), Service: services[rng.IntN(3)], Environment: envs[rng.IntN(3)],
			Status: statuses[rng.IntN(len(statuses))], FinishedAt: when(), Rework: reworks[rng.IntN(4)]}
		if rng.IntN(10) == 0 {
			d.FinishedAt = time.Time{}
		}
		for range rng.IntN(4) {
			c := dora.Change{CommitSHA: []string{"", "a", "b", "c", "d", "e", "f"}[rng.IntN(7)]}
			if rng.IntN(5) > 0 {
				c.PRCreatedAt = when()
			}
			if rng.IntN(5) > 0 {
				c.PRMergedAt = when()
			}
			d.Changes = append(d.Changes, c)
		}
		in.Deployments = append(in.Deployments, d)
	}
	for i := range ni {
		inc := dora.Incident{ID: fmt.Sprint("i", i), Service: services[rng.IntN(3)], Environment: envs[rng.IntN(3)],
			Severity: []string{"SEV1", "SEV2", "SEV3", "SEV4", ""}[rng.IntN(5)], StartedAt: when()}
		if rng.IntN(3) > 0 {
			inc.AcknowledgedAt = when()
		}
		if rng.IntN(3) > 0 {
			inc.ResolvedAt = when()
		}
		if nd > 0 && rng.IntN(4) == 0 {
			inc.CauseDeploymentID = fmt.Sprint("d", rng.IntN(nd+2)) // sometimes unknown
		}
		in.Incidents = append(in.Incidents, inc)
	}
	return in
}

// checkProperties checks what holds for any input: the change failure rate
// is in [0, 1] and its counts add up, every sample size adds up, a value is
// null exactly when its sample is empty, and the one-pass links agree with
// LinkIncident applied incident by incident (a naive recount).
func checkProperties(t *testing.T, in dora.Input) {
	t.Helper()
	r, err := dora.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	c, df, lt, rw := r.ChangeFailureRate, r.DeploymentFrequency, r.LeadTime, r.ReworkRate
	if c.Ratio != nil && (*c.Ratio < 0 || *c.Ratio > 1) {
		t.Errorf("change failure rate %v outside [0, 1]", *c.Ratio)
	}
	if c.Failed != c.FailedByStatus+c.FailedByIncident || c.Failed > c.Total || c.Suspected > c.FailedByIncident ||
		c.Total != df.Deployments+c.FailedByStatus || (c.Ratio == nil) != (c.Total == 0) {
		t.Errorf("change failure rate counts do not add up: %+v, %d successful", c, df.Deployments)
	}
	if lt.Changes != lt.N+lt.Negative+lt.UnknownStart || lt.ReviewN+lt.ReviewNegative > lt.Changes ||
		lt.DeliveryN+lt.DeliveryNegative > lt.Changes || (lt.MedianSeconds == nil) != (lt.N == 0) ||
		(lt.P90Seconds == nil) != (lt.N == 0) || (lt.Tier == "") != (lt.N == 0) {
		t.Errorf("lead time counts do not add up: %+v", lt)
	}
	if lt.P90Seconds != nil && *lt.P90Seconds < *lt.MedianSeconds {
		t.Errorf("lead time p90 %v below its median %v", *lt.P90Seconds, *lt.MedianSeconds)
	}
	if (df.PerDay == nil) != (df.Deployments == 0) || df.DeployDays > df.Deployments || (df.Tier == "") != (df.PerDay == nil) {
		t.Errorf("deployment frequency does not add up: %+v", df)
	}
	if rw.Rework != rw.Hotfix+rw.Rollback || rw.Rework > rw.Total || rw.Total != c.Total {
		t.Errorf("rework rate does not add up: %+v", rw)
	}
	sum := 0
	for _, n := range r.Incidents.BySeverity {
		sum += n
	}
	if sum != r.Incidents.Total {
		t.Errorf("incidents by severity add up to %d, total %d", sum, r.Incidents.Total)
	}
	for name, s := range map[string]dora.Span{"restore": r.TimeToRestore.Span,
		"recovery": r.FailedDeploymentRecoveryTime.Span, "acknowledge": r.TimeToAcknowledge} {
		if (s.MedianSeconds == nil) != (s.N == 0) {
			t.Errorf("%s: median %v with n %d", name, s.MedianSeconds, s.N)
		}
	}

	// The naive recount of the links.
	env := in.Scope.Environment
	if env == "" {
		env = dora.DefaultEnvironment
	}
	inScope := func(service, e string) bool {
		if e == "" {
			e = dora.DefaultEnvironment
		}
		return (in.Scope.Service == "" || service == in.Scope.Service) && e == env
	}
	finished := func(d dora.Deployment) bool {
		return !d.FinishedAt.IsZero() && (d.Status == dora.Succeeded || d.Status == dora.Failed || d.Status == dora.RolledBack)
	}
	inWindow := func(tm time.Time) bool {
		return !tm.Before(in.Window.Start) && tm.Before(in.Window.End)
	}
	var scoped []dora.Deployment
	for _, d := range in.Deployments {
		if finished(d) && inScope(d.Service, d.Environment) {
			scoped = append(scoped, d)
		}
	}
	// link is the incident's link by LinkIncident: explicit for any
	// incident, suspected for the scope's.
	link := func(inc dora.Incident) (dora.Link, bool) {
		if inc.CauseDeploymentID == "" && !inScope(inc.Service, inc.Environment) {
			return dora.Link{}, false
		}
		return dora.LinkIncident(inc, scoped, in.SuspectWindow)
	}
	byIncident, suspected, recoveries := 0, 0, 0
	for _, d := range scoped {
		if d.Status != dora.Succeeded || !inWindow(d.FinishedAt) {
			continue
		}
		explicit, suspect := false, false
		for _, inc := range in.Incidents {
			if l, ok := link(inc); ok && l.DeploymentID == d.ID {
				explicit = explicit || !l.Suspected
				suspect = suspect || l.Suspected
			}
		}
		if explicit || suspect {
			byIncident++
		}
		if suspect && !explicit {
			suspected++
		}
	}
	for _, inc := range in.Incidents {
		if inc.ResolvedAt.IsZero() || !inWindow(inc.ResolvedAt) {
			continue
		}
		l, ok := link(inc)
		for _, d := range scoped {
			if ok && d.ID == l.DeploymentID {
				recoveries++
			}
		}
	}
	// The naive recount of the changes: the earliest successful shipment of
	// each (service, SHA) in the scope, counted where it finished; a change
	// without a SHA wherever it was shipped.
	earliest := map[[2]string]time.Time{}
	changes := 0
	for _, d := range scoped {
		for _, ch := range d.Changes {
			if d.Status != dora.Succeeded {
				continue
			}
			if ch.CommitSHA == "" {
				if inWindow(d.FinishedAt) {
					changes++
				}
				continue
			}
			k := [2]string{d.Service, ch.CommitSHA}
			if e, ok := earliest[k]; !ok || d.FinishedAt.Before(e) {
				earliest[k] = d.FinishedAt
			}
		}
	}
	for _, e := range earliest {
		if inWindow(e) {
			changes++
		}
	}
	if lt.Changes != changes {
		t.Errorf("changes of the window: got %d, recount %d", lt.Changes, changes)
	}
	if c.FailedByIncident != byIncident || c.Suspected != suspected {
		t.Errorf("failed by incident: got %d (%d suspected), recount %d (%d suspected)",
			c.FailedByIncident, c.Suspected, byIncident, suspected)
	}
	if got := r.FailedDeploymentRecoveryTime; got.N+got.Negative != recoveries {
		t.Errorf("failed deployment recoveries: got %d + %d negative, recount %d", got.N, got.Negative, recoveries)
	}
}

func TestProperties(t *testing.T) {
	for seed := range uint64(300) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkProperties(t, randomInput(seed, int(seed%60), int(seed%17)))
		})
	}
}

// FuzzCompute runs the same properties over datasets of the fuzzer's choice.
func FuzzCompute(f *testing.F) {
	f.Add(uint64(1), uint8(10), uint8(5))
	f.Add(uint64(2), uint8(0), uint8(3))
	f.Add(uint64(3), uint8(200), uint8(40))
	f.Fuzz(func(t *testing.T, seed uint64, nd, ni uint8) {
		checkProperties(t, randomInput(seed, int(nd), int(ni)))
	})
}
