package github

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/text"
)

// Run one with: go test -run='^$' -fuzz=FuzzParse -fuzztime=60s ./shared/github

// FuzzVerify: only the signature Sign makes verifies; anything else is an
// ErrUnauthenticated, never a panic.
func FuzzVerify(f *testing.F) {
	f.Add(docSecret, docSignature, []byte(docPayload))
	f.Add(docSecret, "sha256=", []byte(""))
	f.Add("s", "sha256=zz", []byte("{}"))
	f.Fuzz(func(t *testing.T, secret, signature string, body []byte) {
		err := Verify(secret, http.Header{"x-hub-signature-256": {signature}}, body)
		if err == nil {
			if secret == "" || !strings.EqualFold(strings.TrimSpace(signature), Sign(secret, body)) {
				t.Fatalf("accepted signature %q for secret %q", signature, secret)
			}
			return
		}
		if !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("got %v, want an ErrUnauthenticated", err)
		}
		if secret != "" && Verify(secret, http.Header{"X-Hub-Signature-256": {Sign(secret, body)}}, body) != nil {
			t.Fatal("refused its own signature")
		}
	})
}

// FuzzParse feeds deliveries seeded from the fixtures: a delivery records a
// valid deployment or pull request, is ignored, or is Invalid; never a
// panic or another error.
func FuzzParse(f *testing.F) {
	for _, fx := range fixtureDeliveries {
		header, body := readFixture(f, fx.name)
		f.Add(headerValues(header, HeaderEvent)[0], body)
	}
	f.Add("deployment_status", []byte(`{"deployment_status":{"state":"error","created_at":"2026-11-24T08:55:02Z"},"deployment":{"id":"12","environment":"Prod","created_at":"2026-11-24T09:55:02Z"},"repository":{"full_name":"acme/search"}}`))
	services := deploy.StaticServices{"acme/search": {Service: "search"}, "acme/search@staging": {Service: "search", Environment: "staging"}}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		h := http.Header{}
		h.Set(HeaderEvent, event)
		h.Set(HeaderDelivery, "6f0c9a80-a9c2-11f1-8b7e-1e4d2c3b5a69")
		d, err := Parse(context.Background(), h, body, services)
		if err != nil {
			if !errors.Is(err, deploy.ErrIgnored) && !errors.Is(err, errkind.Invalid) {
				t.Fatalf("got error %v, want ignored or Invalid", err)
			}
			if d.Deployment != nil || d.PullRequest != nil {
				t.Fatalf("got %+v with error %v", d, err)
			}
			return
		}
		if text.Clean(d.Repository) != d.Repository || text.Clean(d.Action) != d.Action {
			t.Fatalf("got repository %q, action %q: not clean", d.Repository, d.Action)
		}
		if d.ID == "" || (d.Deployment == nil) == (d.PullRequest == nil) {
			t.Fatalf("got %+v, want an id and exactly one of deployment and pull request", d)
		}
		if r := d.Deployment; r != nil {
			if v, err := deploy.Validate(*r); err != nil || !v.Equal(*r) || !strings.HasPrefix(r.ID, DeploymentIDPrefix) {
				t.Fatalf("deployment %+v is not valid as it is: %v", *r, err)
			}
		}
		if pr := d.PullRequest; pr != nil {
			if c, err := deploy.ValidateChange(pr.Change); err != nil || c != pr.Change || pr.Change.PRCreatedAt.IsZero() || pr.Merged != (pr.Change.CommitSHA != "") {
				t.Fatalf("pull request %+v: %v", *pr, err)
			}
		}
	})
}
