package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// The bounds of the status page (README, "Status page"): what it reads is
// one page of the open index, one of the resolved index's newest entries
// and the configured services' names; never a Scan.
const (
	statusRecentDays   = 7   // resolved incidents shown: resolved within these days
	statusMaxOpen      = 100 // open incidents read (the newest)
	statusMaxResolved  = 50  // resolved incidents read (the newest opened)
	statusMaxServices  = 100 // configured services listed
	statusCacheSeconds = 30
)

var statusParams = map[string]bool{"format": true}

// statusView is GET /status's answer: per service its state and its recent
// incidents, each with its latest public update. Nothing internal: no
// titles (alarm names), notes, actors or responders.
type statusView struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Status is the worst state of the services.
	Status     incident.ServiceState `json:"status"`
	RecentDays int                   `json:"recent_days"`
	Services   []serviceStatusView   `json:"services"`
}

type serviceStatusView struct {
	Name      string                `json:"name"`
	Status    incident.ServiceState `json:"status"`
	Incidents []statusIncidentView  `json:"incidents"`
}

type statusIncidentView struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	// Impact is the state the incident puts its service in while open.
	Impact incident.ServiceState `json:"impact"`
	// Status is investigating (triggered, acknowledged), identified or
	// resolved.
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	// Update is the latest note meant for the public (POST
	// /incidents/{id}/notes with "public": true); null until one is posted.
	Update *incident.PublicUpdate `json:"update"`
}

func (a *API) statusRoutes() {
	if a.services == nil {
		return
	}
	a.handle("GET /status", route{scope: auth.ScopeIncidentsRead, open: a.publicStatus, h: a.getStatus})
}

// getStatus answers the status page: JSON, or HTML for a browser.
func (a *API) getStatus(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := parseQuery(r.URL.RawQuery, statusParams, "format")
	if err != nil {
		return err
	}
	format := q.Get("format")
	if format != "" && format != "html" && format != "json" {
		return errkind.Invalidf("format %q is not html or json", format)
	}
	v, err := a.statusOf(r.Context(), a.now().UTC())
	if err != nil {
		return err
	}
	if wantsHTML(r, format) {
		writePage(w, statusPage(v), statusCacheSeconds, a.publicStatus)
		return nil
	}
	writeJSON(w, http.StatusOK, v)
	setCache(w.Header(), statusCacheSeconds, a.publicStatus)
	return nil
}

// statusOf reads what the status page shows at now.
func (a *API) statusOf(ctx context.Context, now time.Time) (statusView, error) {
	v := statusView{GeneratedAt: now.Truncate(time.Second), Status: incident.Operational, RecentDays: statusRecentDays}
	names, _, err := a.services.ServiceNames(ctx, statusMaxServices)
	if err != nil {
		return v, fmt.Errorf("status: %w", err)
	}
	open, err := a.svc.List(ctx, incident.Query{Status: "open", Limit: statusMaxOpen})
	if err != nil {
		return v, fmt.Errorf("status: %w", err)
	}
	resolved, err := a.svc.List(ctx, incident.Query{Status: string(incident.StatusResolved), Limit: statusMaxResolved})
	if err != nil {
		return v, fmt.Errorf("status: %w", err)
	}
	byName := map[string]*serviceStatusView{}
	service := func(name string) *serviceStatusView {
		s, ok := byName[name]
		if !ok {
			s = &serviceStatusView{Name: name, Status: incident.Operational, Incidents: []statusIncidentView{}}
			byName[name] = s
		}
		return s
	}
	for _, n := range names {
		service(n)
	}
	since := now.Add(-statusRecentDays * 24 * time.Hour)
	openSeverities := map[string][]incident.Severity{}
	for _, inc := range append(open.Items, resolved.Items...) {
		if !inc.Status.Open() && (inc.ResolvedAt == nil || inc.ResolvedAt.Before(since)) {
			continue
		}
		s := service(inc.Service)
		iv := statusIncidentView{
			ID: inc.ID, Severity: string(inc.Severity), Impact: incident.Impact(inc.Severity),
			Status: publicPhase(inc.Status), StartedAt: inc.StartedAt.UTC(), ResolvedAt: incident.UTC(inc.ResolvedAt),
		}
		if u := inc.PublicUpdate; u != nil {
			iv.Update = &incident.PublicUpdate{At: u.At.UTC(), Text: u.Text}
		}
		if inc.Status.Open() {
			openSeverities[inc.Service] = append(openSeverities[inc.Service], inc.Severity)
		}
		s.Incidents = append(s.Incidents, iv)
	}
	v.Services = make([]serviceStatusView, 0, len(byName))
	for name, s := range byName {
		s.Status = incident.StateOf(openSeverities[name])
		// Open ones first, then the latest resolved; newest first in each.
		sort.Slice(s.Incidents, func(i, j int) bool {
			a, b := s.Incidents[i], s.Incidents[j]
			if (a.ResolvedAt == nil) != (b.ResolvedAt == nil) {
				return a.ResolvedAt == nil
			}
			if a.ResolvedAt != nil && !a.ResolvedAt.Equal(*b.ResolvedAt) {
				return a.ResolvedAt.After(*b.ResolvedAt)
			}
			return a.StartedAt.After(b.StartedAt)
		})
		if s.Status.Worse(v.Status) {
			v.Status = s.Status
		}
		v.Services = append(v.Services, *s)
	}
	sort.Slice(v.Services, func(i, j int) bool { return v.Services[i].Name < v.Services[j].Name })
	return v, nil
}

