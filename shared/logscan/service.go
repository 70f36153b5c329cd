package logscan

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/incidentd/incidentd/shared/incident"
)

// Services says which service a log group belongs to.
//
// In order:
//  1. the configured mapping (LOG_GROUP_SERVICES): an exact log group name, or
//     a prefix ending in "*" ("/ecs/checkout-*"); the longest prefix wins;
//  2. the naming convention:
//     - an AWS-owned group "/aws/<kind>/<name>[/…]" is <name>:
//     /aws/lambda/checkout-api → checkout-api, /aws/ecs/payments → payments,
//     /aws/apprunner/web/1a2b/application → web; a Lambda@Edge replica's region
//     prefix is dropped (/aws/lambda/us-east-1.edge-auth → edge-auth);
//     - any other group is its last path segment: /ecs/checkout → checkout,
//     /prod/payments/api → api, checkout → checkout;
//     - the name is lower-cased, a "-logs"/"-log"/".log" suffix dropped, other
//     characters than letters, digits, '.', '_', '-' become '-', and it is cut
//     to 63 characters. Environment suffixes (-prod, -staging) are kept on
//     purpose: folding staging into production would page production's on-call;
//  3. the default service (DEFAULT_SERVICE) when neither gives a valid name.
//
// Map unconventional groups (API Gateway's "API-Gateway-Execution-Logs_<id>/<stage>",
// CloudFormation-suffixed function names) explicitly.
type Services struct {
	exact    map[string]string
	prefixes []prefixService // longest first
	fallback string
}

type prefixService struct {
	prefix, service string
}

// NewServices builds the mapping; every service named must be a valid service
// name, and so must fallback.
func NewServices(mapping map[string]string, fallback string) (Services, error) {
	if err := incident.ValidateServiceName(fallback); err != nil {
		return Services{}, fmt.Errorf("default service: %w", err)
	}
	s := Services{exact: map[string]string{}, fallback: fallback}
	for group, svc := range mapping {
		if err := incident.ValidateServiceName(svc); err != nil {
			return Services{}, fmt.Errorf("log group %q: %w", group, err)
		}
		if p, ok := strings.CutSuffix(group, "*"); ok {
			s.prefixes = append(s.prefixes, prefixService{prefix: p, service: svc})
			continue
		}
		s.exact[group] = svc
	}
	sort.Slice(s.prefixes, func(i, j int) bool {
		if len(s.prefixes[i].prefix) != len(s.prefixes[j].prefix) {
			return len(s.prefixes[i].prefix) > len(s.prefixes[j].prefix)
		}
		return s.prefixes[i].prefix < s.prefixes[j].prefix
	})
	return s, nil
}

// ParseServices reads the mapping from JSON ({"<log group>": "<service>"}); an
// empty text is no mapping.
func ParseServices(text, fallback string) (Services, error) {
	var mapping map[string]string
	if strings.TrimSpace(text) != "" {
		if err := json.Unmarshal([]byte(text), &mapping); err != nil {
			return Services{}, fmt.Errorf("log group mapping is not a JSON object of strings: %w", err)
		}
	}
	return NewServices(mapping, fallback)
}

// Of returns the service of a log group.
func (s Services) Of(logGroup string) string {
	if svc, ok := s.exact[logGroup]; ok {
		return svc
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(logGroup, p.prefix) {
			return p.service
		}
	}
	if svc := conventionalService(logGroup); svc != "" {
		return svc
	}
	if s.fallback == "" {
		return incident.DefaultServiceName
	}
	return s.fallback
}

var (
	edgeRegion   = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-\d+\.`)
	invalidChars = regexp.MustCompile(`[^a-z0-9._-]+`)
)

// conventionalService derives a service name from a log group's name, or
// returns "" when the name gives none.
func conventionalService(group string) string {
	var segs []string
	for _, s := range strings.Split(group, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	var name string
	switch {
	case len(segs) == 0:
		return ""
	case segs[0] == "aws":
		if len(segs) < 3 {
			return ""
		}
		name = edgeRegion.ReplaceAllString(segs[2], "")
	default:
		name = segs[len(segs)-1]
	}
	name = strings.ToLower(name)
	for _, suffix := range []string{"-logs", "_logs", ".logs", "-log", "_log", ".log"} {
		if n, ok := strings.CutSuffix(name, suffix); ok && n != "" {
			name = n
			break
		}
	}
	name = invalidChars.ReplaceAllString(name, "-")
	name = strings.TrimLeft(name, "._-")
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.TrimRight(name, "._-")
	if incident.ValidateServiceName(name) != nil {
		return ""
	}
	return name
}
