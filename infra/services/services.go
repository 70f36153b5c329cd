// Package services reads infra/services.json, the list of services the platform
// watches, and decides which health checks each of them gets.
//
// It knows no CDK: the detection construct turns a Service's checks into CloudWatch
// alarms and its log groups into metric and subscription filters.
package services

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/incidentd/incidentd/shared/alarms"
	"github.com/incidentd/incidentd/shared/incident"
)

// Config is the content of infra/services.json.
type Config struct {
	// DefaultService is given to every function as DEFAULT_SERVICE.
	DefaultService string    `json:"default_service,omitempty"`
	Services       []Service `json:"services"`
}

// Service is one monitored service and the AWS resources that run it. A service
// has at most one front (ALB or Lambda), which the latency and error-rate checks
// watch, and optionally an ECS service, which the CPU and memory checks watch.
type Service struct {
	Name      string             `json:"name"`
	ECS       *ECS               `json:"ecs,omitempty"`
	ALB       *ALB               `json:"alb,omitempty"`
	Lambda    *Lambda            `json:"lambda,omitempty"`
	LogGroups []LogGroup         `json:"log_groups,omitempty"`
	Checks    map[Check]Override `json:"checks,omitempty"`
	// DeploySources are where this service's deployments come from, for the
	// DORA metrics: CodePipeline pipelines, CodeDeploy deployment groups or
	// applications, GitHub repositories (DeploySource).
	DeploySources []DeploySource `json:"deploy_sources,omitempty"`
	// Settings are the service's settings (README, "Services from the
	// file"): what PUT /services/{name} takes, written into the table at
	// deploy. Every service of the file is managed by it, with or without
	// settings (absent ones take their defaults).
	ServiceSettings ServiceSettings `json:"settings,omitzero"`
}

// ServiceSettings are a service's settings as PUT /services/{name} takes them
// (incident.ServiceConfig, without the name and the times).
type ServiceSettings struct {
	Policy              string   `json:"policy,omitempty"`
	DefaultSeverity     string   `json:"default_severity,omitempty"`
	AutoResolve         bool     `json:"auto_resolve,omitempty"`
	PagingSeverities    []string `json:"paging_severities,omitempty"`
	Alarms              []string `json:"alarms,omitempty"`
	ReportThreshold     int      `json:"report_threshold,omitempty"`
	ReportWindowMinutes int      `json:"report_window_minutes,omitempty"`
	ReportSeverity      string   `json:"report_severity,omitempty"`
}

// Config returns the service's settings as the table keeps them (without
// ManagedBy, which the custom resource sets from the file's name).
func (s Service) Config() incident.ServiceConfig {
	st := s.ServiceSettings
	c := incident.ServiceConfig{
		Name: s.Name, Policy: st.Policy, DefaultSeverity: incident.Severity(st.DefaultSeverity),
		AutoResolve: st.AutoResolve, Alarms: st.Alarms, ReportThreshold: st.ReportThreshold,
		ReportWindowMinutes: st.ReportWindowMinutes, ReportSeverity: incident.Severity(st.ReportSeverity),
	}
	for _, sev := range st.PagingSeverities {
		c.PagingSeverities = append(c.PagingSeverities, incident.Severity(sev))
	}
	return c
}

// Configs returns every service's settings, in the file's order.
func (c Config) Configs() []incident.ServiceConfig {
	out := make([]incident.ServiceConfig, 0, len(c.Services))
	for _, s := range c.Services {
		out = append(out, s.Config())
	}
	return out
}

// DeploySource is one source of a service's deployments, named as the
// deploys function and the GitHub webhook ask for it: a pipeline's ARN or
// name; a CodeDeploy deployment group's ARN, application's ARN,
// "application/group" or application name; a GitHub repository
// "owner/name", or "owner/name@environment" for one GitHub environment of
// it. Environment is the environment its deployments go to (default: the
// source's own, e.g. GitHub's environment, else production).
type DeploySource struct {
	Source      string `json:"source"`
	Environment string `json:"environment,omitempty"`
}

