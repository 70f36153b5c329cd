package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
)

// The DORA report page (GET /metrics/dora with Accept: text/html; README,
// "DORA report page"): the four metrics with their tiers for all services
// and each known service (or the one asked for), computed on request as the
// JSON answer is, and their trends over the last doraTrendDays days drawn
// as inline SVG from the DORA job's daily snapshots.
const (
	doraPageMaxServices = 20 // services besides "all services"
	doraTrendDays       = 30
	doraPageCacheSecs   = 60
)

// doraRow is one scope of the page.
type doraRow struct {
	scope  dora.Scope
	report *dora.Report
	// trend is the scope's snapshots' reports, oldest first, by day.
	trend []dayReport
}

type dayReport struct {
	day    time.Time
	report dora.Report
}

// getDORAPage answers the DORA report page for the parameters of in.
func (a *API) getDORAPage(w http.ResponseWriter, r *http.Request, in dora.Input) error {
	ctx := r.Context()
	scopes := []dora.Scope{in.Scope}
	if in.Scope.Service == "" {
		names, err := a.doraServices(ctx)
		if err != nil {
			return err
		}
		for _, n := range names {
			scopes = append(scopes, dora.Scope{Service: n, Environment: in.Scope.Environment})
		}
	}
	trendWindow := defaultDORAWindowDays
	if days := int(in.Window.End.Sub(in.Window.Start).Hours() / 24); slices.Contains(dora.SnapshotWindows, days) {
		trendWindow = days
	}
	today := a.now().UTC()
	from, to := dora.SnapshotDay(today.AddDate(0, 0, 1-doraTrendDays)), dora.SnapshotDay(today)
	// One read for every scope: they share the window and the environment,
	// so the first scope's records (all services', or the one service's)
	// hold each scope's, and Compute keeps a scope's own (the same records
	// GET /metrics/dora reads for it).
	deps, incs, err := a.dora.DORARecords(ctx, scopes[0], in.Window)
	if err != nil {
		return err
	}
	rows := make([]doraRow, 0, len(scopes))
	for _, sc := range scopes {
		one := in
		one.Scope, one.Deployments, one.Incidents = sc, deps, incs
		rep, err := dora.Compute(one)
		if err != nil {
			return err
		}
		row := doraRow{scope: sc, report: rep}
		if a.doraHistory != nil {
			snaps, err := a.doraHistory.DORASnapshots(ctx, sc, trendWindow, from, to)
			if err != nil {
				return err
			}
			for _, s := range snaps {
				var dr dayReport
				day, err := time.Parse(time.DateOnly, s.Day)
				if err != nil || json.Unmarshal(s.Report, &dr.report) != nil {
					continue // a snapshot this version cannot read is left out of the chart
				}
				dr.day = day
				row.trend = append(row.trend, dr)
			}
		}
		rows = append(rows, row)
	}
	writePage(w, doraPage(in, rows, trendWindow, today), doraPageCacheSecs, false)
	return nil
}

