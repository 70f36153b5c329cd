package deployevents

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/errkind"
)

// Run with: go test -run='^$' -fuzz=FuzzParse -fuzztime=60s ./shared/deployevents

// FuzzParse feeds EventBridge events, seeded from the fixtures: each is a
// valid record with an id of its source, ignored, or Invalid; never a panic
// or another error; and the same event parses the same again.
func FuzzParse(f *testing.F) {
	for _, name := range fixtures(f) {
		b, err := os.ReadFile(filepath.Join(fixtureDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"detail-type":"CodeDeploy Deployment State-change Notification","time":"2026-11-24T13:05:00Z","resources":["checkout"],"detail":{"deploymentId":"d-1","state":"STOP","application":"checkout"}}`))
	services := deploy.StaticServices{"payments-pipeline": {Service: "payments"}, "checkout": {Service: "checkout", Environment: "staging"}}
	for k, v := range fixtureServices {
		services[k] = v
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.CloudWatchEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		r, err := Parse(context.Background(), ev, services)
		if err != nil {
			if !errors.Is(err, deploy.ErrIgnored) && !errors.Is(err, errkind.Invalid) {
				t.Fatalf("got error %v, want ignored or Invalid", err)
			}
			return
		}
		if !strings.HasPrefix(r.ID, PipelineIDPrefix) && !strings.HasPrefix(r.ID, CodeDeployIDPrefix) {
			t.Fatalf("got id %q", r.ID)
		}
		if v, err := deploy.Validate(r); err != nil || !v.Equal(r) {
			t.Fatalf("record %+v is not valid as it is: %+v, %v", r, v, err)
		}
		again, err := Parse(context.Background(), ev, services)
		if err != nil || !again.Equal(r) {
			t.Fatalf("second parse: got %+v, %v; want %+v", again, err, r)
		}
	})
}
