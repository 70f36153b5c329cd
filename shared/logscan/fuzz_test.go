package logscan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/incident"
)

// Run each for a while with e.g.
//
//	go test ./shared/logscan -run '^$' -fuzz '^FuzzDecode$' -fuzztime 60s

// fixtureEvents returns the events/logs-*.json fixtures.
func fixtureEvents(f *testing.F) []events.CloudwatchLogsEvent {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join(eventsDir, "logs-*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no logs fixtures (err %v)", err)
	}
	var out []events.CloudwatchLogsEvent
	for _, p := range paths {
		out = append(out, readEvent(f, p))
	}
	return out
}

// checkBatch asserts what must hold of any scanned batch.
func checkBatch(t *testing.T, d events.CloudwatchLogsData, b Batch) {
	t.Helper()
	if b.Lines != len(d.LogEvents) || b.Errors > b.Lines || b.Errors < 0 {
		t.Fatalf("batch of %d events: lines %d, errors %d", len(d.LogEvents), b.Lines, b.Errors)
	}
	if err := incident.ValidateServiceName(b.Service); err != nil {
		t.Fatalf("service of %q: %v", d.LogGroup, err)
	}
	if len(b.ID) != 32 {
		t.Fatalf("batch id %q is not 32 hex digits", b.ID)
	}
	counted := b.DroppedErrors
	for i, w := range b.Windows {
		if i > 0 && !b.Windows[i-1].Start.Before(w.Start) {
			t.Fatalf("windows out of order: %s then %s", b.Windows[i-1].Start, w.Start)
		}
		if len(w.Groups) == 0 || len(w.Groups) > MaxFingerprints {
			t.Fatalf("window %s has %d groups", w.Start, len(w.Groups))
		}
		seen := map[string]bool{}
		for _, g := range w.Groups {
			if g.Count < 1 || len(g.Samples) < 1 || len(g.Samples) > maxSamples || seen[g.Fingerprint] {
				t.Fatalf("group %+v", g)
			}
			seen[g.Fingerprint] = true
			if g.First.Before(w.Start) || !g.First.Before(w.Start.Add(5*time.Minute)) {
				t.Fatalf("group's first error %s outside its window %s", g.First, w.Start)
			}
			counted += g.Count
		}
	}
	if counted != b.Errors {
		t.Fatalf("groups count %d errors, batch %d", counted, b.Errors)
	}
}

func FuzzDecode(f *testing.F) {
	for _, ev := range fixtureEvents(f) {
		f.Add(ev.AWSLogs.Data)
	}
	f.Add("")
	f.Add("H4sIAAAAAAAA/w==")
	f.Add("not base64 at all")
	svcs, _ := NewServices(map[string]string{"/ecs/x*": "x"}, "unassigned")
	f.Fuzz(func(t *testing.T, data string) {
		d, err := Decode(event(data))
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error %v is not ErrBadPayload", err)
			}
			return
		}
		switch d.MessageType {
		case ControlMessage:
			return
		case DataMessage:
			if d.LogGroup == "" {
				t.Fatal("data message without log group accepted")
			}
		default:
			t.Fatalf("message type %q accepted", d.MessageType)
		}
		checkBatch(t, d, Scan(d, svcs, 5*time.Minute))
	})
}

// FuzzScanBatch packs its input as CloudWatch Logs does, so that the fuzzer
// explores the JSON batch rather than the gzip layer.
func FuzzScanBatch(f *testing.F) {
	paths, _ := filepath.Glob("testdata/logs-*.json")
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logGroup":"/aws/lambda/a","logEvents":[{"id":"1","timestamp":-5,"message":"ERROR x"},{"id":"2","timestamp":9223372036854775807,"message":"ERROR x"}]}`))
	svcs, _ := NewServices(nil, "unassigned")
	f.Fuzz(func(t *testing.T, plain []byte) {
		d, err := Decode(event(b64(gzipped(t, string(plain)))))
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error %v is not ErrBadPayload", err)
			}
			return
		}
		if d.MessageType == DataMessage {
			checkBatch(t, d, Scan(d, svcs, 5*time.Minute))
		}
	})
}

func FuzzClassify(f *testing.F) {
	for _, ev := range fixtureEvents(f) {
		d, err := Decode(ev)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range d.LogEvents {
			f.Add(e.Message)
		}
	}
	for _, s := range []string{
		`{"level":50,"msg":"x"}`, `{"log":{"level":"error"}}`, `status=503`, `panic: x`,
		"Traceback (most recent call last):\nKeyError: 'a'", `{"status":"599"}`, `E0102 15:04:05 x`,
		`1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 502 0`, "{\"level\":\"error\",\"msg\":\"\xff\"}",
		`ERROR_COUNT=0`, `user clicked 'Report ERROR'`, `charge of 12.50 for ord_8f7a6b failed`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		l := Classify(msg)
		if l.Error && l.Reason == "" {
			t.Fatalf("error without a reason: %+v", l)
		}
		if l.Status != 0 && (!l.Error || l.Status < 500 || l.Status > 599) {
			t.Fatalf("status %d on %+v", l.Status, l)
		}
		if again := Classify(msg); again != l {
			t.Fatalf("Classify is not deterministic: %+v then %+v", l, again)
		}
		key, tmpl := Fingerprint(l)
		if len(key) != 16 || strings.Trim(key, "0123456789abcdef") != "" {
			t.Fatalf("key %q is not 16 hex digits", key)
		}
		if tmpl == "" || len(tmpl) > maxTemplate+len("…") || !utf8.ValidString(tmpl) || strings.ContainsAny(tmpl, "\n\r\t") {
			t.Fatalf("template %q", tmpl)
		}
		if k2, t2 := Fingerprint(Classify(msg)); k2 != key || t2 != tmpl {
			t.Fatalf("Fingerprint is not deterministic: %s %q then %s %q", key, tmpl, k2, t2)
		}
	})
}

func FuzzServicesOf(f *testing.F) {
	for _, s := range []string{"/aws/lambda/checkout", "/ecs/payments", "", "/", "/aws/lambda/us-east-1.x", "API-Gateway-Execution-Logs_abc/prod", "/a/B c!"} {
		f.Add(s)
	}
	svcs, _ := NewServices(map[string]string{"/ecs/legacy-*": "legacy"}, "unassigned")
	f.Fuzz(func(t *testing.T, group string) {
		if err := incident.ValidateServiceName(svcs.Of(group)); err != nil {
			t.Fatalf("Of(%q) = %q: %v", group, svcs.Of(group), err)
		}
	})
}
