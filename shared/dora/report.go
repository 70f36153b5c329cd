package dora

import (
	"slices"
	"sort"
	"time"
)

// Report is the DORA metrics of one scope over one window, the body of
// GET /metrics/dora. Every value comes with its sample size; a value with no
// data behind it is nil (JSON null), never 0, and so is its tier.
type Report struct {
	Service     string  `json:"service"` // "" for all services
	Environment string  `json:"environment"`
	WindowDays  float64 `json:"window_days"`
	Benchmark   string  `json:"benchmark"`
	Window      Window  `json:"window"`
	// SuspectWindowSeconds is the suspected-link window the report used.
	SuspectWindowSeconds float64 `json:"suspect_window_seconds"`

	DeploymentFrequency DeploymentFrequency `json:"deployment_frequency"`
	LeadTime            LeadTime            `json:"lead_time"`
	ChangeFailureRate   ChangeFailureRate   `json:"change_failure_rate"`
	TimeToRestore       Recovery            `json:"time_to_restore"`
	// FailedDeploymentRecoveryTime is DORA's newer fourth key (2023).
	FailedDeploymentRecoveryTime Recovery      `json:"failed_deployment_recovery_time"`
	TimeToAcknowledge            Span          `json:"time_to_acknowledge"`
	Incidents                    IncidentCount `json:"incidents"`
	ReworkRate                   ReworkRate    `json:"rework_rate"`
}

// DeploymentFrequency counts successful deployments that finished in the
// window.
type DeploymentFrequency struct {
	PerDay      *float64 `json:"per_day"`     // Deployments ÷ Days; nil when Deployments is 0
	Deployments int      `json:"deployments"` // the numerator
	Days        float64  `json:"days"`        // the denominator: the window's length in days
	Tier        Tier     `json:"tier"`
	Bucket      Bucket   `json:"bucket"` // the survey answer PerDay falls in
	// DeployDays is the number of 24-hour days of the window (counted back
	// from its end) in which at least one successful deployment finished.
	DeployDays int `json:"deploy_days"`
	// DeployDaysPerWeekMedian is the median, over the Weeks full 7-day weeks
	// counted back from the window's end, of each week's deploy days (0–7);
	// nil when there is no full week or no successful deployment.
	DeployDaysPerWeekMedian *float64 `json:"deploy_days_per_week_median"`
	Weeks                   int      `json:"weeks"`
}

// LeadTime is the lead time for changes ("change lead time" in DORA's newer
// reports) of the changes first shipped by a successful deployment that
// finished in the window.
type LeadTime struct {
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
	N             int      `json:"n"` // lead times measured
	// ReviewMedianSeconds is the median of pr_merged_at − pr_created_at,
	// DeliveryMedianSeconds of deployment finished_at − pr_merged_at.
	ReviewMedianSeconds   *float64 `json:"review_median_seconds"`
	DeliveryMedianSeconds *float64 `json:"delivery_median_seconds"`
	Tier                  Tier     `json:"tier"`
	// Changes = N + Negative + UnknownStart.
	Changes          int `json:"changes"`
	Negative         int `json:"negative"`      // lead times below zero, dropped
	UnknownStart     int `json:"unknown_start"` // changes without pr_created_at
	ReviewN          int `json:"review_n"`
	ReviewNegative   int `json:"review_negative"`
	DeliveryN        int `json:"delivery_n"`
	DeliveryNegative int `json:"delivery_negative"`
}

// ChangeFailureRate ("change fail rate" in DORA's newer reports) is Failed ÷
// Total over the deployments (any status) that finished in the window.
type ChangeFailureRate struct {
	Ratio  *float64 `json:"ratio"` // nil when Total is 0
	Failed int      `json:"failed"`
	Total  int      `json:"total"`
	Tier   Tier     `json:"tier"`
	// Failed = FailedByStatus + FailedByIncident.
	FailedByStatus   int `json:"failed_by_status"`   // failed or rolled_back
	FailedByIncident int `json:"failed_by_incident"` // succeeded, but an incident is linked to it
	// Suspected counts the FailedByIncident with only suspected links.
	Suspected int `json:"suspected"`
}

// Span is the median of one kind of time span of incidents, over the spans
// that ended in the window.
type Span struct {
	MedianSeconds *float64 `json:"median_seconds"`
	N             int      `json:"n"`
	Negative      int      `json:"negative"` // spans below zero, dropped (not in N)
}

