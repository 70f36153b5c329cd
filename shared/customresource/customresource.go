// Package customresource adapts CloudFormation's requests for the stack's
// ServicesFile custom resource (a Lambda-backed custom resource served by
// the seed function, with no provider framework between) to the services
// file's use: incident.Service.ApplyServicesFile (README, "Services from the
// file").
//
// CloudFormation sends Create, Update and Delete requests with the resource's
// properties, File (the services file's name, e.g. infra/services.json) and
// Services (its services' settings as one JSON string: CloudFormation would
// turn booleans and numbers of nested properties into strings), and waits for
// the answer PUT to the request's pre-signed ResponseURL. Create and Update
// apply the file; Delete changes nothing: the table is retained with the
// stack, and a Delete also follows a replacement of the resource (a new
// logical id), where removing the services would undo the Create just done.
// The physical id is fixed, so that an Update is never a replacement.
//
// Each request is answered, SUCCESS or FAILED with the reason; the handler
// fails (and Lambda retries the asynchronous invocation) only when the answer
// cannot be delivered; then CloudFormation, without an answer within the
// resource's timeout, fails it and rolls the deploy back (the function has
// no failure queue: infra/seed). Applying a file twice changes nothing, so a
// retry is safe.
package customresource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// The resource's properties.
const (
	PropertyFile     = "File"
	PropertyServices = "Services"
)

// PhysicalID is the resource's physical id, whatever the file.
const PhysicalID = "incidentd-services-file"

// maxReason bounds the reason of a FAILED answer (CloudFormation takes a
// response of at most 4,096 bytes).
const maxReason = 2048

// Applier writes a services file's services (incident.Service).
type Applier interface {
	ApplyServicesFile(ctx context.Context, file string, configs []incident.ServiceConfig) (incident.Applied, error)
}

// Responder delivers an answer to CloudFormation: a PUT of body to the
// request's ResponseURL (HTTPResponder), or a local stand-in.
type Responder interface {
	Respond(ctx context.Context, url string, body []byte) error
}

// service is one service of the Services property: incident.ServiceConfig's
// settings, without the times and the marker (the file's name is File).
type service struct {
	Name                string              `json:"name"`
	Policy              string              `json:"policy,omitempty"`
	DefaultSeverity     incident.Severity   `json:"default_severity,omitempty"`
	AutoResolve         bool                `json:"auto_resolve,omitempty"`
	PagingSeverities    []incident.Severity `json:"paging_severities,omitempty"`
	Alarms              []string            `json:"alarms,omitempty"`
	ReportThreshold     int                 `json:"report_threshold,omitempty"`
	ReportWindowMinutes int                 `json:"report_window_minutes,omitempty"`
	ReportSeverity      incident.Severity   `json:"report_severity,omitempty"`
}

// Properties are the resource's properties for the services of file, as
// the stack writes them into the template.
func Properties(file string, configs []incident.ServiceConfig) (map[string]any, error) {
	list := make([]service, 0, len(configs))
	for _, c := range configs {
		list = append(list, service{
			Name: c.Name, Policy: c.Policy, DefaultSeverity: c.DefaultSeverity, AutoResolve: c.AutoResolve,
			PagingSeverities: c.PagingSeverities, Alarms: c.Alarms, ReportThreshold: c.ReportThreshold,
			ReportWindowMinutes: c.ReportWindowMinutes, ReportSeverity: c.ReportSeverity,
		})
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("encode services of %s: %w", file, err)
	}
	return map[string]any{PropertyFile: file, PropertyServices: string(b)}, nil
}

// DecodeProperties reads the file's name and its services from a request's
// resource properties. Unknown settings are errors, as in the file.
func DecodeProperties(props map[string]any) (file string, configs []incident.ServiceConfig, err error) {
	file, _ = props[PropertyFile].(string)
	if file == "" {
		return "", nil, fmt.Errorf("property %s: want the services file's name", PropertyFile)
	}
	raw, ok := props[PropertyServices].(string)
	if !ok {
		return "", nil, fmt.Errorf("property %s: want the services as a JSON string", PropertyServices)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	var list []service
	if err := dec.Decode(&list); err != nil {
		return "", nil, fmt.Errorf("property %s: %w", PropertyServices, err)
	}
	configs = make([]incident.ServiceConfig, 0, len(list))
	for _, s := range list {
		configs = append(configs, incident.ServiceConfig{
			Name: s.Name, Policy: s.Policy, DefaultSeverity: s.DefaultSeverity, AutoResolve: s.AutoResolve,
			PagingSeverities: s.PagingSeverities, Alarms: s.Alarms, ReportThreshold: s.ReportThreshold,
			ReportWindowMinutes: s.ReportWindowMinutes, ReportSeverity: s.ReportSeverity,
		})
	}
	return file, configs, nil
}

// Handler answers the ServicesFile resource's requests.
type Handler struct {
	Services  Applier
	Responder Responder
	Logger    *slog.Logger
}

// Handle applies a Create or Update request's file and answers it.
func (h *Handler) Handle(ctx context.Context, ev cfn.Event) error {
	r := cfn.NewResponse(&ev)
	r.PhysicalResourceID = PhysicalID
	r.Status = cfn.StatusSuccess
	log := h.Logger.With(slog.String("request_type", string(ev.RequestType)), slog.String("logical_resource_id", ev.LogicalResourceID))
	if err := h.apply(ctx, ev, r); err != nil {
		r.Status = cfn.StatusFailed
		r.Reason = text.Clip(text.Clean(err.Error()), maxReason, "…", text.Valid)
		log.ErrorContext(ctx, "services file not applied", slog.Any("error", err))
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	if err := h.Responder.Respond(ctx, ev.ResponseURL, body); err != nil {
		return fmt.Errorf("answer CloudFormation (%s): %w", r.Status, err)
	}
	return nil
}

func (h *Handler) apply(ctx context.Context, ev cfn.Event, r *cfn.Response) error {
	switch ev.RequestType {
	case cfn.RequestCreate, cfn.RequestUpdate:
	case cfn.RequestDelete:
		h.Logger.InfoContext(ctx, "services file resource deleted: the services' settings stay in the retained table")
		return nil
	default:
		return fmt.Errorf("request type %q: want Create, Update or Delete", ev.RequestType)
	}
	file, configs, err := DecodeProperties(ev.ResourceProperties)
	if err != nil {
		return err
	}
	applied, err := h.Services.ApplyServicesFile(ctx, file, configs)
	if err != nil {
		return err
	}
	r.Data = map[string]any{"Written": strings.Join(applied.Written, ","), "Removed": strings.Join(applied.Removed, ",")}
	h.Logger.InfoContext(ctx, "services file applied", slog.String("file", file),
		slog.Any("written", applied.Written), slog.Any("removed", applied.Removed))
	return nil
}

// ErrNoResponseURL is a request without a URL to answer.
var ErrNoResponseURL = errors.New("the request has no ResponseURL")
