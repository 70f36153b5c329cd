package logscan

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The events/logs-*.json fixtures carry their batch as CloudWatch Logs sends it:
// base64 of gzip of JSON, unreadable. testdata/logs-*.json holds the same batch
// as JSON; edit it and run
//
//	go test ./shared/logscan -run TestFixtures -update
//
// to rebuild the fixtures.
var update = flag.Bool("update", false, "rebuild events/logs-*.json from shared/logscan/testdata/logs-*.json")

const eventsDir = "../../events"

// encodeBatch packs a batch's JSON the way CloudWatch Logs does.
func encodeBatch(t *testing.T, plain []byte) string {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, plain); err != nil {
		t.Fatalf("compact batch: %v", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(compact.Bytes()); err != nil {
		t.Fatalf("gzip batch: %v", err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("gzip batch: %v", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// readEvent reads a subscription event fixture.
func readEvent(t testing.TB, path string) events.CloudwatchLogsEvent {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var ev events.CloudwatchLogsEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("fixture %s is not a CloudWatch Logs event: %v", path, err)
	}
	return ev
}

func jsonMeaning(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return v
}

func TestFixturesDecodeToTestdata(t *testing.T) {
	sources, err := filepath.Glob("testdata/logs-*.json")
	if err != nil || len(sources) == 0 {
		t.Fatalf("no testdata/logs-*.json (err %v)", err)
	}
	for _, src := range sources {
		name := filepath.Base(src)
		t.Run(name, func(t *testing.T) {
			plain, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			fixture := filepath.Join(eventsDir, name)
			if *update {
				ev := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: encodeBatch(t, plain)}}
				out, err := json.MarshalIndent(ev, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(fixture, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d, err := Decode(readEvent(t, fixture))
			if err != nil {
				t.Fatalf("Decode(%s): %v", fixture, err)
			}
			got, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := jsonMeaning(t, got), jsonMeaning(t, plain); !reflect.DeepEqual(g, w) {
				t.Errorf("%s decodes to\n%s\nwant the batch of %s (run with -update after editing testdata)", fixture, got, src)
			}
			// The library's own parser must agree with ours.
			lib, err := readEvent(t, fixture).AWSLogs.Parse()
			if err != nil {
				t.Fatalf("AWSLogs.Parse(%s): %v", fixture, err)
			}
			if !reflect.DeepEqual(lib, d) {
				t.Errorf("AWSLogs.Parse gives %+v, Decode %+v", lib, d)
			}
		})
	}
}

// Every logs fixture has its readable source.
func TestFixturesHaveTestdata(t *testing.T) {
	fixtures, err := filepath.Glob(filepath.Join(eventsDir, "logs-*.json"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no events/logs-*.json (err %v)", err)
	}
	for _, f := range fixtures {
		if _, err := os.Stat(filepath.Join("testdata", filepath.Base(f))); err != nil {
			t.Errorf("%s has no testdata/%s: %v", f, filepath.Base(f), err)
		}
		if !strings.HasPrefix(filepath.Base(f), "logs-") {
			t.Errorf("%s: logs fixtures are named logs-*.json", f)
		}
	}
}
