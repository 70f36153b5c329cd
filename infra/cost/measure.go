package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/incident"
)

// Measure runs alarm signals through the incident service on DynamoDB Local
// and prints the request units and round trips of each kind, averaged over n:
// an ALARM that opens an incident, another state change of that alarm (a
// join), and a redelivery of a delivery already applied.
func Measure(ctx context.Context, w io.Writer, n int) error {
	p, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer p.Stop()
	db := dynamolocal.Client(p.Endpoint)
	if err := dynamolocal.CreateTable(ctx, db, "cost"); err != nil {
		return err
	}
	m := &dynamolocal.Meter{}
	st := dynamo.New(dynamolocal.Metered(db, m), "cost")
	svc := incident.NewService(st, incident.Rules{})
	signal := func(alarm, delivery string) incident.Signal {
		return incident.Signal{
			Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "cost",
			DedupKey: "alarm:cost:" + alarm, Title: alarm + " in ALARM", Text: "Threshold Crossed",
			At: time.Now(), DeliveryID: delivery, Actor: "alarm:cost",
		}
	}
	kinds := []struct {
		name string
		sig  func(i int) incident.Signal
	}{
		{"open (a new alarm)", func(i int) incident.Signal { return signal(fmt.Sprint("open-", i), fmt.Sprint("open-", i)) }},
		{"join (the same alarm, a new state change)", func(i int) incident.Signal { return signal("open-0", fmt.Sprint("join-", i)) }},
		{"redelivery (a delivery already applied)", func(int) incident.Signal { return signal("open-0", "join-0") }},
	}
	fmt.Fprintf(w, "DynamoDB request units per alarm signal (ReturnConsumedCapacity on DynamoDB Local, mean of %d)\n", n)
	for _, k := range kinds {
		m.Reset()
		for i := range n {
			if _, err := svc.Ingest(ctx, k.sig(i)); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		report(w, m, k.name, n)
	}

	// People's actions on an incident: each on an incident of its own.
	ids := make([]string, n)
	for i := range n {
		res, err := svc.Ingest(ctx, signal(fmt.Sprint("human-", i), fmt.Sprint("human-", i)))
		if err != nil {
			return err
		}
		ids[i] = res.IncidentID
	}
	m.Reset()
	for _, id := range ids {
		if _, err := svc.Acknowledge(ctx, id, "alice"); err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
	}
	report(w, m, "acknowledge", n)
	for _, id := range ids {
		if _, err := svc.Resolve(ctx, id, "alice", incident.Resolution{RootCause: "a bad deploy", Fix: "rolled back"}); err != nil {
			return fmt.Errorf("resolve: %w", err)
		}
	}
	report(w, m, "resolve", n)

	// A deployment as POST /deployments stores it: succeeded, with one change.
	finished := time.Now().UTC().Truncate(time.Second)
	for i := range n {
		r := deploy.Record{ID: fmt.Sprint("deploy-", i), Service: "cost", Environment: "production", Version: "v1.2.3",
			CommitSHA: fmt.Sprintf("%040x", i+1), Status: deploy.Succeeded, StartedAt: finished.Add(-5 * time.Minute), FinishedAt: finished,
			Changes: []deploy.Change{{CommitSHA: fmt.Sprintf("%040x", i+1), PRCreatedAt: finished.Add(-26 * time.Hour), PRMergedAt: finished.Add(-time.Hour)}}}
		if _, _, err := st.PutDeployment(ctx, r); err != nil {
			return fmt.Errorf("put a deployment: %w", err)
		}
	}
	report(w, m, "a deployment (POST /deployments, succeeded)", n)
	return nil
}

func report(w io.Writer, m *dynamolocal.Meter, name string, n int) {
	read, write := m.Units()
	calls := m.Calls()
	m.Reset()
	fmt.Fprintf(w, "  %-44s write units %5.1f   read units %5.1f   round trips %4.1f\n",
		name+":", write/float64(n), read/float64(n), float64(calls)/float64(n))
}
