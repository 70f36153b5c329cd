package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// Event source mapping settings of infra/escalation's stream consumer: two
// mappings on the one stream, each with its own position and retries (here a
// poller each, in a goroutine of its own), so that Slack trouble in the
// fan-out never holds up an escalation. The escalation mapping retries a
// failing batch as AWS's does, without a count until its first record is
// escalationRecordAge old: a start that fails while DynamoDB Local is down
// starts once it is back. Unlike AWS's fan-out mapping, which retries a
// failing record until it is 6 hours old, the fan-out gives a failing batch
// fanOutRetries retries: locally Slack is the recorder, or a real workspace
// whose outage need not be waited out.
const (
	streamBatchSize     = 25 // incident items: escalations
	fanOutBatchSize     = 10 // timeline entries inserted: war room, events, pages
	fanOutRetries       = 3
	escalationRecordAge = 20 * time.Hour
	streamPollInterval  = 200 * time.Millisecond
	// maxRetryWait caps the pause between retries of a failed batch, which
	// doubles from the poller's retryWait.
	maxRetryWait = 2 * time.Second
	// shardRefreshEvery is how many polls pass between looks for new shards:
	// DynamoDB Local rotates shards rarely, and a closed shard triggers a look
	// at once.
	shardRefreshEvery = 25
)

// streamHandler is functions/stream's handler (lifecycle.Handler.Handle).
type streamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// streamPollers are the table's two event source mappings, one poller each.
type streamPollers []*streamPoller

// run polls with every poller, each in its own goroutine, until ctx ends.
func (ps streamPollers) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(ctx)
		}()
	}
	wg.Wait()
}

// streamPoller consumes the table's DynamoDB stream the way one event source
// mapping does: from LATEST when it starts, shard by shard in order, the
// records its filter passes in batches, retrying from the first record a
// batch reports failed. Its positions are its own: a batch it retries holds
// up no other poller.
type streamPoller struct {
	client   *dynamodbstreams.Client
	arn      string
	m        mapping
	handle   streamHandler
	log      *slog.Logger
	interval time.Duration
	// retryWait is the pause before a failed batch is retried.
	retryWait time.Duration

	shards map[string]*shardReader
	// closed holds the shards read to their end, or closed before the poller
	// started (LATEST skips them): their children may be read.
	closed map[string]bool
	// down is set while the stream cannot be read (DynamoDB Local stopped):
	// the first failure is logged as an error, the others at debug level,
	// until a read succeeds again.
	down bool
}

type shardReader struct {
	id       string
	iterator *string
	lastSeq  string
}

// streamsClient is a DynamoDB Streams client for the emulator at endpoint,
// with the same dummy credentials as dynamolocal.Client.
func streamsClient(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// newStreamPoller finds table's stream and makes a poller per mapping, each
// with every open shard positioned at LATEST: changes from now on are
// delivered, none before.
func newStreamPoller(ctx context.Context, db *dynamodb.Client, client *dynamodbstreams.Client, table string, h streamHandler, log *slog.Logger) (streamPollers, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", table, err)
	}
	if out.Table == nil || out.Table.LatestStreamArn == nil {
		return nil, fmt.Errorf("table %s has no stream", table)
	}
	var ps streamPollers
	for _, m := range mappings {
		p := &streamPoller{
			client: client, arn: *out.Table.LatestStreamArn, m: m, handle: h, log: log.With(slog.String("mapping", m.name)),
			interval: streamPollInterval, retryWait: 200 * time.Millisecond,
			shards: map[string]*shardReader{}, closed: map[string]bool{},
		}
		shards, err := p.describe(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range shards {
			id := aws.ToString(s.ShardId)
			if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
				p.closed[id] = true
				continue
			}
			if err := p.open(ctx, id, types.ShardIteratorTypeLatest, ""); err != nil {
				return nil, err
			}
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// describe lists the stream's shards.
func (p *streamPoller) describe(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	var start *string
	for {
		out, err := p.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.arn), ExclusiveStartShardId: start})
		if err != nil {
			return nil, fmt.Errorf("describe stream: %w", err)
		}
		if out.StreamDescription == nil {
			return shards, nil
		}
		shards = append(shards, out.StreamDescription.Shards...)
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return shards, nil
		}
	}
}

// open starts reading shard id at the position typ (after seq for
// AFTER_SEQUENCE_NUMBER).
func (p *streamPoller) open(ctx context.Context, id string, typ types.ShardIteratorType, seq string) error {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.arn), ShardId: aws.String(id), ShardIteratorType: typ}
	if seq != "" {
		in.SequenceNumber = aws.String(seq)
	}
	out, err := p.client.GetShardIterator(ctx, in)
	if err != nil {
		return fmt.Errorf("shard iterator of %s: %w", id, err)
	}
	r := p.shards[id]
	if r == nil {
		r = &shardReader{id: id, lastSeq: seq}
		p.shards[id] = r
	}
	r.iterator = out.ShardIterator
	return nil
}

