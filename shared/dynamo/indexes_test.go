package dynamo_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// metered is a dynamo.Client in front of DynamoDB Local that asks for the
// consumed capacity of every write (indexes included, as AWS reports it) and
// counts what the reads read.
type metered struct {
	dynamo.Client

	mu sync.Mutex
	// writes are the capacities of the transactions since reset.
	writes []types.ConsumedCapacity
	// scanned is how many index or table entries the Queries read,
	// batchKeys how many items BatchGetItem was asked for, gets the GetItems.
	scanned, batchKeys, gets, queries int
}

func newMetered(t *testing.T) (*metered, *dynamo.Store) {
	m := &metered{Client: dynamotest.Client(t)}
	return m, dynamo.New(m, dynamotest.NewTable(t))
}

func (m *metered) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes, m.scanned, m.batchKeys, m.gets, m.queries = nil, 0, 0, 0, 0
}

func (m *metered) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.Client.TransactWriteItems(ctx, in, opts...)
	if err == nil {
		m.mu.Lock()
		m.writes = append(m.writes, out.ConsumedCapacity...)
		m.mu.Unlock()
	}
	return out, err
}

func (m *metered) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := m.Client.Query(ctx, in, opts...)
	if err == nil {
		m.mu.Lock()
		m.scanned += int(out.ScannedCount)
		m.queries++
		m.mu.Unlock()
	}
	return out, err
}

func (m *metered) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	m.mu.Lock()
	for _, ka := range in.RequestItems {
		m.batchKeys += len(ka.Keys)
	}
	m.mu.Unlock()
	return m.Client.BatchGetItem(ctx, in, opts...)
}

func (m *metered) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	m.mu.Lock()
	m.gets++
	m.mu.Unlock()
	return m.Client.GetItem(ctx, in, opts...)
}

// units sums the write units of the transactions since reset: on the table,
// on the indexes, and which indexes were written.
func (m *metered) units() (table, indexes float64, written []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.writes {
		if c.Table != nil {
			table += aws.ToFloat64(c.Table.CapacityUnits)
		}
		for name, ix := range c.GlobalSecondaryIndexes {
			indexes += aws.ToFloat64(ix.CapacityUnits)
			if !slices.Contains(written, name) {
				written = append(written, name)
			}
		}
	}
	slices.Sort(written)
	return table, indexes, written
}

