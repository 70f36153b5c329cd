package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stormNotifications is how many SNS notifications of one alarm
// BenchmarkNotificationStorm sends: each state change twice (as an alarm with
// an SNS action and an EventBridge rule delivers it), so half of them are
// distinct deliveries.
const stormNotifications = 10_000

// BenchmarkNotificationStorm opens a checkout incident with an ALARM, then
// sends 10,000 SNS notifications of that alarm from 32 concurrent senders to
// the alarms function of the local platform: 5,000 state changes, each
// delivered twice under two message ids. It reports their throughput and
// latency, how many incidents and escalations they made (want 1 and 1), and,
// once the table's stream caught up (the stream function folds the pending
// signals in), the incident's signal_count (want the distinct deliveries,
// 5,001) and how long after the last notification it got there.
//
//	go test -run '^$' -bench NotificationStorm -benchtime 1x ./infra/local
func BenchmarkNotificationStorm(b *testing.B) {
	p, srv, client := benchPlatform(b)
	send := alarmSender(b, p)
	for i := range 20 { // warm up on other alarms
		if _, err := send(fmt.Sprintf("checkout-warm-%d", i), i, i); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	var elapsed, catchUp time.Duration
	var incidents, escalations, count int
	run := 0
	for b.Loop() {
		run++
		name := fmt.Sprintf("checkout-burst-%d", run)
		first, err := send(name, 0, 0)
		if err != nil || len(first.Items) != 1 || first.Items[0].IncidentID == "" {
			b.Fatalf("first ALARM: %+v %v", first, err)
		}
		id := first.Items[0].IncidentID
		ids := sync.Map{}
		ids.Store(id, true)
		var errs atomic.Int64
		var mu sync.Mutex
		jobs := make(chan int)
		var wg sync.WaitGroup
		start := time.Now()
		for range surgeSenders {
			wg.Go(func() {
				for i := range jobs {
					t := time.Now()
					resp, err := send(name, i/2+1, 1_000_000+i)
					d := time.Since(t)
					if err != nil || len(resp.Items) != 1 || resp.Items[0].IncidentID == "" {
						errs.Add(1)
					} else {
						ids.Store(resp.Items[0].IncidentID, true)
					}
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			})
		}
		for i := range stormNotifications {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		end := time.Now()
		elapsed += end.Sub(start)
		if n := errs.Load(); n > 0 {
			b.Fatalf("%d of %d notifications failed", n, stormNotifications)
		}
		want := stormNotifications/2 + 1
		for count = 0; count != want && time.Since(end) < 2*time.Minute; time.Sleep(50 * time.Millisecond) {
			if count, err = signalCount(client, srv.URL, p.token, id); err != nil {
				b.Fatal(err)
			}
		}
		catchUp += time.Since(end)
		incidents = 0
		ids.Range(func(any, any) bool { incidents++; return true })
		escalations = p.executions(id)
	}
	p50, p99, most := quantiles(lat)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(stormNotifications, "notifications")
	b.ReportMetric(stormNotifications/2+1, "deliveries")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "notifications/s")
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(most, "max-ms")
	b.ReportMetric(float64(incidents), "incidents")
	b.ReportMetric(float64(escalations), "escalations")
	b.ReportMetric(float64(count), "signal-count")
	b.ReportMetric(float64(catchUp.Milliseconds())/float64(run), "catch-up-ms")
	b.ReportMetric(surgeSenders, "senders")
}

// signalCount reads the incident's signal_count through the API.
func signalCount(client *http.Client, url, token, id string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url+"/incidents/"+id, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var inc struct {
		SignalCount int `json:"signal_count"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /incidents/%s: %s", id, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&inc); err != nil {
		return 0, fmt.Errorf("GET /incidents/%s: %w", id, err)
	}
	return inc.SignalCount, nil
}
