// Command bench measures the platform against DynamoDB Local and prints figures:
// signal → incident latency (p50/p99), duplicate-signal throughput, and the size
// of each function's Lambda bootstrap. `make bench` runs it after `make build`.
// It only talks to 127.0.0.1 and its loops are bounded in count.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/incident"
)

func main() {
	n := flag.Int("n", 300, "signals per latency measurement")
	dups := flag.Int("dups", 2000, "duplicate signals for the throughput measurement")
	workers := flag.Int("workers", 32, "concurrent senders of duplicate signals")
	build := flag.String("build", ".build", "folder holding <function>/bootstrap")
	flag.Parse()
	if err := run(*n, *dups, *workers, *build); err != nil {
		log.Fatal(err)
	}
}

func run(n, dups, workers int, buildDir string) error {
	ctx := context.Background()
	// The tests run the emulator with a light JIT to save CPU; figures of
	// steady state want the JVM's full JIT, unless the caller chose otherwise.
	if _, ok := os.LookupEnv("DYNAMODB_LOCAL_JAVA_OPTS"); !ok {
		os.Setenv("DYNAMODB_LOCAL_JAVA_OPTS", "")
	}
	p, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer p.Stop()
	db := dynamolocal.Client(p.Endpoint)
	if err := dynamolocal.CreateTable(ctx, db, "bench"); err != nil {
		return err
	}
	svc := incident.NewService(dynamo.New(db, "bench"), incident.Rules{})
	fmt.Printf("DynamoDB Local at %s (in memory)\n\n", p.Endpoint)

	// Warm up the JVM and connection pool so the figures show steady state.
	for i := range 50 {
		if _, err := svc.Ingest(ctx, signal(fmt.Sprintf("warmup-%d", i), "")); err != nil {
			return err
		}
	}

	fmt.Println("signal → incident latency (sequential, one sender)")
	open := make([]time.Duration, 0, n)
	for i := range n {
		t := time.Now()
		if _, err := svc.Ingest(ctx, signal(fmt.Sprintf("open-%d", i), "")); err != nil {
			return err
		}
		open = append(open, time.Since(t))
	}
	printLatency("  opens a new incident", open)
	appendL := make([]time.Duration, 0, n)
	for i := range n {
		t := time.Now()
		if _, err := svc.Ingest(ctx, signal("append", fmt.Sprintf("append-%d", i))); err != nil {
			return err
		}
		appendL = append(appendL, time.Since(t))
	}
	printLatency("  joins an open incident", appendL)

	fmt.Printf("\nduplicate signals for one alarm (%d signals, %d concurrent senders)\n", dups, workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]int{}
	var firstErr error
	jobs := make(chan int)
	lat := make([]time.Duration, dups)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t := time.Now()
				res, err := svc.Ingest(ctx, signal("dup", fmt.Sprintf("dup-%d", i)))
				lat[i] = time.Since(t)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				ids[res.IncidentID]++
				mu.Unlock()
			}
		}()
	}
	for i := range dups {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("  throughput:           %.0f signals/s (%d in %s)\n", float64(dups)/elapsed.Seconds(), dups, elapsed.Round(time.Millisecond))
	printLatency("  latency under load", lat)
	fmt.Printf("  incidents opened:     %d (want 1)\n", len(ids))

	fmt.Printf("\nLambda bootstrap sizes (linux/arm64, -tags lambda.norpc,timetzdata, -s -w; budget %s bytes each)\n", thousands(maxBootstrap))
	return printSizes(os.Stdout, buildDir)
}

func signal(key, delivery string) incident.Signal {
	return incident.Signal{
		Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "bench",
		DedupKey: "alarm:bench:" + key, Title: "bench-" + key + " in ALARM",
		Text: "Threshold Crossed", At: time.Now(), DeliveryID: delivery, Actor: "alarm:bench",
	}
}

func printLatency(label string, d []time.Duration) {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	fmt.Printf("%-26s p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms   (n=%d)\n", label+":",
		ms(q(0.50)), ms(q(0.99)), ms(s[len(s)-1]), len(s))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// maxBootstrap is the most bytes a function's bootstrap may have (issue 9):
// a bootstrap over it is a FAIL line and makes the command fail.
const maxBootstrap = 10_000_000

func printSizes(w io.Writer, dir string) error {
	matches, err := filepath.Glob(filepath.Join(dir, "*", "bootstrap"))
	if err != nil {
		return err
	}
	if len(matches) == 0 {
		return fmt.Errorf("no bootstrap under %s: run `make build` first", dir)
	}
	sort.Strings(matches)
	var fails []string
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil {
			return err
		}
		z, err := zippedSize(m)
		if err != nil {
			return err
		}
		name := filepath.Base(filepath.Dir(m))
		fmt.Fprintf(w, "  %-10s %11s bytes  (%4.1f MiB)   %5.1f MiB zipped\n", name, thousands(st.Size()), float64(st.Size())/(1<<20), float64(z)/(1<<20))
		if st.Size() > maxBootstrap {
			fails = append(fails, fmt.Sprintf("FAIL %s: bootstrap of %s bytes, over the budget of %s", name, thousands(st.Size()), thousands(maxBootstrap)))
		}
	}
	for _, f := range fails {
		fmt.Fprintln(w, f)
	}
	if len(fails) > 0 {
		return fmt.Errorf("%d bootstrap(s) over %s bytes", len(fails), thousands(maxBootstrap))
	}
	return nil
}

// thousands writes n with a comma between each group of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// zippedSize is the size of the deployment package Lambda would receive.
func zippedSize(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(w, f); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}
