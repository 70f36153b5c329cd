package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/alarms"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

// The surges `make bench` measures, on the local platform as `make local` wires
// it, through its HTTP API served on 127.0.0.1 (and the alarms function).
const (
	surgeReports = 200  // reports on one service in BenchmarkReportSurge
	surgeSenders = 32   // concurrent senders of the report surge and of the storm
	stormSignals = 2000 // ALARM deliveries of one alarm in BenchmarkAcknowledgeDuringStorm
)

// benchPlatform starts the local platform on a table of its own, its API served
// on an httptest server (127.0.0.1), pages discarded.
func benchPlatform(b *testing.B) (*platform, *httptest.Server, *http.Client) {
	b.Helper()
	table := fmt.Sprintf("surge-%d-%d", os.Getpid(), tableSeq.Add(1))
	getenv := func(k string) string {
		if k == "TABLE_NAME" {
			return table
		}
		return ""
	}
	p, err := newPlatform(context.Background(), dynamotest.Endpoint(b),
		getenv, slog.New(slog.NewJSONHandler(io.Discard, nil)), withPager(&pageRecorder{}))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(p.api)
	b.Cleanup(func() { srv.Close(); p.close() })
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * surgeSenders}}
	return p, srv, client
}

// post sends body to the API and returns the status and the answer.
func post(client *http.Client, url, token, key string, body any) (int, []byte, error) {
	j, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(j))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// quantiles returns p50, p99 and max of d in milliseconds.
func quantiles(d []time.Duration) (p50, p99, most float64) {
	s := slices.Clone(d)
	slices.Sort(s)
	q := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))]) / float64(time.Millisecond)
	}
	return q(0.50), q(0.99), float64(s[len(s)-1]) / float64(time.Millisecond)
}

// BenchmarkReportSurge sends 200 reports on one service (checkout) from 32
// concurrent senders, each sender a reporter of its own and each report with
// an Idempotency-Key of its own, to POST /reports of the local platform, and
// reports how many were accepted (202), their latency (p50/p99/max) and how
// many incidents they opened (want 1). With SURGE_TRACE set (and -v) it logs
// each report's start and latency. `make bench` runs it:
//
//	go test -run '^$' -bench ReportSurge -benchtime 1x ./infra/local
func BenchmarkReportSurge(b *testing.B) {
	p, srv, client := benchPlatform(b)
	// Warm up the emulator's JIT and the connection pool with a smaller surge
	// on another service, from as many senders.
	var warm sync.WaitGroup
	var warmErr atomic.Value
	for w := range surgeSenders {
		warm.Go(func() {
			for i := range 3 {
				code, out, err := post(client, srv.URL+"/reports", p.token, fmt.Sprintf("warm-%d-%d", w, i),
					map[string]any{"service": "payments", "summary": "warm-up", "reporter": map[string]string{"name": fmt.Sprintf("warm %d", w)}})
				if err != nil || code != http.StatusAccepted {
					warmErr.Store(fmt.Sprintf("warm-up report: %d %s %v", code, out, err))
				}
			}
		})
	}
	warm.Wait()
	if msg := warmErr.Load(); msg != nil {
		b.Fatal(msg)
	}
	var lat []time.Duration
	var accepted, other atomic.Int64
	statuses := sync.Map{}
	incidents := sync.Map{}
	var elapsed time.Duration
	for b.Loop() {
		jobs := make(chan int)
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for w := range surgeSenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					body := map[string]any{
						"service": "checkout", "summary": fmt.Sprintf("checkout fails (%d)", i),
						"reporter": map[string]string{"name": fmt.Sprintf("sender %d", w), "email": fmt.Sprintf("sender-%d@example.com", w)},
					}
					t := time.Now()
					code, out, err := post(client, srv.URL+"/reports", p.token, fmt.Sprintf("surge-%d-%d", b.N, i), body)
					d := time.Since(t)
					mu.Lock()
					lat = append(lat, d)
					if os.Getenv("SURGE_TRACE") != "" {
						b.Logf("report %3d: started at %6.1f ms, took %6.1f ms", i, float64(t.Sub(start))/1e6, float64(d)/1e6)
					}
					mu.Unlock()
					if err != nil {
						code = -1
					}
					if code != http.StatusAccepted {
						other.Add(1)
						statuses.LoadOrStore(code, string(out))
						continue
					}
					accepted.Add(1)
					var res struct {
						IncidentID string `json:"incident_id"`
					}
					if json.Unmarshal(out, &res) == nil {
						incidents.Store(res.IncidentID, true)
					}
				}
			}()
		}
		for i := range surgeReports {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		elapsed += time.Since(start)
	}
	statuses.Range(func(k, v any) bool {
		b.Logf("status %v: %s", k, v)
		return true
	})
	n := 0
	incidents.Range(func(any, any) bool { n++; return true })
	p50, p99, most := quantiles(lat)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(len(lat)), "reports")
	b.ReportMetric(float64(accepted.Load()), "accepted")
	b.ReportMetric(float64(other.Load()), "refused")
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(most, "max-ms")
	b.ReportMetric(float64(n), "incidents")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "reports/s")
	b.ReportMetric(surgeSenders, "senders")
}