// publicPhase is an incident's status in the words of a status page.
func publicPhase(s incident.Status) string {
	switch s {
	case incident.StatusIdentified:
		return "identified"
	case incident.StatusResolved:
		return "resolved"
	}
	return "investigating"
}

// stateLabel is a state in words.
func stateLabel(s incident.ServiceState) string {
	switch s {
	case incident.Degraded:
		return "Degraded performance"
	case incident.PartialOutage:
		return "Partial outage"
	case incident.MajorOutage:
		return "Major outage"
	}
	return "Operational"
}

// statusPage is the status page's HTML: a banner with the worst state, then
// a card per service with its state and its incidents' public updates.
func statusPage(v statusView) *page {
	p := &page{}
	p.head("Service status")
	p.printf("<h1>Service status</h1>\n")
	banner := "All systems operational"
	if v.Status != incident.Operational {
		banner = stateLabel(v.Status) + " on at least one service"
	}
	p.printf(`<div class="banner %s" role="status">%s</div>`+"\n", v.Status, banner)
	if len(v.Services) == 0 {
		p.printf("<p>No services are configured yet.</p>\n")
	}
	for _, s := range v.Services {
		p.printf(`<section class="card" aria-label="%s: %s">
<div class="row"><h2>%s</h2><span class="badge %s">%s</span></div>
`, s.Name, stateLabel(s.Status), s.Name, s.Status, stateLabel(s.Status))
		if len(s.Incidents) == 0 {
			p.printf(`<p class="muted">No incidents in the last %d days.</p>`+"\n", v.RecentDays)
		} else {
			p.printf(`<ul class="incidents">` + "\n")
		}
		for _, i := range s.Incidents {
			phase := "Investigating"
			switch i.Status {
			case "identified":
				phase = "Identified"
			case "resolved":
				phase = "Resolved"
			}
			when := "since " + formatWhen(i.StartedAt)
			if i.ResolvedAt != nil {
				when = formatWhen(i.StartedAt) + " – " + formatWhen(*i.ResolvedAt)
			}
			p.printf(`<li><div class="row"><h3>%s · %s</h3><span class="muted">%s</span></div>`, phase, i.Severity, when)
			switch {
			case i.Update != nil:
				p.printf(`<p>%s</p><p class="muted">Update posted %s</p>`, i.Update.Text, formatWhen(i.Update.At))
			case i.ResolvedAt != nil:
				p.printf("<p>This incident has been resolved.</p>")
			default:
				p.printf("<p>We are investigating an issue with this service.</p>")
			}
			p.printf("</li>\n")
		}
		if len(s.Incidents) > 0 {
			p.printf("</ul>\n")
		}
		p.printf("</section>\n")
	}
	p.printf(`<footer class="muted">Updated %s. Incidents resolved in the last %d days are listed. As JSON: GET /status with Accept: application/json.</footer>`+"\n",
		formatWhen(v.GeneratedAt), v.RecentDays)
	p.foot()
	return p
}
