package logscan

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestServicesOf(t *testing.T) {
	svcs, err := NewServices(map[string]string{
		"API-Gateway-Execution-Logs_a1b2c3/prod": "public-api",
		"/ecs/legacy-*":                          "legacy",
		"/ecs/legacy-billing-*":                  "billing",
		"/aws/lambda/checkout-api":               "checkout",
	}, "platform")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		give string
		want string
	}{
		{"/aws/lambda/checkout-api", "checkout"},                      // exact mapping wins over the convention
		{"API-Gateway-Execution-Logs_a1b2c3/prod", "public-api"},      // exact mapping
		{"/ecs/legacy-web", "legacy"},                                 // prefix
		{"/ecs/legacy-billing-worker", "billing"},                     // longest prefix
		{"/aws/lambda/payments-webhook", "payments-webhook"},          // convention: /aws/<kind>/<name>
		{"/aws/lambda/us-east-1.edge-auth", "edge-auth"},              // Lambda@Edge replica
		{"/aws/ecs/orders", "orders"},                                 // /aws/ecs/<name>
		{"/aws/apprunner/web/1a2b3c/application", "web"},              // /aws/<kind>/<name>/...
		{"/ecs/payments", "payments"},                                 // last segment
		{"/prod/shop/Search_API", "search_api"},                       // lower-cased
		{"/ecs/orders-logs", "orders"},                                // -logs dropped
		{"/app/checkout-staging", "checkout-staging"},                 // environments kept
		{"/ecs/Weird Name!", "weird-name"},                            // invalid characters replaced
		{"/aws/lambda", "platform"},                                   // no name: default
		{"", "platform"},                                              // empty: default
		{"/", "platform"},                                             // no segment
		{"/ecs/---", "platform"},                                      // nothing valid left
		{"/ecs/" + strings.Repeat("a", 100), strings.Repeat("a", 63)}, // cut to 63
	}
	for _, tt := range tests {
		if got := svcs.Of(tt.give); got != tt.want {
			t.Errorf("Of(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestParseServices(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		wantErr bool
	}{
		{"empty", "", false},
		{"object", `{"/ecs/a":"svc-a","/ecs/b*":"svc-b"}`, false},
		{"not json", `/ecs/a=svc-a`, true},
		{"not strings", `{"/ecs/a":1}`, true},
		{"invalid service", `{"/ecs/a":"Not A Service"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseServices(tt.give, "unassigned")
			if (err != nil) != tt.wantErr {
				t.Errorf("ParseServices(%q): got error %v, want error %v", tt.give, err, tt.wantErr)
			}
		})
	}
}

func TestScanFixtures(t *testing.T) {
	svcs, _ := NewServices(nil, "unassigned")
	tests := []struct {
		fixture     string
		wantService string
		wantErrors  int
		// wantTop is the count of the most frequent fingerprint.
		wantTop    int
		wantGroups int
	}{
		{"logs-json-errors.json", "checkout-api", 6, 6, 1},
		{"logs-text-errors.json", "payments", 8, 5, 4},
		{"logs-below-threshold.json", "inventory-sync", 3, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			d, err := Decode(readEvent(t, "../../events/"+tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			b := Scan(d, svcs, 5*time.Minute)
			if b.Service != tt.wantService || b.Errors != tt.wantErrors {
				t.Errorf("got service %q with %d errors, want %q with %d", b.Service, b.Errors, tt.wantService, tt.wantErrors)
			}
			if len(b.Windows) != 1 {
				t.Fatalf("got %d windows, want 1", len(b.Windows))
			}
			w := b.Windows[0]
			if len(w.Groups) != tt.wantGroups || w.Groups[0].Count != tt.wantTop {
				for _, g := range w.Groups {
					t.Logf("group %s ×%d %q", g.Fingerprint, g.Count, g.Template)
				}
				t.Errorf("got %d groups, top ×%d; want %d groups, top ×%d", len(w.Groups), w.Groups[0].Count, tt.wantGroups, tt.wantTop)
			}
			if n := len(w.Groups[0].Samples); n != min(tt.wantTop, maxSamples) {
				t.Errorf("got %d samples, want %d", n, min(tt.wantTop, maxSamples))
			}
		})
	}
}

func TestScanWindowsAndCap(t *testing.T) {
	base := time.Date(2026, 11, 24, 10, 4, 58, 0, time.UTC)
	var evs []events.CloudwatchLogsLogEvent
	add := func(at time.Time, msg string) {
		evs = append(evs, events.CloudwatchLogsLogEvent{ID: "id" + at.Format("150405.000") + msg, Timestamp: at.UnixMilli(), Message: msg})
	}
	add(base, "ERROR disk full on node 1")
	add(base.Add(time.Second), "ERROR disk full on node 2")
	add(base.Add(3*time.Second), "ERROR disk full on node 3") // next window (10:05)
	for i := range MaxFingerprints + 5 {
		add(base.Add(4*time.Second), "ERROR distinct failure "+strings.Repeat("x", i+1))
	}
	svcs, _ := NewServices(nil, "unassigned")
	b := Scan(events.CloudwatchLogsData{MessageType: DataMessage, LogGroup: "/ecs/x", LogStream: "s", LogEvents: evs}, svcs, 5*time.Minute)
	if len(b.Windows) != 2 {
		t.Fatalf("got %d windows, want 2", len(b.Windows))
	}
	if got, want := b.Windows[0].Start, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("first window starts %s, want %s", got, want)
	}
	if g := b.Windows[0].Groups; len(g) != 1 || g[0].Count != 2 || !g[0].First.Equal(base) {
		t.Errorf("first window: got %+v, want one group of 2 from %s", g, base)
	}
	second := b.Windows[1]
	if len(second.Groups) != MaxFingerprints {
		t.Errorf("second window has %d groups, want the cap %d", len(second.Groups), MaxFingerprints)
	}
	if b.DroppedFingerprints != 6 || b.DroppedErrors != 6 {
		t.Errorf("dropped %d fingerprints, %d errors; want 6, 6", b.DroppedFingerprints, b.DroppedErrors)
	}
	// The 10:05 disk-full line is not one of the dropped: groups are kept by count, then order.
	if second.Groups[0].Template != "disk full on node <n>" {
		t.Errorf("second window's first group is %q, want the disk-full one", second.Groups[0].Template)
	}
}

func TestBatchID(t *testing.T) {
	d := events.CloudwatchLogsData{LogGroup: "/ecs/a", LogStream: "s1", LogEvents: []events.CloudwatchLogsLogEvent{{ID: "1"}, {ID: "2"}, {ID: "3"}}}
	same := d
	same.LogEvents = []events.CloudwatchLogsLogEvent{{ID: "1"}, {ID: "9"}, {ID: "3"}}
	otherStream := d
	otherStream.LogStream = "s2"
	otherLast := d
	otherLast.LogEvents = []events.CloudwatchLogsLogEvent{{ID: "1"}, {ID: "2"}}
	if BatchID(d) != BatchID(same) {
		t.Errorf("batches with the same group, stream, first and last ids: got ids %s and %s, want one", BatchID(d), BatchID(same))
	}
	for _, o := range []events.CloudwatchLogsData{otherStream, otherLast} {
		if BatchID(d) == BatchID(o) {
			t.Errorf("different batches got one id %s", BatchID(d))
		}
	}
}

func TestShortDuration(t *testing.T) {
	tests := []struct {
		give time.Duration
		want string
	}{
		{5 * time.Minute, "5m"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{24 * time.Hour, "24h"},
	}
	for _, tt := range tests {
		if got := shortDuration(tt.give); got != tt.want {
			t.Errorf("shortDuration(%s) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
