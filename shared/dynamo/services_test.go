package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

func TestServiceConfigsRoundTrip(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	dynamotest.PutUsers(t, store, "dave")
	if err := store.PutPolicy(ctx, "checkout", oncall.Policy{Name: "Checkout", Levels: []oncall.Level{{Targets: []oncall.Target{{User: "dave"}}}}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 9, 30, 0, 123456789, time.UTC)
	checkout := incident.ServiceConfig{
		Name: "checkout", Policy: "checkout", DefaultSeverity: incident.SEV2, AutoResolve: true,
		PagingSeverities: []incident.Severity{incident.SEV1, incident.SEV2},
		Alarms:           []string{"checkout-*", "legacy-cart-5xx"},
		ReportThreshold:  5, ReportWindowMinutes: 15, ReportSeverity: incident.SEV1, UpdatedAt: at,
	}
	api := incident.ServiceConfig{Name: "api", UpdatedAt: at}
	for _, c := range []incident.ServiceConfig{checkout, api} {
		if err := store.PutServiceConfig(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.ServiceConfig(ctx, "checkout")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, checkout) {
		t.Errorf("got %+v,\nwant %+v", got, checkout)
	}

	checkout.AutoResolve = false
	checkout.Alarms = nil
	if err := store.PutServiceConfig(ctx, checkout); err != nil {
		t.Fatal(err)
	}
	all, err := store.ListServiceConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []incident.ServiceConfig{api, checkout}; !reflect.DeepEqual(all, want) {
		t.Errorf("got %+v,\nwant by name %+v", all, want)
	}

	if _, err := store.ServiceConfig(ctx, "missing"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("got %v for a missing service, want errkind.NotFound", err)
	}
}

func TestNoServicesListsEmpty(t *testing.T) {
	all, err := dynamotest.Store(t).ListServiceConfigs(context.Background())
	if err != nil || len(all) != 0 {
		t.Errorf("got %v, %v; want no services", all, err)
	}
}
