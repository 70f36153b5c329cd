package incident

import (
	"regexp"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
)

// ServiceConfig is what the platform knows about one service: how its incidents
// are graded and handled. Missing values take the defaults of Defaults.
type ServiceConfig struct {
	Name string `json:"name"`
	// Policy names the escalation policy that pages for this service.
	Policy string `json:"policy,omitempty"`
	// DefaultSeverity grades signals that carry no severity of their own.
	DefaultSeverity Severity `json:"default_severity,omitempty"`
	// AutoResolve resolves an incident when its alarm returns to OK.
	AutoResolve bool `json:"auto_resolve"`
	// PagingSeverities are the severities that page someone.
	PagingSeverities []Severity `json:"paging_severities,omitempty"`
	// Alarms lists alarm names (or name prefixes ending in "*") that belong to
	// this service, for alarms that follow no naming convention.
	Alarms []string `json:"alarms,omitempty"`
	// ReportThreshold distinct reporters within ReportWindowMinutes raise a
	// report-opened incident to ReportSeverity.
	ReportThreshold     int       `json:"report_threshold,omitempty"`
	ReportWindowMinutes int       `json:"report_window_minutes,omitempty"`
	ReportSeverity      Severity  `json:"report_severity,omitempty"`
	UpdatedAt           time.Time `json:"updated_at"`
	// ManagedBy names the services file these settings come from (README,
	// "Services from the file"); empty for settings made through the API.
	// A managed service is changed and removed by deploying its file alone.
	ManagedBy string `json:"managed_by,omitempty"`
}

// Rules are the platform-wide settings of the incident service.
type Rules struct {
	// DefaultService receives signals whose service is unknown; nothing is dropped.
	DefaultService string
	// ReopenWindow: a signal for a resolved incident within this time reopens it;
	// after it, a new incident opens.
	ReopenWindow time.Duration
	// DeliveryTTL is how long delivered event ids are remembered for idempotency.
	DeliveryTTL time.Duration
	// FlapThreshold: an incident that reopens this many times within
	// ReopenWindow is flapping (README, flapping); 0 means
	// DefaultFlapThreshold.
	FlapThreshold int
	// ConfigCacheTTL is how long an instance reuses a service's
	// configuration (0: DefaultConfigCacheTTL; below 0: not cached).
	ConfigCacheTTL time.Duration
	// HeadCacheTTL is how long an instance accepts repeated triggers of a
	// dedup key for the open incident it last saw, without a read (0:
	// DefaultHeadCacheTTL; below 0: never, every signal reads first).
	HeadCacheTTL time.Duration
}

// Defaults for a service config and for Rules.
const (
	DefaultAlarmSeverity   = SEV3
	DefaultLogSeverity     = SEV3
	DefaultReportSeverity  = SEV4
	DefaultManualSeverity  = SEV3
	DefaultReportThreshold = 3
	DefaultReportWindow    = 30 * time.Minute
	DefaultRaisedSeverity  = SEV2
	DefaultReopenWindow    = 30 * time.Minute
	DefaultDeliveryTTL     = 7 * 24 * time.Hour
	DefaultFlapThreshold   = 3
	DefaultServiceName     = "unassigned"
)

// DefaultPagingSeverities page for everything but SEV4, like a low-urgency
// incident elsewhere.
var DefaultPagingSeverities = []Severity{SEV1, SEV2, SEV3}

var serviceName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateServiceName checks that name is a service name: lower-case letters,
// digits, '.', '_' and '-', at most 63 characters, starting with a letter or digit.
func ValidateServiceName(name string) error {
	if !serviceName.MatchString(name) {
		return errkind.Invalidf("service %q is not a valid name (lower-case letters, digits, '.', '_', '-'; 1-63 characters)", name)
	}
	return nil
}

// Validate checks a service config and fills its defaults.
func (c *ServiceConfig) Validate() error {
	if err := ValidateServiceName(c.Name); err != nil {
		return err
	}
	if c.DefaultSeverity != "" && !c.DefaultSeverity.Valid() {
		return errkind.Invalidf("default_severity %q is not one of SEV1, SEV2, SEV3, SEV4", c.DefaultSeverity)
	}
	if c.ReportSeverity != "" && !c.ReportSeverity.Valid() {
		return errkind.Invalidf("report_severity %q is not one of SEV1, SEV2, SEV3, SEV4", c.ReportSeverity)
	}
	for _, s := range c.PagingSeverities {
		if !s.Valid() {
			return errkind.Invalidf("paging_severities: %q is not one of SEV1, SEV2, SEV3, SEV4", s)
		}
	}
	if c.ReportThreshold < 0 || c.ReportThreshold > 1000 {
		return errkind.Invalidf("report_threshold %d is not between 1 and 1000", c.ReportThreshold)
	}
	if c.ReportWindowMinutes < 0 || c.ReportWindowMinutes > 7*24*60 {
		return errkind.Invalidf("report_window_minutes %d is not between 1 and 10080", c.ReportWindowMinutes)
	}
	if len(c.Alarms) > 100 {
		return errkind.Invalidf("alarms lists %d entries, at most 100", len(c.Alarms))
	}
	for _, a := range c.Alarms {
		if a == "" || len(a) > 255 {
			return errkind.Invalidf("alarms: %q is not an alarm name (1-255 characters)", a)
		}
	}
	return nil
}

// WithDefaults returns c with every unset field at its default.
func (c ServiceConfig) WithDefaults() ServiceConfig {
	if c.PagingSeverities == nil {
		c.PagingSeverities = DefaultPagingSeverities
	}
	if c.ReportThreshold == 0 {
		c.ReportThreshold = DefaultReportThreshold
	}
	if c.ReportWindowMinutes == 0 {
		c.ReportWindowMinutes = int(DefaultReportWindow / time.Minute)
	}
	if c.ReportSeverity == "" {
		c.ReportSeverity = DefaultRaisedSeverity
	}
	return c
}

// severityFor grades a signal: its own severity, else the service's default,
// else the source's default.
func (c ServiceConfig) severityFor(s Signal) Severity {
	if s.Source == SourceReport {
		return DefaultReportSeverity // reports start low; enough distinct reporters raise them
	}
	if s.Severity != "" {
		return s.Severity
	}
	if c.DefaultSeverity != "" {
		return c.DefaultSeverity
	}
	switch s.Source {
	case SourceLog:
		return DefaultLogSeverity
	case SourceManual:
		return DefaultManualSeverity
	}
	return DefaultAlarmSeverity
}

func (r Rules) withDefaults() Rules {
	if r.DefaultService == "" {
		r.DefaultService = DefaultServiceName
	}
	if r.ReopenWindow == 0 {
		r.ReopenWindow = DefaultReopenWindow
	}
	if r.DeliveryTTL == 0 {
		r.DeliveryTTL = DefaultDeliveryTTL
	}
	if r.FlapThreshold <= 0 {
		r.FlapThreshold = DefaultFlapThreshold
	}
	if r.ConfigCacheTTL == 0 {
		r.ConfigCacheTTL = DefaultConfigCacheTTL
	}
	if r.HeadCacheTTL == 0 {
		r.HeadCacheTTL = DefaultHeadCacheTTL
	}
	return r
}
