package logscan

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/text"
)

// MaxFingerprints bounds the distinct fingerprints counted per batch and window:
// the counters of one batch are written in one DynamoDB transaction (at most
// 100 items, one of them the batch record). A batch with more is a flood of
// different errors; the most frequent are counted, the rest only logged.
const MaxFingerprints = 50

// maxSamples is how many example lines a group keeps for the incident timeline.
const maxSamples = 3

// maxSample bounds one sample line.
const maxSample = 1000

// Batch is one subscription payload reduced to what counting needs.
type Batch struct {
	// ID identifies the batch across redeliveries: a hash of the log group, the
	// stream, and the ids of the first and last log events.
	ID        string
	Owner     string
	LogGroup  string
	LogStream string
	Service   string
	// Lines is the number of log events; Errors how many of them are errors.
	Lines  int
	Errors int
	// Windows hold the error groups, by window start.
	Windows []Window
	// DroppedFingerprints and DroppedErrors count what was left out of the
	// counters because a window had more than MaxFingerprints fingerprints.
	DroppedFingerprints int
	DroppedErrors       int
}

// Window is the errors of a batch that fall into one counting window.
type Window struct {
	Start time.Time
	// Groups are by count, most frequent first, then by first appearance.
	Groups []Group
}

// Group is the error lines of a batch and window that share a fingerprint.
type Group struct {
	Fingerprint string
	Template    string
	Reason      string
	Count       int
	// First is the time of the first of these lines.
	First time.Time
	// Samples are up to three of the lines, as logged.
	Samples []string
}

// Scan classifies and groups a decoded data message. Each log event is one
// message (a multi-line event is judged as a whole and fingerprinted by its
// telling line). Events fall into fixed windows of the given length by their
// own timestamps, so a redelivered batch lands in the same windows.
func Scan(d events.CloudwatchLogsData, services Services, window time.Duration) Batch {
	b := Batch{
		ID:        BatchID(d),
		Owner:     d.Owner,
		LogGroup:  d.LogGroup,
		LogStream: d.LogStream,
		Service:   services.Of(d.LogGroup),
		Lines:     len(d.LogEvents),
	}
	if window <= 0 {
		window = DefaultWindow
	}
	type slot struct {
		start time.Time
		fp    string
	}
	groups := map[slot]*Group{}
	order := map[slot]int{}
	for _, e := range d.LogEvents {
		line := Classify(e.Message)
		if !line.Error {
			continue
		}
		b.Errors++
		at := eventTime(e.Timestamp)
		fp, tmpl := Fingerprint(line)
		k := slot{start: at.Truncate(window), fp: fp}
		g, ok := groups[k]
		if !ok {
			g = &Group{Fingerprint: fp, Template: tmpl, Reason: line.Reason, First: at}
			groups[k] = g
			order[k] = len(order)
		}
		g.Count++
		if at.Before(g.First) {
			g.First = at
		}
		if len(g.Samples) < maxSamples {
			msg := clipLine(e.Message)
			g.Samples = append(g.Samples, text.Clip(strings.TrimSpace(msg), maxSample, "…", text.Bytes|text.MarkExtra|text.TrimSpace))
		}
	}
	byWindow := map[time.Time][]slot{}
	for k := range groups {
		byWindow[k.start] = append(byWindow[k.start], k)
	}
	for start, slots := range byWindow {
		sort.Slice(slots, func(i, j int) bool {
			gi, gj := groups[slots[i]], groups[slots[j]]
			if gi.Count != gj.Count {
				return gi.Count > gj.Count
			}
			return order[slots[i]] < order[slots[j]]
		})
		w := Window{Start: start}
		for i, k := range slots {
			if i >= MaxFingerprints {
				b.DroppedFingerprints++
				b.DroppedErrors += groups[k].Count
				continue
			}
			w.Groups = append(w.Groups, *groups[k])
		}
		b.Windows = append(b.Windows, w)
	}
	sort.Slice(b.Windows, func(i, j int) bool { return b.Windows[i].Start.Before(b.Windows[j].Start) })
	return b
}

// maxEventMillis keeps event times within years 1970-2248: CloudWatch Logs
// accepts no others, and Truncate and RFC 3339 behave on them.
const maxEventMillis = 1 << 43

// eventTime reads a log event's timestamp (Unix milliseconds).
func eventTime(ms int64) time.Time {
	ms = min(max(ms, 0), maxEventMillis)
	return time.UnixMilli(ms).UTC()
}

// BatchID identifies a batch: the same payload redelivered has the same id.
// Log event ids are unique within a log group, so the first and last name the
// batch; the group and stream guard against a collision across groups.
func BatchID(d events.CloudwatchLogsData) string {
	var first, last string
	if n := len(d.LogEvents); n > 0 {
		first, last = d.LogEvents[0].ID, d.LogEvents[n-1].ID
	}
	h := sha256.New()
	for _, s := range []string{d.LogGroup, d.LogStream, first, last} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