// alarmSender returns a function that gives the platform's alarms function
// the SNS notification of events/alarms-sns-metric.json for alarm name: its
// state changed seq milliseconds after the fixture's, and the message id is
// made of msg.
func alarmSender(b *testing.B, p *platform) func(name string, seq, msg int) (alarms.Response, error) {
	b.Helper()
	fixture, err := os.ReadFile("../../events/alarms-sns-metric.json")
	if err != nil {
		b.Fatal(err)
	}
	alarm := p.functions["alarms"]
	base := time.Date(2026, 11, 23, 9, 15, 42, 518e6, time.UTC)
	return func(name string, seq, msg int) (alarms.Response, error) {
		at := base.Add(time.Duration(seq) * time.Millisecond).Format("2006-01-02T15:04:05.000-0700")
		event := strings.ReplaceAll(string(fixture), "checkout-cpu", name)
		event = strings.ReplaceAll(event, "2026-11-23T09:15:42.518+0000", at)
		event = strings.ReplaceAll(event, "3f4c2a1e-7b8d-5e9f-a0b1-c2d3e4f5a6b7", fmt.Sprintf("00000000-0000-4000-8000-%012d", msg))
		var resp alarms.Response
		out, err := alarm(context.Background(), []byte(event))
		if err != nil {
			return resp, err
		}
		return resp, json.Unmarshal(out, &resp)
	}
}

// BenchmarkAcknowledgeDuringStorm opens a checkout incident with an ALARM, then
// sends 2,000 more ALARM deliveries of that alarm (each a state change of its
// own, so each is appended, none a duplicate delivery) from 32 concurrent
// senders to the alarms function, and, once half of them are in, acknowledges
// the incident through POST /incidents/{id}/acknowledge: it reports the
// acknowledgement's latency and the storm's throughput.
//
//	go test -run '^$' -bench AcknowledgeDuringStorm -benchtime 1x ./infra/local
func BenchmarkAcknowledgeDuringStorm(b *testing.B) {
	p, srv, client := benchPlatform(b)
	sendAs := alarmSender(b, p)
	send := func(name string, seq int) (alarms.Response, error) { return sendAs(name, seq, seq) }
	// Warm up on other alarms.
	for i := range 20 {
		if _, err := send(fmt.Sprintf("checkout-warm-%d", i), i); err != nil {
			b.Fatal(err)
		}
	}
	var ackLat []time.Duration
	var stormLat []time.Duration
	var elapsed time.Duration
	run := 0
	for b.Loop() {
		run++
		name := fmt.Sprintf("checkout-storm-%d", run)
		first, err := send(name, 0)
		if err != nil || len(first.Items) != 1 || first.Items[0].IncidentID == "" {
			b.Fatalf("first ALARM: %+v %v", first, err)
		}
		id := first.Items[0].IncidentID
		jobs := make(chan int)
		var mu sync.Mutex
		var wg sync.WaitGroup
		var done atomic.Int64
		half := make(chan struct{})
		var errs atomic.Int64
		start := time.Now()
		for range surgeSenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					t := time.Now()
					resp, err := send(name, i)
					d := time.Since(t)
					if err != nil || len(resp.Items) != 1 || resp.Items[0].IncidentID != id {
						errs.Add(1)
					}
					mu.Lock()
					stormLat = append(stormLat, d)
					mu.Unlock()
					if done.Add(1) == stormSignals/2 {
						close(half)
					}
				}
			}()
		}
		ackDone := make(chan struct{})
		go func() {
			defer close(ackDone)
			<-half
			t := time.Now()
			code, out, err := post(client, srv.URL+"/incidents/"+id+"/acknowledge", p.token, "", map[string]any{})
			d := time.Since(t)
			if err != nil || code != http.StatusOK {
				b.Errorf("acknowledge during the storm: %d %s %v", code, out, err)
			}
			mu.Lock()
			ackLat = append(ackLat, d)
			mu.Unlock()
		}()
		for i := 1; i <= stormSignals; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		elapsed += time.Since(start)
		<-ackDone
		if n := errs.Load(); n > 0 {
			b.Fatalf("%d of %d storm signals failed or went to another incident", n, stormSignals)
		}
	}
	p50, p99, most := quantiles(stormLat)
	ackP50, _, ackMax := quantiles(ackLat)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ackP50, "ack-ms")
	b.ReportMetric(ackMax, "ack-max-ms")
	b.ReportMetric(float64(len(ackLat)), "acks")
	b.ReportMetric(float64(len(stormLat))/elapsed.Seconds(), "signals/s")
	b.ReportMetric(float64(len(stormLat)), "signals")
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(most, "max-ms")
	b.ReportMetric(surgeSenders, "senders")
}