// run polls until ctx ends.
func (p *streamPoller) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ended := false
		for _, r := range p.shards {
			if p.poll(ctx, r) {
				ended = true
			}
		}
		if ended || n%shardRefreshEvery == 0 {
			p.refresh(ctx)
		}
	}
}

// poll reads and delivers one shard's new records; true means the shard
// ended.
func (p *streamPoller) poll(ctx context.Context, r *shardReader) (ended bool) {
	if r.iterator == nil {
		return p.end(r)
	}
	out, err := p.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: r.iterator})
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		var expired *types.ExpiredIteratorException
		var trimmed *types.TrimmedDataAccessException
		var gone *types.ResourceNotFoundException
		switch {
		case errors.As(err, &gone):
			p.log.WarnContext(ctx, "stream shard gone", slog.String("shard", r.id))
			return p.end(r)
		case errors.As(err, &expired), errors.As(err, &trimmed):
			typ := types.ShardIteratorTypeAfterSequenceNumber
			if r.lastSeq == "" {
				typ = types.ShardIteratorTypeTrimHorizon
			}
			if err := p.open(ctx, r.id, typ, r.lastSeq); err != nil {
				p.log.ErrorContext(ctx, "stream shard not reopened", slog.String("shard", r.id), slog.Any("error", err))
			}
		default:
			// The iterator is kept: DynamoDB Local restarted on the same
			// data folder serves it again, from where it was.
			p.failed(ctx, "stream read failed", slog.String("shard", r.id), slog.Any("error", err))
		}
		return false
	}
	p.readable(ctx)
	var batch []events.DynamoDBEventRecord
	for _, rec := range out.Records {
		if rec.Dynamodb != nil {
			r.lastSeq = aws.ToString(rec.Dynamodb.SequenceNumber)
		}
		e := toEventRecord(rec, p.arn)
		if !p.m.filter(e) {
			continue
		}
		batch = append(batch, e)
		if len(batch) == p.m.batchSize {
			p.deliver(ctx, batch)
			batch = nil
		}
	}
	if len(batch) > 0 {
		p.deliver(ctx, batch)
	}
	r.iterator = out.NextShardIterator
	if r.iterator == nil {
		return p.end(r)
	}
	return false
}

// failed logs a failure to read the stream: as an error the first time,
// then at debug level while it lasts.
func (p *streamPoller) failed(ctx context.Context, msg string, attrs ...any) {
	if p.down {
		p.log.DebugContext(ctx, msg, attrs...)
		return
	}
	p.down = true
	p.log.ErrorContext(ctx, msg+" (retried until it answers)", attrs...)
}

// readable notes that the stream answers again.
func (p *streamPoller) readable(ctx context.Context) {
	if p.down {
		p.down = false
		p.log.InfoContext(ctx, "stream readable again")
	}
}

func (p *streamPoller) end(r *shardReader) bool {
	delete(p.shards, r.id)
	p.closed[r.id] = true
	return true
}

// refresh starts reading the shards that appeared since the poller started,
// from their beginning, once their parent is read to its end.
func (p *streamPoller) refresh(ctx context.Context) {
	shards, err := p.describe(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.failed(ctx, "stream shards not listed", slog.Any("error", err))
		}
		return
	}
	known := map[string]bool{}
	for _, s := range shards {
		known[aws.ToString(s.ShardId)] = true
	}
	for _, s := range shards {
		id, parent := aws.ToString(s.ShardId), aws.ToString(s.ParentShardId)
		if p.closed[id] || p.shards[id] != nil {
			continue
		}
		if parent != "" && known[parent] && !p.closed[parent] {
			continue // the parent's records come first
		}
		if err := p.open(ctx, id, types.ShardIteratorTypeTrimHorizon, ""); err != nil {
			p.log.ErrorContext(ctx, "stream shard not opened", slog.String("shard", id), slog.Any("error", err))
		}
	}
}

// deliver invokes the handler with batch, as the mapping does with
// ReportBatchItemFailures: it retries from the first failed record (the
// checkpoint), waiting retryWait, doubled after each failure up to
// maxRetryWait, until the mapping gives up: after its retries (retries < 0:
// no count) or once the first record left is older than its maxAge; then it
// logs the records given up (in AWS: described in the failure queue).
func (p *streamPoller) deliver(ctx context.Context, batch []events.DynamoDBEventRecord) {
	wait := p.retryWait
	for attempt := 0; len(batch) > 0; attempt++ {
		resp, err := p.handle(ctx, events.DynamoDBEvent{Records: batch})
		from := len(batch)
		if err != nil {
			from = 0
		} else {
			for _, f := range resp.BatchItemFailures {
				i := indexOf(batch, f.ItemIdentifier)
				if i < 0 {
					i = 0 // an unknown identifier fails the whole batch, as in Lambda
				}
				from = min(from, i)
			}
		}
		if from == len(batch) {
			if attempt > 0 {
				p.log.InfoContext(ctx, "stream records handled after retries", slog.Int("retries", attempt),
					slog.String("first_sequence_number", batch[0].Change.SequenceNumber))
			}
			return
		}
		batch = batch[from:]
		if p.m.givesUp(attempt, batch[0], time.Now()) {
			p.log.ErrorContext(ctx, "stream records given up after retries (in AWS: the failure queue)", slog.Int("records", len(batch)),
				slog.Int("retries", attempt), slog.String("first_sequence_number", batch[0].Change.SequenceNumber), slog.Any("error", err))
			return
		}
		if attempt == 0 {
			p.log.WarnContext(ctx, "stream records failed; retrying", slog.Int("records", len(batch)),
				slog.String("first_sequence_number", batch[0].Change.SequenceNumber))
		}
		if !sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, maxRetryWait)
	}
}

