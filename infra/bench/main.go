// Command bench measures the platform against DynamoDB Local and prints figures:
// signal → incident latency (p50/p99), duplicate-signal throughput, the
// DynamoDB requests and capacity units of each path of a signal (counted on
// the wire), and the size of each function's Lambda bootstrap. `make bench` runs it after `make build`.
// It only talks to 127.0.0.1 and its loops are bounded in count.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	// Latency and throughput are measured with the client the functions use,
	// which asks for no consumed capacity; the requests and units of each
	// path with a metered one (ReturnConsumedCapacity costs the emulator
	// time on every request).
	db := dynamolocal.Client(p.Endpoint)
	if err := dynamolocal.CreateTable(ctx, db, "bench"); err != nil {
		return err
	}
	meter := &dynamolocal.Meter{}
	metered := &dynamolocal.Streamed{Store: dynamo.New(dynamolocal.Metered(dynamolocal.Client(p.Endpoint), meter), "bench")}
	// The pending signals the request path writes are folded in by the
	// stream function; here they are taken from the store and folded by
	// the same code (incident.Service.Fold), after the measurement.
	store := &dynamolocal.Streamed{Store: dynamo.New(db, "bench")}
	svc := incident.NewService(store, incident.Rules{})
	fmt.Printf("DynamoDB Local at %s (in memory)\n\n", p.Endpoint)

	// Warm up the JVM and connection pool so the figures show steady state:
	// the emulator's JIT compiles the paths of opens, joins and concurrent
	// joins over the first few hundred to thousands of each (the first
	// opens take 15-150 ms, later ones 3-8 ms).
	if err := warmUp(ctx, svc, store, workers); err != nil {
		return err
	}

	fmt.Println("signal → incident latency (sequential, one sender, one instance: its caches warm)")
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
	if err := fold(ctx, svc, store); err != nil {
		return err
	}

	fmt.Printf("\nduplicate signals for one alarm (%d signals, each a state change of its own, %d concurrent senders, one instance)\n", dups, workers)
	if _, err := svc.Ingest(ctx, signal("dup", "dup-first")); err != nil {
		return err
	}
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
	bare, err := barePuts(ctx, db, dups, workers)
	if err != nil {
		return err
	}
	fmt.Printf("  the emulator's ceiling: %.0f bare conditional PutItems/s of new keys on one partition (%d, %d senders, no service code)\n", bare, dups, workers)
	pending := store.TakePending()
	msvc := incident.NewService(metered, incident.Rules{})
	meter.Reset()
	t := time.Now()
	for i := 0; i < len(pending); i += foldBatch {
		if err := msvc.Fold(ctx, pending[i:min(i+foldBatch, len(pending))]); err != nil {
			return err
		}
	}
	took := time.Since(t)
	_, w := meter.Units()
	var id string
	for k := range ids {
		id = k
	}
	inc, err := store.Incident(ctx, id)
	if err != nil {
		return err
	}
	fmt.Printf("  folded afterwards:    signal_count %d (want %d), %d pending signals in %s, batches of %d as the stream mapping hands them:\n",
		inc.SignalCount, dups+1, len(pending), took.Round(time.Millisecond), foldBatch)
	fmt.Printf("                        %d requests, %.1f write units (%.2f per signal)\n", meter.Calls(), w, w/float64(max(1, len(pending))))

	fmt.Println("\nDynamoDB requests and capacity per operation (on the wire, ReturnConsumedCapacity TOTAL; warm instance)")
	if err := costs(ctx, meter, metered, msvc); err != nil {
		return err
	}
	if err := calibrate(ctx, dynamolocal.Metered(dynamolocal.Client(p.Endpoint), meter), meter); err != nil {
		return err
	}

	fmt.Printf("\nLambda bootstrap sizes (linux/arm64, -tags lambda.norpc,timetzdata, the AWS modules not inlined, -s -w; budget %s bytes each)\n", thousands(maxBootstrap))
	return printSizes(os.Stdout, buildDir)
}