// ECS names an ECS service (the dimensions of the AWS/ECS metrics).
type ECS struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
}

// ALB names an Application Load Balancer and, optionally, the target group of the
// service. Both accept an ARN or the metric dimension value ("app/name/id",
// "targetgroup/name/id"). Without a target group the whole load balancer is
// watched, including the 5xx it generates itself.
type ALB struct {
	LoadBalancer string `json:"load_balancer"`
	TargetGroup  string `json:"target_group,omitempty"`
}

// Lambda names a Lambda function.
type Lambda struct {
	FunctionName string `json:"function_name"`
}

// LogFormat says how a log group's lines look, which decides the error pattern.
type LogFormat string

const (
	// LogFormatText matches the words ERROR, FATAL, panic and Traceback anywhere in
	// a line, so it also catches JSON lines that contain them.
	LogFormatText LogFormat = "text"
	// LogFormatJSON matches JSON lines whose level field is ERROR or FATAL.
	LogFormatJSON LogFormat = "json"
)

// LogGroup is an existing log group of the service, imported by name.
type LogGroup struct {
	Name string `json:"name"`
	// Format defaults to text. It decides the metric filter's error pattern.
	Format LogFormat `json:"format,omitempty"`
	// SubscriptionPattern, when set, is the CloudWatch filter pattern of the
	// subscription to the logs function. By default the subscription sends
	// the lines that may be errors (detection.SubscriptionPattern, a superset
	// of what the logs function detects, so that CloudWatch filters at the
	// source and the function still decides); a pattern here replaces it.
	SubscriptionPattern string `json:"subscription_pattern,omitempty"`
	// EveryLine sends every line of the group to the logs function (an empty
	// filter pattern), for a group whose errors the default pattern might
	// miss; it costs an invocation per batch of the group's lines. Not with
	// SubscriptionPattern.
	EveryLine bool `json:"every_line,omitempty"`
}

// Check is one health check; an alarm is named "<service>-<check>".
type Check string

// The checks, in the order they are created.
const (
	CheckCPU        Check = "cpu"         // ECS CPUUtilization, percent
	CheckMemory     Check = "memory"      // ECS MemoryUtilization, percent
	CheckLatencyP99 Check = "latency-p99" // ALB TargetResponseTime or Lambda Duration p99, milliseconds
	CheckErrorRate  Check = "error-rate"  // ALB 5xx or Lambda errors per request, percent
	CheckThrottles  Check = "throttles"   // Lambda Throttles per minute
	CheckLogErrors  Check = "log-errors"  // error lines per minute across the service's log groups
)

// AllChecks lists every check in creation order.
var AllChecks = []Check{CheckCPU, CheckMemory, CheckLatencyP99, CheckErrorRate, CheckThrottles, CheckLogErrors}

// How an alarm treats missing data (CloudWatch's own spelling).
const (
	MissingBreaching    = "breaching"
	MissingNotBreaching = "notBreaching"
	MissingIgnore       = "ignore"
	MissingMissing      = "missing"
)

// Settings are the resolved parameters of one check. The alarm fires when the
// metric is above Threshold.
type Settings struct {
	Threshold        float64
	Severity         string
	TreatMissingData string
}

// Override changes a check's defaults for one service.
type Override struct {
	Threshold        *float64 `json:"threshold,omitempty"`
	Severity         string   `json:"severity,omitempty"`
	TreatMissingData string   `json:"treat_missing_data,omitempty"`
	Disabled         bool     `json:"disabled,omitempty"`
}