func indexOf(batch []events.DynamoDBEventRecord, seq string) int {
	for i, r := range batch {
		if r.Change.SequenceNumber == seq {
			return i
		}
	}
	return -1
}

// mapping is one event source mapping: its name, filter, batch size and
// how long it retries a failing record.
type mapping struct {
	name      string
	filter    func(events.DynamoDBEventRecord) bool
	batchSize int
	// retries a failed batch gets; < 0: no count (MaximumRetryAttempts -1).
	retries int
	// maxAge: a record older than this is not retried (0: no age limit).
	maxAge time.Duration
}

// givesUp reports whether m stops retrying first (the first record left of
// a batch) after attempt retries, at now.
func (m mapping) givesUp(attempt int, first events.DynamoDBEventRecord, now time.Time) bool {
	if m.retries >= 0 && attempt >= m.retries {
		return true
	}
	created := first.Change.ApproximateCreationDateTime.Time
	return m.maxAge > 0 && !created.IsZero() && now.Sub(created) > m.maxAge
}

// mappings are the stream's two event source mappings, in infra/escalation.
var mappings = []mapping{
	{name: "escalations", filter: isIncident, batchSize: streamBatchSize, retries: -1, maxAge: escalationRecordAge},
	{name: "fan-out", filter: isEntryInsert, batchSize: fanOutBatchSize, retries: fanOutRetries},
}

// isIncident is the escalation mapping's filter: {"dynamodb": {"NewImage": {"type": {"S": ["incident"]}}}},
// or {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": ["signal"]}}}}: pending signals
// to fold into their incidents.
func isIncident(r events.DynamoDBEventRecord) bool {
	t := newImageType(r)
	return t == dynamo.TypeIncident || r.EventName == "INSERT" && t == dynamo.TypeSignal
}

// isEntryInsert is the fan-out mapping's filter:
// {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": ["entry"]}}}}.
func isEntryInsert(r events.DynamoDBEventRecord) bool {
	return r.EventName == "INSERT" && newImageType(r) == dynamo.TypeEntry
}

func newImageType(r events.DynamoDBEventRecord) string {
	t, ok := r.Change.NewImage[dynamo.TypeAttribute]
	if !ok || t.DataType() != events.DataTypeString {
		return ""
	}
	return t.String()
}

// printEvents is the local IncidentEventsTopic: each lifecycle event is one
// readable line on out (and a log line with the whole event), e.g.
//
//	EVENT incident.acknowledged 01J… (SEV2 checkout: checkout-cpu in ALARM) by alice
type printEvents struct {
	out io.Writer
	log *slog.Logger
	mu  sync.Mutex
	// then, when set, is given each event after it is printed (the
	// topic's subscriptions: the postmortem function).
	then func(ev incident.Event)
}

// PublishEvent implements lifecycle.Publisher.
func (p *printEvents) PublishEvent(ctx context.Context, ev incident.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("EVENT %s %s (%s %s: %s)", ev.Type, ev.Incident.ID, ev.Incident.Severity, ev.Incident.Service, ev.Incident.Title)
	if ev.Actor != "" {
		line += " by " + ev.Actor
	}
	// Stored text is clean; what else a terminal would act on is escaped.
	_, err := fmt.Fprintln(p.out, text.EscapeLine(line))
	if p.log != nil {
		p.log.InfoContext(ctx, "incident event (local)", slog.String("event_type", ev.Type),
			slog.String("incident_id", ev.Incident.ID), slog.Any("event", ev))
	}
	if p.then != nil {
		p.then(ev)
	}
	return err
}

// toEventRecord is what Lambda hands the function for a stream record.
func toEventRecord(r types.Record, arn string) events.DynamoDBEventRecord {
	e := events.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    aws.ToString(r.EventSource),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: arn,
	}
	if r.UserIdentity != nil {
		e.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	if d := r.Dynamodb; d != nil {
		e.Change = events.DynamoDBStreamRecord{
			Keys:           toEventImage(d.Keys),
			NewImage:       toEventImage(d.NewImage),
			OldImage:       toEventImage(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			e.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return e
}

func toEventImage(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = toEventValue(v)
	}
	return out
}

func toEventValue(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = toEventValue(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		m := toEventImage(v.Value)
		if m == nil {
			m = map[string]events.DynamoDBAttributeValue{}
		}
		return events.NewMapAttribute(m)
	}
	return events.NewNullAttribute() // NULL, and any type newer than this code
}
