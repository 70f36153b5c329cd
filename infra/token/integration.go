package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// runIntegration runs `token integration create|list|revoke`: the keys of
// PagerDuty- and Opsgenie-compatible senders (README "PagerDuty- and
// Opsgenie-compatible ingest").
func runIntegration(ctx context.Context, args []string, stdout, stderr io.Writer, open opener, now func() time.Time) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, args := args[0], args[1:]
	fs, table, endpoint := tableFlags("token integration "+cmd, stderr)
	var service, kind, name, id *string
	switch cmd {
	case "create":
		service = fs.String("service", "", "the service whose incidents the key's events open")
		kind = fs.String("kind", "", "pagerduty (a routing_key) or opsgenie (a GenieKey)")
		name = fs.String("name", "", "who sends with it (the actor of its timeline entries); default the service")
	case "list":
	case "revoke":
		id = fs.String("id", "", "the key's id (its first 12 hex digits, as list shows them)")
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown integration command %q\n%s", cmd, usage)
	}
	if help, err := parseTable(fs, args, table, endpoint); help || err != nil {
		return err
	}
	switch cmd {
	case "create":
		k, err := auth.ParseIntegrationKind(*kind)
		if err != nil {
			return fmt.Errorf("--kind: %w", err)
		}
		if err := incident.ValidateServiceName(*service); err != nil {
			return fmt.Errorf("--service: %w", err)
		}
		st, err := open(ctx, *table, *endpoint)
		if err != nil {
			return err
		}
		plain, rec, err := auth.IssueIntegrationKey(ctx, st, k, *service, *name, now())
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, plain)
		fmt.Fprintf(stderr, "created %s integration key %s (name %s, service %s); it is shown only this once\n",
			rec.Kind, rec.ID, rec.Name, rec.Service)
		if _, err := st.ServiceConfig(ctx, rec.Service); errors.Is(err, errkind.NotFound) {
			fmt.Fprintf(stderr, "note: service %s has no settings yet (PUT /services/%s): its incidents take the defaults and page the fallback\n",
				rec.Service, rec.Service)
		}
		return nil
	case "list":
		st, err := open(ctx, *table, *endpoint)
		if err != nil {
			return err
		}
		keys, err := st.IntegrationKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tSERVICE\tNAME\tCREATED\tSTATE")
		for _, k := range keys {
			state := "active"
			if k.Revoked {
				state = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Kind, k.Service, k.Name, k.CreatedAt.UTC().Format(time.RFC3339), state)
		}
		return tw.Flush()
	default:
		if !auth.ValidIntegrationID(*id) {
			return fmt.Errorf("--id %q is not an integration key id (12 hex digits, as list shows)", *id)
		}
		st, err := open(ctx, *table, *endpoint)
		if err != nil {
			return err
		}
		if err := st.RevokeIntegrationKey(ctx, *id, now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked integration key %s\n", *id)
		return nil
	}
}