// Defaults are the settings of a check that a service does not override.
//
// Missing data: traffic-driven metrics (latency, errors, throttles, log lines) are
// simply absent when nothing happens, so missing is not breaching. CPU and memory
// are absent when the ECS service runs no task or does not exist; an alarm cannot
// tell the two apart, so they stay missing (INSUFFICIENT_DATA) rather than page.
var Defaults = map[Check]Settings{
	CheckCPU:        {Threshold: 80, Severity: "SEV3", TreatMissingData: MissingMissing},
	CheckMemory:     {Threshold: 85, Severity: "SEV3", TreatMissingData: MissingMissing},
	CheckLatencyP99: {Threshold: 1000, Severity: "SEV3", TreatMissingData: MissingNotBreaching},
	CheckErrorRate:  {Threshold: 5, Severity: "SEV2", TreatMissingData: MissingNotBreaching},
	CheckThrottles:  {Threshold: 0, Severity: "SEV3", TreatMissingData: MissingNotBreaching},
	CheckLogErrors:  {Threshold: 5, Severity: "SEV3", TreatMissingData: MissingNotBreaching},
}

// Load reads and validates a services file.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read services: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("services file %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates a services document. Unknown fields are errors, so
// a typo cannot silently drop a check.
func Parse(data []byte) (Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("decode: %w", err)
	}
	if cfg.DefaultService == "" {
		cfg.DefaultService = incident.DefaultServiceName
	}
	if err := cfg.normalize(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// normalize validates the config, with the domain's own rules for service names
// and severities, and rewrites ARNs to metric dimension values and severities to
// their canonical form.
func (c *Config) normalize() error {
	if err := incident.ValidateServiceName(c.DefaultService); err != nil {
		return fmt.Errorf("default_service: %w", err)
	}
	names := map[string]bool{}
	logGroups := map[string]string{}
	for i := range c.Services {
		s := &c.Services[i]
		if err := incident.ValidateServiceName(s.Name); err != nil {
			return fmt.Errorf("services[%d]: %w", i, err)
		}
		if names[s.Name] {
			return fmt.Errorf("service %s: listed twice", s.Name)
		}
		names[s.Name] = true
		if err := s.normalize(); err != nil {
			return fmt.Errorf("service %s: %w", s.Name, err)
		}
		// A log group belongs to one service: its errors are that service's signals,
		// and CloudWatch allows only two subscription filters per log group.
		for _, lg := range s.LogGroups {
			if other, ok := logGroups[lg.Name]; ok {
				return fmt.Errorf("service %s: log group %s already belongs to service %s", s.Name, lg.Name, other)
			}
			logGroups[lg.Name] = s.Name
		}
	}
	sources := map[string]string{}
	for _, s := range c.Services {
		for i, d := range s.DeploySources {
			switch {
			case strings.TrimSpace(d.Source) != d.Source || d.Source == "" || len(d.Source) > 512:
				return fmt.Errorf("service %s: deploy_sources[%d]: source must be 1-512 bytes without surrounding spaces", s.Name, i)
			case sources[d.Source] != "":
				return fmt.Errorf("service %s: deploy source %s already belongs to service %s", s.Name, d.Source, sources[d.Source])
			}
			if d.Environment != "" {
				if err := incident.ValidateServiceName(d.Environment); err != nil {
					return fmt.Errorf("service %s: deploy source %s: environment %q is not a valid name (lower-case letters, digits, '.', '_', '-')", s.Name, d.Source, d.Environment)
				}
			}
			sources[d.Source] = s.Name
		}
	}
	if b, err := json.Marshal(c.DeployServices()); err != nil || len(b) > MaxDeployServices {
		return fmt.Errorf("deploy_sources: %d sources make a %d byte DEPLOY_SERVICES, over the %d bytes Lambda's environment leaves for it",
			len(sources), len(b), MaxDeployServices)
	}
	// The map travels in an environment variable; fail here rather than in the
	// middle of a deployment.
	if b, err := json.Marshal(logGroups); err != nil || len(b) > MaxLogGroupServices {
		return fmt.Errorf("log_groups: %d log groups make a %d byte LOG_GROUP_SERVICES, over the %d bytes Lambda's environment leaves for it",
			len(logGroups), len(b), MaxLogGroupServices)
	}
	return nil
}

// MaxDeployServices bounds the JSON of DeployServices (DEPLOY_SERVICES, on
// the api and deploys functions, beside their other variables).
const MaxDeployServices = 2048

// DeployTarget is where a deploy source deploys, as DEPLOY_SERVICES says it.
type DeployTarget struct {
	Service     string `json:"service"`
	Environment string `json:"environment,omitempty"`
}

// DeployServices maps each deploy source to its service and environment,
// for the deploys function and the GitHub webhook (DEPLOY_SERVICES, read by
// settings.DeployTargets).
func (c Config) DeployServices() map[string]DeployTarget {
	m := map[string]DeployTarget{}
	for _, s := range c.Services {
		for _, d := range s.DeploySources {
			m[d.Source] = DeployTarget{Service: s.Name, Environment: d.Environment}
		}
	}
	return m
}

// MaxLogGroupServices bounds the JSON of LogGroupServices: Lambda allows 4 KB of
// environment variables in all, and the logs function has others.
const MaxLogGroupServices = 3072

func (s *Service) normalize() error {
	if err := s.ServiceSettings.normalize(); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	cfg := s.Config()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if s.ALB != nil && s.Lambda != nil {
		return errors.New("alb and lambda both define latency-p99 and error-rate: split them into two services")
	}
	if s.ECS != nil && (s.ECS.Cluster == "" || s.ECS.Service == "") {
		return errors.New("ecs: cluster and service are required")
	}
	if s.ALB != nil {
		lb, err := dimension(s.ALB.LoadBalancer, "loadbalancer/", "app/")
		if err != nil {
			return fmt.Errorf("alb.load_balancer: %w", err)
		}
		s.ALB.LoadBalancer = lb
		if s.ALB.TargetGroup != "" {
			tg, err := dimension(s.ALB.TargetGroup, ":", "targetgroup/")
			if err != nil {
				return fmt.Errorf("alb.target_group: %w", err)
			}
			s.ALB.TargetGroup = tg
		}
	}
	if s.Lambda != nil && s.Lambda.FunctionName == "" {
		return errors.New("lambda: function_name is required")
	}
	for i := range s.LogGroups {
		lg := &s.LogGroups[i]
		if lg.Name == "" {
			return fmt.Errorf("log_groups[%d]: name is required", i)
		}
		if lg.EveryLine && lg.SubscriptionPattern != "" {
			return fmt.Errorf("log group %s: every_line and subscription_pattern: set one of them", lg.Name)
		}
		switch lg.Format {
		case "":
			lg.Format = LogFormatText
		case LogFormatText, LogFormatJSON:
		default:
			return fmt.Errorf("log group %s: format %q: want %q or %q", lg.Name, lg.Format, LogFormatText, LogFormatJSON)
		}
	}
	applies := map[Check]bool{}
	for _, c := range s.applicable() {
		applies[c] = true
	}
	for c, o := range s.Checks {
		if _, known := Defaults[c]; !known {
			return fmt.Errorf("checks: unknown check %q", c)
		}
		if !applies[c] {
			return fmt.Errorf("checks.%s: does not apply to this service (%s)", c, needs(c))
		}
		if err := o.normalize(c); err != nil {
			return fmt.Errorf("checks.%s: %w", c, err)
		}
		s.Checks[c] = o
	}
	return nil
}

// normalize writes severities in their canonical form (SEV1…SEV4).
func (st *ServiceSettings) normalize() error {
	for _, f := range []*string{&st.DefaultSeverity, &st.ReportSeverity} {
		if *f == "" {
			continue
		}
		sev, err := incident.ParseSeverity(*f)
		if err != nil {
			return err
		}
		*f = string(sev)
	}
	for i, v := range st.PagingSeverities {
		sev, err := incident.ParseSeverity(v)
		if err != nil {
			return fmt.Errorf("paging_severities: %w", err)
		}
		st.PagingSeverities[i] = string(sev)
	}
	return nil
}

func (o *Override) normalize(c Check) error {
	if o.Severity != "" {
		sev, err := incident.ParseSeverity(o.Severity)
		if err != nil {
			return fmt.Errorf("severity: %w", err)
		}
		o.Severity = string(sev)
	}
	switch o.TreatMissingData {
	case "", MissingBreaching, MissingNotBreaching, MissingIgnore, MissingMissing:
	default:
		return fmt.Errorf("treat_missing_data %q: want breaching, notBreaching, ignore or missing", o.TreatMissingData)
	}
	if o.Threshold != nil {
		t := *o.Threshold
		if t < 0 {
			return fmt.Errorf("threshold %v: must not be negative", t)
		}
		if (c == CheckCPU || c == CheckMemory || c == CheckErrorRate) && t > 100 {
			return fmt.Errorf("threshold %v: a percentage, at most 100", t)
		}
	}
	return nil
}

// dimension turns an ARN into the metric dimension value (what follows marker)
// and checks that the result starts with prefix.
func dimension(v, marker, prefix string) (string, error) {
	if strings.HasPrefix(v, "arn:") {
		i := strings.LastIndex(v, marker)
		if i < 0 {
			return "", fmt.Errorf("%q: not a load balancer or target group ARN", v)
		}
		v = v[i+len(marker):]
	}
	if !strings.HasPrefix(v, prefix) || strings.Count(v, "/") != 2 {
		return "", fmt.Errorf("%q: want an ARN or %s<name>/<id>", v, prefix)
	}
	return v, nil
}

// applicable lists the checks the service's resources support, in creation order.
func (s Service) applicable() []Check {
	var cs []Check
	if s.ECS != nil {
		cs = append(cs, CheckCPU, CheckMemory)
	}
	if s.ALB != nil || s.Lambda != nil {
		cs = append(cs, CheckLatencyP99, CheckErrorRate)
	}
	if s.Lambda != nil {
		cs = append(cs, CheckThrottles)
	}
	if len(s.LogGroups) > 0 {
		cs = append(cs, CheckLogErrors)
	}
	return cs
}

func needs(c Check) string {
	switch c {
	case CheckCPU, CheckMemory:
		return "needs ecs"
	case CheckLatencyP99, CheckErrorRate:
		return "needs alb or lambda"
	case CheckThrottles:
		return "needs lambda"
	default:
		return "needs log_groups"
	}
}

// EnabledChecks lists the checks the service gets, in creation order.
func (s Service) EnabledChecks() []Check {
	var cs []Check
	for _, c := range s.applicable() {
		if !s.Checks[c].Disabled {
			cs = append(cs, c)
		}
	}
	return cs
}

// Settings resolves a check's settings: the service's overrides over Defaults.
func (s Service) Settings(c Check) Settings {
	st := Defaults[c]
	o := s.Checks[c]
	if o.Threshold != nil {
		st.Threshold = *o.Threshold
	}
	if o.Severity != "" {
		st.Severity = o.Severity
	}
	if o.TreatMissingData != "" {
		st.TreatMissingData = o.TreatMissingData
	}
	return st
}

// AlarmName is the name of the service's alarm for a check.
func (s Service) AlarmName(c Check) string {
	return s.Name + "-" + string(c)
}

// Markers is what the alarm description carries so that the alarms function can
// attribute the alarm without looking it up: "incidentd:service=<name>
// incidentd:severity=<SEVn>", with the keys the alarms package reads.
func Markers(service, severity string) string {
	return alarms.MarkerService + "=" + service + " " + alarms.MarkerSeverity + "=" + severity
}

// LogGroupServices maps each configured log group to its service, for the logs
// function (LOG_GROUP_SERVICES, read by logscan.ParseServices).
func (c Config) LogGroupServices() map[string]string {
	m := map[string]string{}
	for _, s := range c.Services {
		for _, lg := range s.LogGroups {
			m[lg.Name] = s.Name
		}
	}
	return m
}
