package deploy

import "context"

// ServiceResolver maps what a deployment source names (a CodePipeline
// pipeline's ARN or name, a CodeDeploy application or deployment group, a
// GitHub repository's full name) to the service it deploys and, when the
// source says so, its environment ("" for the default). ok is false when
// resource maps to no service. The adapters declare no resolver of their
// own so that one configuration (a config file, resource tags) serves all.
type ServiceResolver interface {
	ServiceOf(ctx context.Context, resource string) (service, environment string, ok bool)
}

// Target is where a resource deploys to.
type Target struct {
	Service     string `json:"service"`
	Environment string `json:"environment,omitempty"`
}

// StaticServices is a ServiceResolver from configuration: resource (exactly
// as the adapter asks for it, an ARN or a name) → target.
type StaticServices map[string]Target

// ServiceOf implements ServiceResolver.
func (m StaticServices) ServiceOf(_ context.Context, resource string) (string, string, bool) {
	t, ok := m[resource]
	if !ok || t.Service == "" {
		return "", "", false
	}
	return t.Service, t.Environment, true
}

// Resolve asks services about each resource in turn, most specific first,
// and returns the first answer.
func Resolve(ctx context.Context, services ServiceResolver, resources ...string) (service, environment, resource string, ok bool) {
	for _, r := range resources {
		if r == "" {
			continue
		}
		if s, e, ok := services.ServiceOf(ctx, r); ok {
			return s, e, r, true
		}
	}
	return "", "", "", false
}
