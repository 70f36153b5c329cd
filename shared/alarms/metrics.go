package alarms

import (
	"fmt"
	"sort"
	"strings"
)

// metricRef is one metric an alarm reads, in whichever shape the payload gave it.
type metricRef struct {
	id         string
	expression string
	label      string
	namespace  string
	name       string
	dimensions [][2]string
	stat       string
	period     int64
	returnData bool
}

// describe renders a metric as "AWS/EC2 CPUUtilization {InstanceId=i-1} Average/300s".
func (m metricRef) describe() string {
	var b strings.Builder
	b.WriteString(m.namespace)
	if m.name != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(m.name)
	}
	if len(m.dimensions) > 0 {
		dims := make([]string, 0, len(m.dimensions))
		for _, d := range m.dimensions {
			dims = append(dims, d[0]+"="+d[1])
		}
		b.WriteString(" {" + strings.Join(dims, ", ") + "}")
	}
	if m.stat != "" || m.period > 0 {
		b.WriteByte(' ')
		b.WriteString(m.stat)
		if m.period > 0 {
			fmt.Fprintf(&b, "/%ds", m.period)
		}
	}
	return strings.TrimSpace(b.String())
}

// summarizeMetrics classifies an alarm by the metrics it reads and summarises
// them: a single metric, a math expression over metrics, or an anomaly
// detection band.
func summarizeMetrics(ms []metricRef) (Kind, string) {
	if len(ms) > maxMetrics {
		ms = ms[:maxMetrics]
	}
	var exprs, stats []metricRef
	for _, m := range ms {
		if m.expression != "" {
			exprs = append(exprs, m)
		} else if m.name != "" || m.namespace != "" {
			stats = append(stats, m)
		}
	}
	if len(exprs) == 0 {
		if len(stats) == 0 {
			return KindMetric, ""
		}
		parts := make([]string, len(stats))
		for i, m := range stats {
			parts[i] = m.describe()
		}
		return KindMetric, strings.Join(parts, "; ")
	}
	kind := KindMetricMath
	var parts []string
	for _, e := range exprs {
		if strings.Contains(strings.ToUpper(e.expression), "ANOMALY_DETECTION_BAND") {
			kind = KindAnomaly
		}
		s := e.expression
		if e.label != "" {
			s += " (" + e.label + ")"
		}
		parts = append(parts, s)
	}
	summary := strings.Join(parts, "; ")
	if len(stats) > 0 {
		refs := make([]string, len(stats))
		for i, m := range stats {
			refs[i] = m.id + " = " + m.describe()
		}
		summary += " where " + strings.Join(refs, "; ")
	}
	return kind, summary
}

// sortedDimensions turns a dimension map into name-sorted pairs, so summaries
// do not change with map order.
func sortedDimensions(m map[string]string) [][2]string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, len(keys))
	for i, k := range keys {
		out[i] = [2]string{k, m[k]}
	}
	return out
}