// Recovery is a Span with a tier: time to restore service, failed deployment
// recovery time.
type Recovery struct {
	Span
	Tier Tier `json:"tier"`
}

// IncidentCount counts the scope's incidents that started in the window.
type IncidentCount struct {
	Total      int            `json:"total"`
	BySeverity map[string]int `json:"by_severity"` // an incident without one counts as "unknown"
}

// ReworkRate is Rework ÷ Total over the deployments (any status) that
// finished in the window, Rework = Hotfix + Rollback.
type ReworkRate struct {
	Ratio    *float64 `json:"ratio"` // nil when Total is 0
	Rework   int      `json:"rework"`
	Total    int      `json:"total"`
	Hotfix   int      `json:"hotfix"`
	Rollback int      `json:"rollback"`
}

const nsPerDay = int64(24 * time.Hour)

// suspects are the scope's incidents of one service without an explicit
// link, by start: the candidates for suspected links.
type suspects struct {
	starts []int64
	ids    []int32 // index into Input.Incidents
}

// Compute computes the report of in: one pass over the deployments (then a
// look at the changes of the successful ones before the window, to drop what
// they shipped first), one over the incidents, and a linear-time selection
// for each median and p90; the only sort is of each service's unlinked
// incidents, by start. It returns an errkind.Invalid for an empty window, a
// negative suspect window or an unknown benchmark.
func Compute(in Input) (*Report, error) {
	tbl, err := in.validate()
	if err != nil {
		return nil, err
	}
	env := in.Scope.env()
	inScope := func(service, environment string) bool {
		return (in.Scope.Service == "" || service == in.Scope.Service) && envOr(environment) == env
	}
	w := window{in.Window.Start.UnixNano(), in.Window.End.UnixNano()}
	suspectNs := int64(in.SuspectWindow)
	if suspectNs == 0 {
		suspectNs = int64(DefaultSuspectWindow)
	}
	span := in.Window.End.Sub(in.Window.Start)
	r := &Report{
		Service: in.Scope.Service, Environment: env, Benchmark: tbl.Version,
		WindowDays: span.Hours() / 24,
		Window:     Window{Start: in.Window.Start.UTC(), End: in.Window.End.UTC()},

		SuspectWindowSeconds: time.Duration(suspectNs).Seconds(),
		Incidents:            IncidentCount{BySeverity: map[string]int{}},
	}

	// The incidents' explicit causes (of any service: a deployment of this
	// scope may break another service), resolved to a deployment index in
	// the pass below, and the candidates for suspected links.
	explicit := map[string]int32{}
	groups := map[string]*suspects{}
	for i := range in.Incidents {
		inc := &in.Incidents[i]
		if inc.CauseDeploymentID != "" {
			explicit[inc.CauseDeploymentID] = -1
			continue
		}
		if inc.StartedAt.IsZero() || !inScope(inc.Service, inc.Environment) {
			continue
		}
		g := groups[inc.Service]
		if g == nil {
			g = &suspects{}
			groups[inc.Service] = g
		}
		g.starts = append(g.starts, inc.StartedAt.UnixNano())
		g.ids = append(g.ids, int32(i))
	}
	for _, g := range groups {
		sort.Sort(g)
	}
	suspect := make([]int32, len(in.Incidents)) // suspected deployment, or -1
	suspectAt := make([]int64, len(in.Incidents))
	for i := range suspect {
		suspect[i] = -1
	}

	// The pass over the deployments.
	ds := in.Deployments
	days := make([]bool, (span+time.Duration(nsPerDay)-1)/time.Duration(nsPerDay))
	first := newShips(ds)
	var earlier []int32 // successful deployments before the window
	lt := &leadTimes{}
	df, cfr, rw := &r.DeploymentFrequency, &r.ChangeFailureRate, &r.ReworkRate
	var group *suspects
	if in.Scope.Service != "" {
		group = groups[in.Scope.Service]
	}
	for i := range ds {
		d := &ds[i]
		if !d.Status.finished() || d.FinishedAt.IsZero() || !inScope(d.Service, d.Environment) {
			continue
		}
		at := d.FinishedAt.UnixNano()
		if len(explicit) > 0 {
			if v, ok := explicit[d.ID]; ok && v < 0 {
				explicit[d.ID] = int32(i)
			}
		}
		inWindow := w.contains(at)
		if inWindow {
			cfr.Total++
			if d.Status != Succeeded {
				cfr.FailedByStatus++
			}
			switch d.Rework {
			case Hotfix:
				rw.Hotfix++
			case Rollback:
				rw.Rollback++
			}
		}
		if d.Status != Succeeded {
			continue
		}
		if inWindow {
			df.Deployments++
			days[(w.end-at-1)/nsPerDay] = true
		}
		g := group
		if in.Scope.Service == "" && len(groups) > 0 {
			g = groups[d.Service]
		}
		if g != nil {
			// The incidents that started within the suspect window after
			// this deployment finished take it if it is their latest.
			for j := g.search(at); j < len(g.starts) && g.starts[j]-at <= suspectNs; j++ {
				k := g.ids[j]
				if b := suspect[k]; b < 0 || at > suspectAt[k] || at == suspectAt[k] && d.ID > ds[b].ID {
					suspect[k], suspectAt[k] = int32(i), at
				}
			}
		}
		if !inWindow {
			if at < w.start && len(d.Changes) > 0 {
				earlier = append(earlier, int32(i))
			}
			continue // ships nothing first inside the window
		}
		if len(d.Changes) == 0 {
			continue
		}
		sh := first.serviceHash(d.Service)
		for ci := range d.Changes {
			c := &d.Changes[ci]
			if c.CommitSHA == "" {
				lt.add(c, at)
				continue
			}
			first.ship(first.hash(sh, c.CommitSHA), firstShip{at: at, dep: int32(i), index: int32(ci)})
		}
	}
	if len(first.first) > 0 {
		for _, i := range earlier {
			d := &ds[i]
			sh := first.serviceHash(d.Service)
			for ci := range d.Changes {
				if sha := d.Changes[ci].CommitSHA; sha != "" {
					first.before(first.hash(sh, sha), firstShip{at: d.FinishedAt.UnixNano(), dep: i, index: int32(ci)})
				}
			}
		}
	}
	first.each(func(f firstShip) {
		if w.contains(f.at) {
			lt.add(&ds[f.dep].Changes[f.index], f.at)
		}
	})

	// Deployments with an incident linked to them: explicit wins, and a
	// deployment counts once however many incidents point at it.
	linked := map[int32]bool{} // deployment index → explicitly linked
	for _, dep := range explicit {
		if dep >= 0 {
			linked[dep] = true
		}
	}
	for _, dep := range suspect {
		if _, ok := linked[dep]; dep >= 0 && !ok {
			linked[dep] = false
		}
	}
	for dep, byHand := range linked {
		d := &ds[dep]
		if d.Status == Succeeded && w.contains(d.FinishedAt.UnixNano()) {
			cfr.FailedByIncident++
			if !byHand {
				cfr.Suspected++
			}
		}
	}

	// The pass over the incidents.
	var restore, recovery, ack samples
	for i := range in.Incidents {
		inc := &in.Incidents[i]
		resolved := !inc.ResolvedAt.IsZero() && w.contains(inc.ResolvedAt.UnixNano())
		dep := suspect[i]
		if inc.CauseDeploymentID != "" {
			dep = explicit[inc.CauseDeploymentID]
		}
		if resolved && dep >= 0 {
			recovery.add(inc.ResolvedAt.Sub(ds[dep].FinishedAt))
		}
		if inc.StartedAt.IsZero() || !inScope(inc.Service, inc.Environment) {
			continue
		}
		if w.contains(inc.StartedAt.UnixNano()) {
			r.Incidents.Total++
			sev := inc.Severity
			if sev == "" {
				sev = "unknown"
			}
			r.Incidents.BySeverity[sev]++
		}
		if resolved {
			restore.add(inc.ResolvedAt.Sub(inc.StartedAt))
		}
		if !inc.AcknowledgedAt.IsZero() && w.contains(inc.AcknowledgedAt.UnixNano()) {
			ack.add(inc.AcknowledgedAt.Sub(inc.StartedAt))
		}
	}

	// The figures.
	df.Days = r.WindowDays
	df.Weeks = int(span / (7 * 24 * time.Hour))
	for _, d := range days {
		if d {
			df.DeployDays++
		}
	}
	if df.Deployments > 0 {
		df.PerDay = ptr(float64(df.Deployments) / df.Days)
		df.Tier = tbl.DeploymentFrequency.Classify(*df.PerDay)
		df.Bucket = BucketOf(*df.PerDay)
		df.DeployDaysPerWeekMedian = weekMedian(days, df.Weeks)
	}
	r.LeadTime = lt.figures(tbl)
	cfr.Failed = cfr.FailedByStatus + cfr.FailedByIncident
	if cfr.Total > 0 {
		cfr.Ratio = ptr(float64(cfr.Failed) / float64(cfr.Total))
		cfr.Tier = tbl.ChangeFailureRate.Classify(*cfr.Ratio)
	}
	rw.Total, rw.Rework = cfr.Total, rw.Hotfix+rw.Rollback
	if rw.Total > 0 {
		rw.Ratio = ptr(float64(rw.Rework) / float64(rw.Total))
	}
	r.TimeToRestore = restore.recovery(tbl)
	r.FailedDeploymentRecoveryTime = recovery.recovery(tbl)
	r.TimeToAcknowledge = ack.span()
	return r, nil
}

