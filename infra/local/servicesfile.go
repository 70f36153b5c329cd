package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/incidentd/incidentd/infra/services"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// DefaultServicesFile is the services file `make local` reads when
// LOCAL_SERVICES names none: the documented example, whose services (checkout,
// payments) the fixtures in events/ and the demo data are about. Locally no
// log group or load balancer has to exist, so the example runs as it is.
const DefaultServicesFile = "infra/services.example.json"

// loadServicesFile reads LOCAL_SERVICES (a path relative to the module root,
// as the stack's context value services), or DefaultServicesFile. The name
// it returns is what the services' settings are marked with (managed_by).
func loadServicesFile(root string, getenv func(string) string) (string, services.Config, error) {
	name := getenv("LOCAL_SERVICES")
	if name == "" {
		name = DefaultServicesFile
	}
	name = filepath.ToSlash(filepath.Clean(name))
	cfg, err := services.Load(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		return "", services.Config{}, fmt.Errorf("LOCAL_SERVICES: %w", err)
	}
	return name, cfg, nil
}

// applyServicesFile writes the file's services into the table as the
// stack's ServicesFile custom resource does at deploy (the same
// incident.Service.ApplyServicesFile): marked as managed by the file, the
// API refusing to change them; managed services the file no longer lists
// (an earlier run on the same LOCAL_DB_PATH) are removed.
func applyServicesFile(ctx context.Context, svc *incident.Service, name string, cfg services.Config) error {
	if _, err := svc.ApplyServicesFile(ctx, name, cfg.Configs()); err != nil {
		return fmt.Errorf("apply the services file: %w", err)
	}
	return nil
}

// printCustomResources stands for CloudFormation's pre-signed answer URL:
// an answer of the seed function (events/seed-*.json posted to its invoke
// endpoint) is a readable line on out, e.g.
//
//	CLOUDFORMATION SUCCESS ServicesFile (Create): written checkout,payments; removed none
type printCustomResources struct {
	out io.Writer
	log *slog.Logger
	mu  sync.Mutex
}

// Respond implements customresource.Responder.
func (p *printCustomResources) Respond(ctx context.Context, url string, body []byte) error {
	var r struct {
		Status, LogicalResourceId, Reason string
		Data                              struct{ Written, Removed string }
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	line := fmt.Sprintf("CLOUDFORMATION %s %s", r.Status, r.LogicalResourceId)
	switch {
	case r.Reason != "":
		line += ": " + r.Reason
	case r.Data.Written != "" || r.Data.Removed != "":
		line += fmt.Sprintf(": written %s; removed %s", orNone(r.Data.Written), orNone(r.Data.Removed))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fmt.Fprintln(p.out, text.EscapeLine(line))
	p.log.InfoContext(ctx, "custom resource answer (local)", slog.String("response_url", url), slog.String("answer", string(body)))
	return err
}
