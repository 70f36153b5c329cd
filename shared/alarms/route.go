package alarms

import (
	"regexp"
	"sort"
	"strings"

	"github.com/incidentd/incidentd/shared/incident"
)

// Marker keys. The CDK stack writes them into the descriptions of the alarms it
// creates ("... incidentd:service=checkout incidentd:severity=SEV2"); people can
// write them anywhere in a description, or as alarm tags (keys without "=").
const (
	MarkerService  = "incidentd:service"
	MarkerSeverity = "incidentd:severity"
)

var (
	serviceMarker  = regexp.MustCompile(`(?i)incidentd:service\s*=\s*([^\s,;()"']+)`)
	severityMarker = regexp.MustCompile(`(?i)incidentd:severity\s*=\s*([^\s,;()"']+)`)
)

// How a route was found, for logs.
const (
	ByDescription = "description-marker"
	ByTag         = "tag"
	ByAlarmsList  = "service-alarms"
	ByName        = "name-prefix"
	ByDefault     = "default-service"
)

// Route is the service and severity a notification is filed under.
type Route struct {
	Service string
	// Severity is the alarm's own severity; empty lets the service's default apply.
	Severity incident.Severity
	// By says which rule chose the service.
	By string
	// Warnings are markers that were present but unusable.
	Warnings []string
}

// markers reads the service and severity markers of an alarm: its
// description first, then its propagated tags. Invalid values are reported
// and skipped, so an alarm with a typo still lands somewhere.
func markers(n Notification) Route {
	var r Route
	if m := serviceMarker.FindStringSubmatch(n.Description); m != nil {
		r.setService(m[1], ByDescription)
	}
	if r.Service == "" && n.Tags != nil {
		if v, ok := tag(n.Tags, MarkerService); ok {
			r.setService(v, ByTag)
		}
	}
	if m := severityMarker.FindStringSubmatch(n.Description); m != nil {
		r.setSeverity(m[1])
	}
	if r.Severity == "" && n.Tags != nil {
		if v, ok := tag(n.Tags, MarkerSeverity); ok {
			r.setSeverity(v)
		}
	}
	return r
}

func (r *Route) setService(v, by string) {
	name := strings.TrimRight(strings.ToLower(strings.TrimSpace(v)), ".")
	if err := incident.ValidateServiceName(name); err != nil {
		r.Warnings = append(r.Warnings, "ignored "+MarkerService+" "+by+": "+err.Error())
		return
	}
	r.Service, r.By = name, by
}

func (r *Route) setSeverity(v string) {
	sev, err := incident.ParseSeverity(strings.TrimRight(v, "."))
	if err != nil {
		r.Warnings = append(r.Warnings, "ignored "+MarkerSeverity+": "+err.Error())
		return
	}
	r.Severity = sev
}

// tag looks a tag up ignoring the key's case.
func tag(tags map[string]string, key string) (string, bool) {
	if v, ok := tags[key]; ok {
		return v, true
	}
	for k, v := range tags {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// needsServices reports whether routing n needs the configured services: the
// markers did not name one.
func needsServices(n Notification) bool { return markers(n).Service == "" }

// Resolve finds the service of an alarm, in this order:
//  1. an incidentd:service marker in the description (or an alarm tag);
//  2. a configured service whose Alarms list names the alarm, exactly or by a
//     prefix ending in "*" (an exact name beats a prefix, a longer prefix a
//     shorter one);
//  3. the naming convention: the longest configured service name the alarm
//     name starts with, followed by '-', '_', '/', ':', '.' or a space (or the
//     whole name);
//  4. defaultService. Nothing is dropped.
//
// Names are compared ignoring case. The severity comes from the severity
// marker, whatever chose the service.
func Resolve(n Notification, services []incident.ServiceConfig, defaultService string) Route {
	r := markers(n)
	if r.Service != "" {
		return r
	}
	sorted := append([]incident.ServiceConfig(nil), services...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	if s := byAlarmsList(n.AlarmName, sorted); s != "" {
		r.Service, r.By = s, ByAlarmsList
		return r
	}
	if s := byNamePrefix(n.AlarmName, sorted); s != "" {
		r.Service, r.By = s, ByName
		return r
	}
	r.Service, r.By = defaultService, ByDefault
	if r.Service == "" {
		r.Service = incident.DefaultServiceName
	}
	return r
}

// byAlarmsList returns the service whose Alarms list matches name best.
func byAlarmsList(name string, services []incident.ServiceConfig) string {
	best, bestScore := "", -1
	for _, svc := range services {
		for _, p := range svc.Alarms {
			score := -1
			if prefix, ok := strings.CutSuffix(p, "*"); ok {
				if hasPrefixFold(name, prefix) {
					score = len(prefix)
				}
			} else if strings.EqualFold(p, name) {
				score = 1 << 20 // an exact name beats any prefix
			}
			if score > bestScore {
				best, bestScore = svc.Name, score
			}
		}
	}
	return best
}

// nameSeparators may follow a service name at the start of an alarm name.
const nameSeparators = "-_/:. "

// byNamePrefix returns the longest service name that name starts with, at a
// separator ("checkout-cpu" → checkout, not "check").
func byNamePrefix(name string, services []incident.ServiceConfig) string {
	best := ""
	for _, svc := range services {
		s := svc.Name
		if s == "" || len(s) <= len(best) || !hasPrefixFold(name, s) {
			continue
		}
		if len(name) == len(s) || strings.IndexByte(nameSeparators, name[len(s)]) >= 0 {
			best = s
		}
	}
	return best
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
