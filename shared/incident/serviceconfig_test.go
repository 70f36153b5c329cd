package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

func TestDeleteServiceConfig(t *testing.T) {
	svc := incident.NewService(incidenttest.New(time.Now), incident.Rules{})
	ctx := context.Background()
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		give        string
		wantKind    error
		wantMessage string
	}{
		{"configured", "checkout", nil, ""},
		{"deleted already", "checkout", errkind.NotFound, `service "checkout" not found`},
		{"never configured", "search", errkind.NotFound, `service "search" not found`},
		{"not a service name", "Bad Name", errkind.NotFound, `service "Bad Name" not found`},
	}
	for _, tt := range tests {
		err := svc.DeleteServiceConfig(ctx, tt.give)
		if !errors.Is(err, tt.wantKind) || (err != nil && !strings.Contains(err.Error(), tt.wantMessage)) {
			t.Errorf("%s: got %v, want %v containing %q", tt.name, err, tt.wantKind, tt.wantMessage)
		}
	}
	if _, err := svc.ServiceConfig(ctx, "checkout"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("read after delete: got %v, want errkind.NotFound", err)
	}
}
