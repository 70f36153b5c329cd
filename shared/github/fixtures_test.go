package github

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The events/api-webhook-github-*.json fixtures are deliveries as
// API Gateway hands them to the api function: the body is the compact JSON
// of testdata/<same name> (readable there), signed with fixtureSecret.
// Edit testdata (or the table below) and run
//
//	go test ./shared/github -run TestFixtures -update
//
// to rebuild them. events/*.json is replayed through the function each name
// starts with: the api function's replay (shared/httpapi, infra/local) sets
// the webhook secret to fixtureSecret.
var update = flag.Bool("update", false, "rebuild events/api-webhook-github-*.json from shared/github/testdata")

const (
	fixtureDir    = "../../events"
	fixtureSecret = "fixture-webhook-secret"
)

// fixtureDeliveries are the fixtures: which testdata body, which headers,
// and for the tampered one what changes in the body after signing.
var fixtureDeliveries = []struct {
	name, source, event, delivery string
	tamper                        [2]string // old, new
}{
	{name: "api-webhook-github-pull-request-opened.json", event: "pull_request", delivery: "6f0c9a80-a9c2-11f1-8b7e-1e4d2c3b5a69"},
	{name: "api-webhook-github-pull-request-merged.json", event: "pull_request", delivery: "0d4b8e12-a9c8-11f1-9a3d-7c2e5f1b8d40"},
	{name: "api-webhook-github-deployment-in-progress.json", event: "deployment_status", delivery: "2e7a1f30-a9c9-11f1-8d4c-3a9b6e2f1c57"},
	{name: "api-webhook-github-deployment-success.json", event: "deployment_status", delivery: "5b3c9d64-a9ca-11f1-92f1-8e1d4a7c3b26"},
	{name: "api-webhook-github-deployment-failure.json", event: "deployment_status", delivery: "9a2e4c18-a9f5-11f1-8c6b-2d5f8a1e4b73"},
	{name: "api-webhook-github-ping.json", event: "ping", delivery: "c41f2b06-a6b1-11f1-9e2a-6b3d1f8c5e92"},
	{name: "api-webhook-github-tampered.json", source: "api-webhook-github-pull-request-merged.json", event: "pull_request",
		delivery: "0d4b8e12-a9c8-11f1-9a3d-7c2e5f1b8d40", tamper: [2]string{`"merged_at":"2026-11-24T08:41:09Z"`, `"merged_at":"2026-11-24T08:01:09Z"`}},
}

// fixtureBody is the body GitHub sends for a testdata payload: its compact
// JSON, tampered after signing for the tampered fixture.
func fixtureBody(t testing.TB, source string) []byte {
	t.Helper()
	plain, err := os.ReadFile(filepath.Join("testdata", source))
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, plain); err != nil {
		t.Fatalf("%s: %v", source, err)
	}
	return compact.Bytes()
}

// buildFixture makes the API Gateway event of a delivery.
func buildFixture(t testing.TB, name, source, event, delivery string, tamper [2]string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	body := fixtureBody(t, source)
	sig := Sign(fixtureSecret, body)
	if tamper[0] != "" {
		if !bytes.Contains(body, []byte(tamper[0])) {
			t.Fatalf("%s: %s not in %s", name, tamper[0], source)
		}
		body = bytes.Replace(body, []byte(tamper[0]), []byte(tamper[1]), 1)
	}
	at := time.Date(2026, 11, 24, 8, 41, 10, 0, time.UTC)
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: "/webhooks/github",
		Headers: map[string]string{
			"accept":                                 "*/*",
			"content-length":                         strconv.Itoa(len(body)),
			"content-type":                           "application/json",
			"host":                                   "abc123defg.execute-api.eu-central-1.amazonaws.com",
			"user-agent":                             "GitHub-Hookshot/8e0a5c3",
			"x-amzn-trace-id":                        "Root=1-6742e6a6-0000000000000000003c91d2",
			"x-forwarded-for":                        "140.82.115.54",
			"x-forwarded-port":                       "443",
			"x-forwarded-proto":                      "https",
			"x-github-delivery":                      delivery,
			"x-github-event":                         event,
			"x-github-hook-id":                       "512341234",
			"x-github-hook-installation-target-id":   "771234567",
			"x-github-hook-installation-target-type": "repository",
			"x-hub-signature-256":                    sig,
		},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "123456789012", APIID: "abc123defg", DomainName: "abc123defg.execute-api.eu-central-1.amazonaws.com",
			DomainPrefix: "abc123defg", RequestID: "bQ7" + strings.ToUpper(delivery[:8]) + "=", RouteKey: "$default", Stage: "$default",
			Time: at.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: http.MethodPost, Path: "/webhooks/github", Protocol: "HTTP/1.1", SourceIP: "140.82.115.54", UserAgent: "GitHub-Hookshot/8e0a5c3",
			},
		},
		Body: string(body),
	}
}

// readFixture reads a fixture: its headers and raw body.
func readFixture(t testing.TB, name string) (http.Header, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if ev.IsBase64Encoded {
		t.Fatalf("%s: want a plain JSON body", name)
	}
	h := http.Header{}
	for k, v := range ev.Headers {
		h[k] = []string{v}
	}
	return h, []byte(ev.Body)
}

func TestFixturesMatchTestdata(t *testing.T) {
	for _, fx := range fixtureDeliveries {
		t.Run(fx.name, func(t *testing.T) {
			source := fx.source
			if source == "" {
				source = fx.name
			}
			want := buildFixture(t, fx.name, source, fx.event, fx.delivery, fx.tamper)
			path := filepath.Join(fixtureDir, fx.name)
			if *update {
				out := fixtureJSON(t, want)
				if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			header, body := readFixture(t, fx.name)
			if string(body) != want.Body {
				t.Errorf("%s: body differs from testdata/%s (run with -update after editing testdata)", path, source)
			}
			err := Verify(fixtureSecret, header, body)
			if wantErr := fx.tamper[0] != ""; (err != nil) != wantErr {
				t.Errorf("Verify: got %v, want an error: %v", err, wantErr)
			}
			if got := headerValues(header, HeaderEvent); len(got) != 1 || got[0] != fx.event {
				t.Errorf("event: got %q, want %q", got, fx.event)
			}
		})
	}
}

// Every fixture in events/ named api-webhook-github-* is in the table.
func TestFixturesListed(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "api-webhook-github-*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures (err %v)", err)
	}
	listed := map[string]bool{}
	for _, fx := range fixtureDeliveries {
		listed[fx.name] = true
	}
	for _, p := range paths {
		if !listed[filepath.Base(p)] {
			t.Errorf("%s is not in fixtureDeliveries", p)
		}
	}
	if len(paths) != len(fixtureDeliveries) {
		t.Errorf("got %d fixtures, want %d (run with -update)", len(paths), len(fixtureDeliveries))
	}
}

// fixtureJSON writes an event as API Gateway sends it: without the empty
// mutual-TLS block aws-lambda-go's type always marshals.
func fixtureJSON(t testing.TB, ev events.APIGatewayV2HTTPRequest) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m["requestContext"].(map[string]any), "authentication")
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