// An incident is in one index while open (the open index, whose entry holds
// its status) and in the two resolved indexes once resolved; its entries
// change only when it opens, changes status, resolves or reopens. So opening
// one writes one index entry, and a signal joining it, a note, a page or a
// war room write none. Measured as AWS reports it: ReturnConsumedCapacity
// on DynamoDB Local, indexes included. (Before the indexes projected only
// keys, an open cost 20 write units here, 12 of them on the three indexes,
// and every later change 12 more on them.)
func TestIndexWritesPerChange(t *testing.T) {
	m, store := newMetered(t)
	svc := incident.NewService(store, incident.Rules{})
	ctx := context.Background()
	sig := incidenttest.Alarm("checkout", "checkout-5xx")
	sig.DeliveryID = "delivery-1"
	var id string
	tests := []struct {
		name string
		do   func() error
		// want are the indexes the change writes.
		want []string
	}{
		{name: "open", want: []string{dynamo.IndexOpen}, do: func() error {
			res, err := svc.Ingest(ctx, sig)
			id = res.IncidentID
			return err
		}},
		{name: "join", do: func() error {
			again := sig
			again.DeliveryID = "delivery-2"
			_, err := svc.Ingest(ctx, again)
			return err
		}},
		{name: "note", do: func() error {
			_, err := svc.AddNote(ctx, id, "alice", "looking at the load balancer")
			return err
		}},
		{name: "war room", do: func() error {
			_, err := svc.SetWarRoom(ctx, id, "warroom", "C0WARROOM1", "inc-checkout")
			return err
		}},
		{name: "page", do: func() error {
			_, err := svc.RecordPage(ctx, id, incident.PageRecord{Key: "page-1", Actor: "escalation", Responder: "alice", Level: 1})
			return err
		}},
		{name: "severity", do: func() error {
			sev := incident.SEV1
			_, err := svc.Update(ctx, id, "alice", incident.Patch{Severity: &sev})
			return err
		}},
		{name: "acknowledge", want: []string{dynamo.IndexOpen}, do: func() error {
			_, err := svc.Acknowledge(ctx, id, "alice")
			return err
		}},
		{name: "resolve", want: []string{dynamo.IndexOpen, dynamo.IndexResolved, dynamo.IndexServiceResolved}, do: func() error {
			_, err := svc.Resolve(ctx, id, "alice", incident.Resolution{Fix: "rolled back"})
			return err
		}},
	}
	for _, tt := range tests {
		m.reset()
		if err := tt.do(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		table, indexes, written := m.units()
		t.Logf("%-12s write units: %4.1f table + %4.1f indexes %v", tt.name, table, indexes, written)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(written, want) {
			t.Errorf("%s: wrote the indexes %v, want %v", tt.name, written, want)
		}
		// DynamoDB Local charges a transaction 4 units per index it writes,
		// whatever the entry's size.
		if limit := 4 * float64(len(want)); indexes > limit {
			t.Errorf("%s: %.1f write units on the indexes, want at most %.1f", tt.name, indexes, limit)
		}
	}
}

// Every list reads at most its page's items from the table (one BatchGetItem
// of the page), and from the indexes: the page (and one entry) where one key range
// holds exactly its incidents (resolved ones, a service's open or resolved
// ones); a service's open ones where a status among them is asked for; every
// open incident's entry (keys and status) where all services' open ones are;
// and both ranges' pages where open and resolved are merged.
func TestListReadsNoMoreThanItsPage(t *testing.T) {
	m, store := newMetered(t)
	clk := newClock()
	svc := incident.NewService(store, incident.Rules{}, incident.WithClock(clk.Now))
	ctx := context.Background()
	// 30 incidents on two services: every third resolved (10), every third
	// acknowledged (10), the rest triggered; db and web have 10 open each.
	incidenttest.SeedIncidents(t, svc, clk)
	const limit = 5
	tests := []struct {
		status, service string
		// maxScanned bounds the index entries read for one page (a key
		// range read for its page reads one entry more, to know whether
		// another page follows).
		maxScanned int
	}{
		{status: "resolved", maxScanned: limit + 1},
		{service: "web", status: "resolved", maxScanned: limit + 1},
		{service: "db", status: "open", maxScanned: limit + 1},
		{service: "db", status: "triggered", maxScanned: 10}, // db's open incidents
		{status: "open", maxScanned: 20},                     // every open incident's entry
		{status: "acknowledged", maxScanned: 20},
		{service: "web", maxScanned: 2 * (limit + 1)},
		{maxScanned: 20 + limit + 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("status=%s,service=%s", tt.status, tt.service), func(t *testing.T) {
			q := incident.Query{Status: tt.status, Service: tt.service, Limit: limit}
			for page := 1; ; page++ {
				m.reset()
				got, err := svc.List(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Items) == 0 || len(got.Items) > limit {
					t.Fatalf("page %d: got %d incidents, want 1 to %d", page, len(got.Items), limit)
				}
				t.Logf("page %d: %d incidents, %d index entries read, %d items", page, len(got.Items), m.scanned, m.batchKeys)
				if m.batchKeys > limit {
					t.Errorf("page %d: read %d items from the table, want at most the page's %d", page, m.batchKeys, limit)
				}
				if m.scanned > tt.maxScanned {
					t.Errorf("page %d: read %d index entries, want at most %d", page, m.scanned, tt.maxScanned)
				}
				if got.NextCursor == "" {
					break
				}
				q.Cursor = got.NextCursor
			}
		})
	}
}

// Only incident items carry index keys, and each only those of its state's
// indexes: timeline entries, reports, dedup and delivery records, Slack
// pages, war rooms and configuration land in no index. The war room's
// incident is then found with one GetItem.
func TestOnlyIncidentsAreIndexed(t *testing.T) {
	m, store := newMetered(t)
	svc := incident.NewService(store, incident.Rules{})
	ctx := context.Background()
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	sig := incidenttest.Alarm("checkout", "checkout-5xx")
	sig.DeliveryID = "delivery-1"
	res, err := svc.Ingest(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Report(ctx, incident.ReportInput{Service: "checkout", Summary: "cannot pay", ReporterEmail: "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetWarRoom(ctx, res.IncidentID, "warroom", "C0WARROOM1", "inc-checkout"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordPage(ctx, res.IncidentID, incident.PageRecord{Key: "page-1", Actor: "escalation", Responder: "alice", Level: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, res.IncidentID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}

	m.reset()
	id, err := svc.WarRoomIncident(ctx, "C0WARROOM1")
	if err != nil || id != res.IncidentID {
		t.Errorf("war room: got %q, %v; want %s", id, err, res.IncidentID)
	}
	if m.gets != 1 || m.queries != 0 {
		t.Errorf("war room lookup: %d GetItems and %d Queries, want 1 GetItem", m.gets, m.queries)
	}

	// A Scan, which no request path makes, to see every item.
	out, err := dynamotest.Client(t).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(store.Table())})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, item := range out.Items {
		typ := dynamo.ItemType(item)
		types[typ]++
		var keys []string
		for _, ix := range dynamo.Indexes {
			for _, k := range []string{ix.PartitionKey, ix.SortKey} {
				if _, ok := item[k]; ok {
					keys = append(keys, k)
				}
			}
		}
		var want []string
		if typ == dynamo.TypeIncident {
			inc, err := dynamo.DecodeIncident(item)
			if err != nil {
				t.Fatal(err)
			}
			for _, ix := range dynamo.Indexes {
				if (ix.Name == dynamo.IndexOpen) == inc.Status.Open() {
					want = append(want, ix.PartitionKey, ix.SortKey)
				}
			}
		}
		if !slices.Equal(keys, want) {
			t.Errorf("%s item %v: has index keys %v, want %v", typ, item[dynamo.PartitionKey], keys, want)
		}
	}
	for _, typ := range []string{dynamo.TypeIncident, dynamo.TypeEntry, dynamo.TypeReport, dynamo.TypeDedup, dynamo.TypeDelivery, dynamo.TypeService, dynamo.TypeWarRoom} {
		if types[typ] == 0 {
			t.Errorf("no %s item written, want the test to cover one (got %v)", typ, slices.Sorted(maps.Keys(types)))
		}
	}
}
