package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

const servicesFile = "infra/services.json"

// The services of the file become the services' settings, marked with the
// file; applying the file again (a redeploy, CloudFormation retrying the
// custom resource) leaves the same items; a service removed from the file
// loses its settings; a service made through the API and not in the file is
// left alone.
func TestApplyServicesFile(t *testing.T) {
	svc, store := newService(t, nil, incident.Rules{})
	ctx := context.Background()
	dynamotest.PutUsers(t, store, "alice")
	if err := store.PutPolicy(ctx, "checkout", userPolicy("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "search"}); err != nil {
		t.Fatal(err)
	}
	file := []incident.ServiceConfig{
		{Name: "checkout", Policy: "checkout", DefaultSeverity: incident.SEV2, Alarms: []string{"legacy-checkout-*"}},
		{Name: "payments", DefaultSeverity: incident.SEV1, AutoResolve: true},
	}
	for run := 1; run <= 2; run++ {
		got, err := svc.ApplyServicesFile(ctx, servicesFile, file)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if want := (incident.Applied{Written: []string{"checkout", "payments"}, Removed: []string{}}); !reflect.DeepEqual(got, want) {
			t.Errorf("run %d: got %+v, want %+v", run, got, want)
		}
	}
	stored := map[string]incident.ServiceConfig{}
	all, err := store.ListServiceConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		stored[c.Name] = c
	}
	tests := []struct {
		name, wantManagedBy, wantPolicy string
		wantSeverity                    incident.Severity
	}{
		{"checkout", servicesFile, "checkout", incident.SEV2},
		{"payments", servicesFile, "", incident.SEV1},
		{"search", "", "", ""},
	}
	for _, tt := range tests {
		c, ok := stored[tt.name]
		if !ok {
			t.Errorf("service %s: not stored", tt.name)
			continue
		}
		if c.ManagedBy != tt.wantManagedBy || c.Policy != tt.wantPolicy || c.DefaultSeverity != tt.wantSeverity {
			t.Errorf("service %s: got managed_by %q, policy %q, severity %q; want %q, %q, %q",
				tt.name, c.ManagedBy, c.Policy, c.DefaultSeverity, tt.wantManagedBy, tt.wantPolicy, tt.wantSeverity)
		}
	}
	// The file names checkout's policy: deleting the policy is refused.
	if err := store.DeletePolicy(ctx, "checkout"); !errors.Is(err, errkind.Conflict) {
		t.Errorf("delete policy named by a managed service: got %v, want a conflict", err)
	}

	// payments leaves the file; checkout stays.
	got, err := svc.ApplyServicesFile(ctx, servicesFile, file[:1])
	if err != nil {
		t.Fatal(err)
	}
	if want := (incident.Applied{Written: []string{"checkout"}, Removed: []string{"payments"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("payments removed from the file: got %+v, want %+v", got, want)
	}
	if _, err := store.ServiceConfig(ctx, "payments"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("payments after it left the file: got %v, want not found", err)
	}
	if c, err := store.ServiceConfig(ctx, "search"); err != nil || c.ManagedBy != "" {
		t.Errorf("search (the API's): got %+v, %v; want it kept, unmanaged", c, err)
	}
	// An empty file removes every managed service, and the policy is free.
	if _, err := svc.ApplyServicesFile(ctx, servicesFile, nil); err != nil {
		t.Fatal(err)
	}
	if err := store.DeletePolicy(ctx, "checkout"); err != nil {
		t.Errorf("delete policy once no managed service names it: got %v, want nil", err)
	}
}

// The API (PUT and DELETE /services/{name}) cannot change a service of the
// file: 409, naming the file; the settings stay as the file made them.
func TestManagedServiceRefusesTheAPI(t *testing.T) {
	svc, store := newService(t, nil, incident.Rules{})
	ctx := context.Background()
	if _, err := svc.ApplyServicesFile(ctx, servicesFile, []incident.ServiceConfig{{Name: "checkout", DefaultSeverity: incident.SEV1}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"put", func() error {
			_, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", DefaultSeverity: incident.SEV4})
			return err
		}},
		{"delete", func() error { return svc.DeleteServiceConfig(ctx, "checkout") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), "managed by "+servicesFile) {
				t.Errorf("got %v, want a conflict naming %s", err, servicesFile)
			}
			c, err := store.ServiceConfig(ctx, "checkout")
			if err != nil || c.DefaultSeverity != incident.SEV1 || c.ManagedBy != servicesFile {
				t.Errorf("after the refused %s: got %+v, %v; want SEV1 managed by %s", tt.name, c, err, servicesFile)
			}
		})
	}
}

// A first deploy comes before any policy: the file may name one that does
// not exist yet. The reference is kept, so once the policy is created it
// cannot be deleted while the file names it.
func TestServicesFileNamesAPolicyNotCreatedYet(t *testing.T) {
	svc, store := newService(t, nil, incident.Rules{})
	ctx := context.Background()
	file := []incident.ServiceConfig{{Name: "checkout", Policy: "checkout"}}
	if _, err := svc.ApplyServicesFile(ctx, servicesFile, file); err != nil {
		t.Fatalf("apply naming a missing policy: got %v, want nil", err)
	}
	if c, err := store.ServiceConfig(ctx, "checkout"); err != nil || c.Policy != "checkout" {
		t.Fatalf("got %+v, %v; want policy checkout", c, err)
	}
	dynamotest.PutUsers(t, store, "alice")
	if err := store.PutPolicy(ctx, "checkout", userPolicy("alice")); err != nil {
		t.Fatal(err)
	}
	err := store.DeletePolicy(ctx, "checkout")
	if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), "service") {
		t.Errorf("delete the policy the file names: got %v, want a conflict naming the service", err)
	}
	// A redeploy with the policy present guards it as any reference.
	if _, err := svc.ApplyServicesFile(ctx, servicesFile, file); err != nil {
		t.Fatal(err)
	}
	refs, err := store.Referrers(ctx, oncall.Ref{Kind: oncall.KindPolicy, ID: "checkout"})
	if err != nil || len(refs) != 1 {
		t.Errorf("referrers of policy checkout: got %v, %v; want the service alone", refs, err)
	}
}

// A bad file changes nothing: every service is checked before one is written.
func TestApplyServicesFileRefusesABadFile(t *testing.T) {
	svc, store := newService(t, nil, incident.Rules{})
	ctx := context.Background()
	_, err := svc.ApplyServicesFile(ctx, servicesFile, []incident.ServiceConfig{
		{Name: "checkout"}, {Name: "payments", DefaultSeverity: "SEV9"},
	})
	if !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), "payments") {
		t.Errorf("got %v, want invalid naming payments", err)
	}
	if all, err := store.ListServiceConfigs(ctx); err != nil || len(all) != 0 {
		t.Errorf("stored after a bad file: got %v, %v; want none", all, err)
	}
}