// doraServices are the services the page shows besides all services: the
// configured ones and those DEPLOY_SERVICES names, by name, at most
// doraPageMaxServices.
func (a *API) doraServices(ctx context.Context) ([]string, error) {
	var names []string
	if a.services != nil {
		n, _, err := a.services.ServiceNames(ctx, doraPageMaxServices)
		if err != nil {
			return nil, fmt.Errorf("DORA page: %w", err)
		}
		names = n
	}
	for _, k := range a.knownServices {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if len(names) > doraPageMaxServices {
		names = names[:doraPageMaxServices]
	}
	return names, nil
}

func scopeName(s dora.Scope) string {
	if s.Service == "" {
		return "All services"
	}
	return s.Service
}

// doraPage writes the page: a table of the four metrics per scope, then a
// chart per metric with a line per scope.
func doraPage(in dora.Input, rows []doraRow, trendWindow int, today time.Time) *page {
	p := &page{}
	p.head("DORA metrics")
	days := int(math.Round(in.Window.End.Sub(in.Window.Start).Hours() / 24))
	p.printf("<h1>DORA metrics</h1>\n")
	p.printf(`<p class="muted">Environment %s · the %d days to %s · tiers of the %s benchmark · computed on request.</p>`+"\n",
		in.Scope.Environment, days, formatWhen(in.Window.End), in.Benchmark)
	p.printf(`<h2 id="now">The last %d days</h2>`+"\n", days)
	p.printf(`<div class="scroll"><table aria-describedby="now"><thead><tr><th scope="col">Service</th><th scope="col">Deployment frequency</th><th scope="col">Lead time for changes</th><th scope="col">Change failure rate</th><th scope="col">Time to restore service</th></tr></thead><tbody>` + "\n")
	for _, row := range rows {
		r := row.report
		p.printf(`<tr><th scope="row">%s</th>`, scopeName(row.scope))
		p.printf(`<td>%s<br><span class="muted">%s</span>`, withUnit(formatNumber(r.DeploymentFrequency.PerDay), " / day"), plural(r.DeploymentFrequency.Deployments, "deployment"))
		tierBadge(p, r.DeploymentFrequency.Tier)
		p.printf(`</td><td>%s<br><span class="muted">p90 %s · %s</span>`, withUnit(formatDuration(r.LeadTime.MedianSeconds), " median"), formatDuration(r.LeadTime.P90Seconds), plural(r.LeadTime.N, "change"))
		tierBadge(p, r.LeadTime.Tier)
		p.printf(`</td><td>%s<br><span class="muted">%d of %s failed</span>`, formatPercent(r.ChangeFailureRate.Ratio), r.ChangeFailureRate.Failed, plural(r.ChangeFailureRate.Total, "deployment"))
		tierBadge(p, r.ChangeFailureRate.Tier)
		p.printf(`</td><td>%s<br><span class="muted">%s resolved</span>`, withUnit(formatDuration(r.TimeToRestore.MedianSeconds), " median"), plural(r.TimeToRestore.N, "incident"))
		tierBadge(p, r.TimeToRestore.Tier)
		p.printf("</td></tr>\n")
	}
	p.printf("</tbody></table></div>\n")

	p.printf(`<h2>Trends</h2><p class="muted">The %d-day value of each day the DORA job ran, over the last %d days (UTC); a gap is a day without a snapshot or without data.</p>`+"\n", trendWindow, doraTrendDays)
	p.printf(`<div class="charts">` + "\n")
	first := today.AddDate(0, 0, 1-doraTrendDays).Truncate(24 * time.Hour)
	for i, m := range doraChartMetrics {
		var series []chartSeries
		for _, row := range rows {
			s := chartSeries{name: scopeName(row.scope)}
			for _, d := range row.trend {
				if v := m.value(d.report); v != nil {
					s.points = append(s.points, chartPoint{x: int(d.day.Sub(first).Hours() / 24), day: d.day, y: *v})
				}
			}
			series = append(series, s)
		}
		p.raw(lineChart("chart"+strconv.Itoa(i), m, series, doraTrendDays))
	}
	p.printf("</div>\n")
	p.printf(`<footer class="muted">As JSON: GET /metrics/dora (Accept: application/json) and GET /metrics/dora/history. Definitions: README, "DORA metrics".</footer>` + "\n")
	p.foot()
	return p
}

// withUnit appends unit to a value, not to "no data".
func withUnit(v, unit string) string {
	if v == "no data" {
		return v
	}
	return v + unit
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func tierBadge(p *page, t dora.Tier) {
	if t == "" {
		p.printf(` <span class="badge none">no tier</span>`)
		return
	}
	p.printf(` <span class="badge %s">%s</span>`, string(t), string(t))
}

// doraChartMetric is one chart: a metric of a report, in the unit shown.
type doraChartMetric struct {
	title, unit string
	value       func(dora.Report) *float64
	format      func(float64) string
}

var doraChartMetrics = []doraChartMetric{
	{"Deployment frequency", "deployments per day", func(r dora.Report) *float64 { return r.DeploymentFrequency.PerDay },
		func(v float64) string { return formatNumber(&v) }},
	{"Lead time for changes", "median, hours", func(r dora.Report) *float64 { return hours(r.LeadTime.MedianSeconds) },
		func(v float64) string { return trim(fmt.Sprintf("%.1f", v)) + " h" }},
	{"Change failure rate", "percent of deployments", func(r dora.Report) *float64 { return percent(r.ChangeFailureRate.Ratio) },
		func(v float64) string { return trim(fmt.Sprintf("%.1f", v)) + " %" }},
	{"Time to restore service", "median, hours", func(r dora.Report) *float64 { return hours(r.TimeToRestore.MedianSeconds) },
		func(v float64) string { return trim(fmt.Sprintf("%.1f", v)) + " h" }},
}

func hours(s *float64) *float64 {
	if s == nil {
		return nil
	}
	h := *s / 3600
	return &h
}

func percent(r *float64) *float64 {
	if r == nil {
		return nil
	}
	v := *r * 100
	return &v
}

type chartPoint struct {
	x   int // day index from the first day shown
	day time.Time
	y   float64
}

type chartSeries struct {
	name   string
	points []chartPoint
}

// chartColors tell the series apart; all services is the first, drawn
// thicker.
var chartColors = []string{"#1f2933", "#2f6fb3", "#c2410c", "#1f7a4d", "#7c3aed", "#a35f00", "#0e7490", "#b42318", "#52606d"}

// lineChart draws series over days days as an inline SVG figure: a title
// and a description (the first and the last value of each series) for
// screen readers, y labels, a legend in text.
func lineChart(id string, m doraChartMetric, series []chartSeries, days int) string {
	const w, h, left, right, top, bottom = 420.0, 220.0, 58.0, 10.0, 10.0, 28.0
	maxY := 0.0
	for _, s := range series {
		for _, pt := range s.points {
			maxY = math.Max(maxY, pt.y)
		}
	}
	maxY = niceCeil(maxY)
	x := func(i int) float64 { return left + (w-left-right)*float64(i)/float64(max(days-1, 1)) }
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-v/maxY) }
	var desc []string
	for _, s := range series {
		if len(s.points) == 0 {
			desc = append(desc, s.name+": no data")
			continue
		}
		a, b := s.points[0], s.points[len(s.points)-1]
		desc = append(desc, fmt.Sprintf("%s: %s on %s, %s on %s", s.name, m.format(a.y), a.day.Format(time.DateOnly), m.format(b.y), b.day.Format(time.DateOnly)))
	}
	p := &page{}
	p.printf(`<figure aria-labelledby="%s-title">`+"\n"+`<figcaption id="%s-title">%s <span class="muted">(%s)</span></figcaption>`+"\n", id, id, m.title, m.unit)
	p.printf(`<svg viewBox="0 0 %d %d" role="img" aria-labelledby="%s-svgtitle %s-desc" xmlns="http://www.w3.org/2000/svg">`+"\n", int(w), int(h), id, id)
	p.printf(`<title id="%s-svgtitle">%s over the last %d days</title><desc id="%s-desc">%s.</desc>`+"\n", id, m.title, days, id, strings.Join(desc, "; "))
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		p.printf(`<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#e4e7eb"/>`, f1(left), f1(w-right), f1(y(v)), f1(y(v)))
		p.printf(`<text x="%s" y="%s" font-size="13" text-anchor="end" fill="#52606d">%s</text>`+"\n", f1(left-6), f1(y(v)+4), m.format(v))
	}
	p.printf(`<text x="%s" y="%s" font-size="13" fill="#52606d">%d days ago</text>`, f1(left), f1(h-8), days-1)
	p.printf(`<text x="%s" y="%s" font-size="13" text-anchor="end" fill="#52606d">today</text>`+"\n", f1(w-right), f1(h-8))
	for i, s := range series {
		color := chartColors[i%len(chartColors)]
		width := "2"
		if i == 0 {
			width = "3"
		}
		// A line through consecutive days; a day missing breaks it.
		var seg []string
		flush := func() {
			if len(seg) > 1 {
				p.printf(`<polyline fill="none" stroke="%s" stroke-width="%s" points="%s"/>`, color, width, strings.Join(seg, " "))
			}
			seg = seg[:0]
		}
		for j, pt := range s.points {
			if j > 0 && pt.x != s.points[j-1].x+1 {
				flush()
			}
			seg = append(seg, f1(x(pt.x))+","+f1(y(pt.y)))
			if len(s.points) == 1 || (j == 0 || pt.x != s.points[j-1].x+1) && (j == len(s.points)-1 || s.points[j+1].x != pt.x+1) {
				p.printf(`<circle cx="%s" cy="%s" r="3" fill="%s"/>`, f1(x(pt.x)), f1(y(pt.y)), color)
			}
		}
		flush()
		p.printf("\n")
	}
	p.printf("</svg>\n<ul class=\"legend\">")
	for i, s := range series {
		last := "no data"
		if len(s.points) > 0 {
			last = m.format(s.points[len(s.points)-1].y)
		}
		p.printf(`<li><span class="swatch" style="background:%s"></span>%s: %s</li>`, chartColors[i%len(chartColors)], s.name, last)
	}
	p.printf("</ul>\n</figure>\n")
	return p.b.String()
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for v ≤ 0).
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*e {
			return m * e
		}
	}
	return 10 * e
}
