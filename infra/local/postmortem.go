package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/postmortem"
	"github.com/incidentd/incidentd/shared/postmortemjob"
	"github.com/incidentd/incidentd/shared/s3"
	"github.com/incidentd/incidentd/shared/text"
)

// printDocuments is the local post-mortem bucket: gofakes3 through the
// same adapter as in AWS, and one readable line per version written, e.g.
//
//	POSTMORTEM 01J… version 3f2a… written: s3://incidentd-local-postmortems/postmortems/01J….md (GET /incidents/01J…/postmortem)
type printDocuments struct {
	*s3.Documents
	out      io.Writer
	bucket   string
	endpoint string
	mu       sync.Mutex
}

// Put implements postmortemjob.Documents, printing what it wrote.
func (p *printDocuments) Put(ctx context.Context, key string, body []byte, prev postmortem.Object) (postmortem.Object, error) {
	obj, err := p.Documents.Put(ctx, key, body, prev)
	if err != nil {
		return obj, err
	}
	id := key[len("postmortems/") : len(key)-len(".md")]
	p.mu.Lock()
	defer p.mu.Unlock()
	_, werr := fmt.Fprintln(p.out, text.EscapeLine(fmt.Sprintf("POSTMORTEM %s version %s written: s3://%s/%s (GET /incidents/%s/postmortem)",
		id, obj.VersionID, p.bucket, key, id)))
	return obj, werr
}

// asyncInvoker invokes a function with each IncidentEventsTopic event its
// subscription's filter policy takes, as SNS invokes a Lambda
// (asynchronously; Lambda retries a failure twice, a minute or so apart,
// here a second).
type asyncInvoker struct {
	ctx context.Context
	fn  Function
	log *slog.Logger
	wg  sync.WaitGroup
}

// postmortemEvent hands ev to the postmortem function if it is one of its
// event types.
func (a *asyncInvoker) postmortemEvent(ev incident.Event) {
	if a.fn == nil || !slices.Contains(postmortemjob.EventTypes, ev.Type) {
		return
	}
	msg, err := json.Marshal(ev)
	if err != nil {
		a.log.Error("event not delivered (local)", slog.Any("error", err))
		return
	}
	payload, err := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{
		EventSource: "aws:sns", EventVersion: "1.0",
		SNS: events.SNSEntity{Type: "Notification", MessageID: ev.EventID, TopicArn: localARN("sns", "incidentd-local-incident-events"),
			Message: string(msg), Timestamp: time.Now().UTC(),
			MessageAttributes: map[string]any{"event_type": map[string]any{"Type": "String", "Value": ev.Type}}},
	}}})
	if err != nil {
		a.log.Error("event not delivered (local)", slog.Any("error", err))
		return
	}
	a.wg.Go(func() {
		for attempt := 1; attempt <= 3; attempt++ {
			if _, err = a.fn(a.ctx, payload); err == nil || a.ctx.Err() != nil {
				return
			}
			a.log.Warn("postmortem function failed (local): retrying", slog.Int("attempt", attempt), slog.Any("error", err))
			select {
			case <-a.ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		a.log.Error("postmortem function failed 3 times (local; in AWS: the failure queue)", slog.String("event_id", ev.EventID), slog.Any("error", err))
	})
}

func (a *asyncInvoker) wait() { a.wg.Wait() }