// barePuts measures the rate at which DynamoDB Local takes n conditional
// PutItems of new keys from workers senders, of items of a join's entry's
// shape (about 20 attributes, ~500 bytes, on one incident's partition): the
// most a join (one such PutItem) can reach on this machine. It is
// measured right after the joins, on the same warm emulator.
func barePuts(ctx context.Context, db *dynamodb.Client, n, workers int) (float64, error) {
	item := func(i int) map[string]types.AttributeValue {
		it := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "INC#bare"},
			"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("TL#2026-12-03T15:49:29.%09dZ#sig-%d", i, i)},
		}
		for k := range 18 {
			it[fmt.Sprintf("attribute_%d", k)] = &types.AttributeValueMemberS{Value: "a value of 20 bytes."}
		}
		return it
	}
	start := time.Now()
	if err := fanOut(n, workers, func(i int) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: item(i),
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		return err
	}); err != nil {
		return 0, fmt.Errorf("bare puts: %w", err)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// fanOut calls do(0) … do(n-1) from workers goroutines and returns the first
// error (a worker that failed does nothing more).
func fanOut(n, workers int, do func(i int) error) error {
	jobs := make(chan int)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			var err error
			for i := range jobs {
				if err == nil {
					err = do(i)
				}
			}
			errs <- err
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// concurrentWarmUp is how many concurrent joins warm the emulator up: its
// rate of them still rose from 2,000 (1,476/s after) to 8,000 (1,604/s),
// as its rate of bare PutItems does (1,483/s after 6,000, 2,005/s after
// 24,000, measured here on 2026-12-03).
const concurrentWarmUp = 8000

// warmUp sends what the measurements send, unmeasured: opens, joins of one
// open incident (folded), and concurrent joins of another.
func warmUp(ctx context.Context, svc *incident.Service, store *dynamolocal.Streamed, workers int) error {
	const n = 500
	for i := range n {
		if _, err := svc.Ingest(ctx, signal(fmt.Sprintf("warmup-%d", i), "")); err != nil {
			return fmt.Errorf("warm-up open %d: %w", i, err)
		}
		if _, err := svc.Ingest(ctx, signal("warmup-join", fmt.Sprintf("warmup-join-%d", i))); err != nil {
			return fmt.Errorf("warm-up join %d: %w", i, err)
		}
	}
	if err := fanOut(concurrentWarmUp, workers, func(i int) error {
		_, err := svc.Ingest(ctx, signal("warmup-dup", fmt.Sprintf("warmup-dup-%d", i)))
		return err
	}); err != nil {
		return fmt.Errorf("warm-up, concurrent joins: %w", err)
	}
	return fold(ctx, svc, store)
}

// foldBatch is the batch size of the stream mapping that folds pending
// signals (infra/escalation: 25 records).
const foldBatch = 25

// fold folds what the store's stream holds, in the stream mapping's batches.
func fold(ctx context.Context, svc *incident.Service, store *dynamolocal.Streamed) error {
	for p := store.TakePending(); len(p) > 0; p = store.TakePending() {
		for i := 0; i < len(p); i += foldBatch {
			if err := svc.Fold(ctx, p[i:min(i+foldBatch, len(p))]); err != nil {
				return err
			}
		}
	}
	return nil
}

// costs prints the requests and capacity units of each path of a signal,
// once each on an instance that handled the service before.
func costs(ctx context.Context, m *dynamolocal.Meter, store *dynamolocal.Streamed, svc *incident.Service) error {
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "bench"}); err != nil {
		return err
	}
	if _, err := svc.Ingest(ctx, signal("cost-warm", "cost-warm")); err != nil { // the configuration read again
		return err
	}
	cold := incident.NewService(store, incident.Rules{})
	logSig := signal("cost-log", "cost-log-1")
	logSig.Source, logSig.DedupKey = incident.SourceLog, "log:bench:0f1e2d3c4b5a6978"
	report := func(who, key string) func() error {
		return func() error {
			_, err := svc.Report(ctx, incident.ReportInput{Service: "bench", Summary: "bench is down", ReporterEmail: who,
				DeliveryID: key, Fingerprint: key})
			return err
		}
	}
	ingest := func(s *incident.Service, sig incident.Signal) func() error {
		return func() error { _, err := s.Ingest(ctx, sig); return err }
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"new alarm (opens an incident)", ingest(svc, signal("cost", "cost-1"))},
		{"redelivery, same instance", ingest(svc, signal("cost", "cost-1"))},
		{"redelivery, another instance", ingest(cold, signal("cost", "cost-1"))},
		{"same alarm, next state change (join)", ingest(svc, signal("cost", "cost-2"))},
		{"its redelivery, another instance", ingest(incident.NewService(store, incident.Rules{}), signal("cost", "cost-2"))},
		{"fold of that join (stream function)", func() error { return fold(ctx, svc, store) }},
		{"new log signal (opens)", ingest(svc, logSig)},
		{"new report (opens)", report("ana@example.com", "cost-report-1")},
		{"report joining it", report("ben@example.com", "cost-report-2")},
	}
	for _, st := range steps {
		m.Reset()
		if err := st.do(); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		r, w := m.Units()
		fmt.Printf("  %-38s %d requests  %5.1f RCU %5.1f WCU   %s\n", st.name+":", m.Calls(), r, w, m.Operations())
	}
	return nil
}