func (g *suspects) Len() int           { return len(g.starts) }
func (g *suspects) Less(i, j int) bool { return g.starts[i] < g.starts[j] }
func (g *suspects) Swap(i, j int) {
	g.starts[i], g.starts[j] = g.starts[j], g.starts[i]
	g.ids[i], g.ids[j] = g.ids[j], g.ids[i]
}

// search returns the first incident that started at or after at.
func (g *suspects) search(at int64) int {
	j, _ := slices.BinarySearch(g.starts, at)
	return j
}

// samples collects spans in seconds, dropping and counting negative ones.
type samples struct {
	seconds  []float64
	negative int
}

func (s *samples) add(d time.Duration) { s.addNs(int64(d)) }

func (s *samples) addNs(ns int64) {
	if ns < 0 {
		s.negative++
		return
	}
	s.seconds = append(s.seconds, float64(ns)/1e9)
}

func (s *samples) median() *float64 {
	m, ok := Median(s.seconds)
	if !ok {
		return nil
	}
	return &m
}

func (s *samples) span() Span {
	return Span{MedianSeconds: s.median(), N: len(s.seconds), Negative: s.negative}
}

func (s *samples) recovery(t *Table) Recovery {
	r := Recovery{Span: s.span()}
	if r.MedianSeconds != nil {
		r.Tier = t.Recovery.Classify(*r.MedianSeconds)
	}
	return r
}

