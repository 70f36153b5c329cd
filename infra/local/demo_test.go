package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/infra/tour"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

// `make demo` against `make local`: the tour (infra/tour, what infra/demo
// runs) walks an incident from an alarm storm to its post-mortem and DORA
// summary on the local platform and observes every step; run twice on the
// same platform (a second `make demo`), it passes again. Each run prints
// every step, the post-mortem with its root cause, and the DORA summary.
func TestDemo(t *testing.T) {
	p, api, invoke := startLocal(t, nil)
	root, err := dynamolocal.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []string{"first", "second"} {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		err := tour.Run(ctx, tour.Config{
			API: api.URL, Invoke: invoke.URL, Token: p.token, Events: filepath.Join(root, "events"),
			Out: &out, Run: "test-" + run, Wait: 20 * time.Second,
		})
		cancel()
		if err != nil {
			t.Fatalf("%s run: got %v, want every step observed; output:\n%s", run, err, out.String())
		}
		got := out.String()
		t.Logf("%s run:\n%s", run, got)
		for i, step := range tour.Steps {
			if want := stepLine(i+1, step); !strings.Contains(got, want) {
				t.Errorf("%s run: no line %q; output:\n%s", run, want, got)
			}
		}
		for _, want := range []string{
			"→ 1 incident ", "paged", "(level 2", "SEV4 → SEV4 → SEV2", "partial_outage", "operational",
			"## Root cause", "Deploy 1.5.0 shrank the database connection pool", "change failure rate", "demo passed",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s run: output lacks %q:\n%s", run, want, got)
			}
		}
	}
}

// stepLine is how the tour starts a step's line: its number and name.
func stepLine(n int, step string) string { return fmt.Sprintf("%2d %s ", n, step) }

// A step whose outcome does not come is named with what was seen instead:
// with no on-call policy able to page (a platform whose escalations are
// off), the tour stops at the level-1 page.
func TestDemoNamesTheStepNotObserved(t *testing.T) {
	p, api, invoke := startLocal(t, nil, withStartFault(func(string) error { return errors.New("escalations off") }))
	root, err := dynamolocal.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = tour.Run(context.Background(), tour.Config{
		API: api.URL, Invoke: invoke.URL, Token: p.token, Events: filepath.Join(root, "events"),
		Out: &out, Run: "test-missing", Wait: 2 * time.Second,
	})
	var missing *tour.NotObserved
	if !errors.As(err, &missing) || missing.Step != "level-1 page" || !strings.Contains(missing.Saw, "no page on the timeline") {
		t.Fatalf("got %v, want the level-1 page not observed, with no page seen; output:\n%s", err, out.String())
	}
}