// calibrate prints how DynamoDB Local itself counts the write units of
// small items (100 bytes, no index entry), to read the figures above by:
// measured here, it reports 4 units for a transaction of one item and 4 for
// one of twelve, where AWS's published rule is 2 units per item and started
// KB of each item (2 and 24); a PutItem it reports as AWS would (1).
func calibrate(ctx context.Context, db *dynamodb.Client, m *dynamolocal.Meter) error {
	item := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"pk":   &types.AttributeValueMemberS{Value: fmt.Sprintf("CALIBRATE#%d", i)},
			"sk":   &types.AttributeValueMemberS{Value: "CALIBRATE"},
			"text": &types.AttributeValueMemberS{Value: strings.Repeat("x", 70)},
		}
	}
	put := func(i int) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("bench"), Item: item(i)}}
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"PutItem of one item", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: item(0)})
			return err
		}},
		{"transaction of one item", func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put(1)}})
			return err
		}},
		{"transaction of two items", func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put(2), put(3)}})
			return err
		}},
		{"transaction of four items", func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put(4), put(5), put(6), put(7)}})
			return err
		}},
		{"transaction of twelve items", func() error {
			var items []types.TransactWriteItem
			for i := range 12 {
				items = append(items, put(10+i))
			}
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
			return err
		}},
	}
	fmt.Println("  DynamoDB Local's own count, items of 100 bytes (AWS's rule: 1 per item outside a transaction, 2 per item in one):")
	for _, st := range steps {
		m.Reset()
		if err := st.do(); err != nil {
			return fmt.Errorf("calibrate, %s: %w", st.name, err)
		}
		_, w := m.Units()
		fmt.Printf("    %-36s %5.1f WCU\n", st.name+":", w)
	}
	return nil
}

// signal is an ALARM of alarm key. A delivery's state-change time is its
// own, as an alarm's is (its delivery id is made of it): within the hour
// before the benchmark started.
func signal(key, delivery string) incident.Signal {
	at := time.Now()
	if delivery != "" {
		h := fnv.New64a()
		h.Write([]byte(delivery))
		at = started.Add(-time.Hour + time.Duration(h.Sum64()%uint64(time.Hour)))
	}
	return incident.Signal{
		Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "bench",
		DedupKey: "alarm:bench:" + key, Title: "bench-" + key + " in ALARM",
		Text: "Threshold Crossed", At: at, DeliveryID: delivery, Actor: "alarm:bench",
	}
}

var started = time.Now()

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