// leadTimes collects the three spans of each change shipped in the window.
type leadTimes struct {
	lead, review, delivery samples
	changes, unknownStart  int
}

// add takes change c, first shipped by a deployment that finished at.
func (l *leadTimes) add(c *Change, at int64) {
	l.changes++
	created, merged := !c.PRCreatedAt.IsZero(), !c.PRMergedAt.IsZero()
	switch {
	case created:
		l.lead.addNs(at - c.PRCreatedAt.UnixNano())
	default:
		l.unknownStart++
	}
	if created && merged {
		l.review.add(c.PRMergedAt.Sub(c.PRCreatedAt))
	}
	if merged {
		l.delivery.addNs(at - c.PRMergedAt.UnixNano())
	}
}

func (l *leadTimes) figures(t *Table) LeadTime {
	f := LeadTime{
		N: len(l.lead.seconds), Changes: l.changes, Negative: l.lead.negative, UnknownStart: l.unknownStart,
		ReviewN: len(l.review.seconds), ReviewNegative: l.review.negative,
		DeliveryN: len(l.delivery.seconds), DeliveryNegative: l.delivery.negative,
	}
	f.MedianSeconds = l.lead.median()
	if p, ok := P90(l.lead.seconds); ok {
		f.P90Seconds = &p
		f.Tier = t.LeadTime.Classify(*f.MedianSeconds)
	}
	f.ReviewMedianSeconds = l.review.median()
	f.DeliveryMedianSeconds = l.delivery.median()
	return f
}

// weekMedian is the median of the deploy days of each full week, counted
// back from the window's end; nil when there is no full week.
func weekMedian(days []bool, weeks int) *float64 {
	perWeek := make([]float64, weeks)
	for i := range perWeek {
		for _, d := range days[7*i : 7*i+7] {
			if d {
				perWeek[i]++
			}
		}
	}
	m, ok := Median(perWeek)
	if !ok {
		return nil
	}
	return &m
}

func ptr(v float64) *float64 { return &v }
