package httpapi

import (
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The web function's pages (README, "Pages: the status page and the
// DORA report"): one self-contained HTML
// document each, with inline CSS, no script and no asset from elsewhere (the
// CSP below forbids any). They are written by Go code through page.printf,
// which escapes every argument, rather than by html/template: that package
// (its init, and the reflection its method calls need, which keeps every
// exported method of the binary) added 3.9 MB to a bootstrap and its init
// to the api's, which links this package too (README, "Bootstrap size").

// page is an HTML document being written.
type page struct{ b strings.Builder }

// printf writes format, trusted markup, with each argument escaped: a
// string or fmt.Stringer as HTML text (also safe in a quoted attribute),
// a number as it prints. Markup never comes from an argument.
func (p *page) printf(format string, args ...any) {
	esc := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			esc[i] = escapeHTML(v)
		case fmt.Stringer:
			esc[i] = escapeHTML(v.String())
		case int, int64, float64:
			esc[i] = v
		default:
			esc[i] = escapeHTML(fmt.Sprint(v))
		}
	}
	fmt.Fprintf(&p.b, format, esc...)
}

// raw writes markup the page built itself (an SVG chart).
func (p *page) raw(markup string) { p.b.WriteString(markup) }

// escapeHTML escapes the five characters that matter in HTML text and in
// quoted attribute values.
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, `&<>"'`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// head starts a page titled title.
func (p *page) head(title string) { p.headWith(title, "", "") }

// headWith starts a page titled title with meta (the page's own markup,
// before the icon) and css besides pageCSS.
func (p *page) headWith(title, meta, css string) {
	p.raw(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
`)
	p.raw(meta)
	p.printf(`<link rel="icon" href="data:,">
<title>%s</title>
<style>`, title)
	// The stylesheet is the page's own markup: not escaped (an escaped
	// quote is no quote in <style>, where entities are not decoded).
	p.raw(pageCSS)
	if css != "" {
		p.raw("\n" + css)
	}
	p.raw(`</style>
</head>
<body>
<main>
`)
}

// foot ends the page.
func (p *page) foot() { p.raw("</main>\n</body>\n</html>\n") }

const pageCSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2933;background:#f5f7fa}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:0}
p{margin:.25rem 0}
.muted{color:#52606d;font-size:.875rem}
.banner{border-radius:.5rem;padding:1rem;font-weight:600;color:#fff;margin-bottom:1rem}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}
.card h2{margin:0}
.row{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:.25rem 1rem}
.badge{display:inline-block;border-radius:1rem;padding:.1rem .6rem;font-size:.8rem;font-weight:600;color:#fff;white-space:nowrap}
.operational{background:#1f7a4d}.degraded{background:#a35f00}.partial_outage{background:#c2410c}.major_outage{background:#b42318}
.elite{background:#1f7a4d}.high{background:#2f6fb3}.medium{background:#a35f00}.low{background:#b42318}.none{background:#7b8794}
ul.incidents{list-style:none;margin:.5rem 0 0;padding:0}
ul.incidents li{border-top:1px solid #e4e7eb;padding:.5rem 0}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{font-size:.85rem;color:#52606d}
td .badge{margin-left:.25rem}
.scroll{overflow-x:auto;border:1px solid #d9e2ec;border-radius:.5rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,26rem),1fr));gap:1rem}
figure{margin:0;background:#fff;border:1px solid #d9e2ec;border-radius:.5rem;padding:.75rem}
figcaption{font-weight:600;margin-bottom:.25rem}
svg{width:100%;height:auto;display:block}
.legend{list-style:none;padding:0;margin:.25rem 0 0;display:flex;flex-wrap:wrap;gap:.25rem .75rem;font-size:.85rem}
.swatch{display:inline-block;width:.9rem;height:.25rem;vertical-align:middle;margin-right:.3rem}
footer{margin:2rem 0 1rem}`

// pageCSP lets a page use its inline styles and data: images alone: a
// reference to anything outside is refused by the browser (and logged, which
// the browser tests would see).
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// writePage answers p as HTML, cached for maxAge seconds, publicly or
// privately.
func writePage(w http.ResponseWriter, p *page, maxAge int, public bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	setCache(h, maxAge, public)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(p.b.String()))
}

func setCache(h http.Header, maxAge int, public bool) {
	scope := "private"
	if public {
		scope = "public"
	}
	h.Set("Cache-Control", scope+", max-age="+strconv.Itoa(maxAge))
	h.Set("Vary", "Accept, Authorization")
}

// wantsHTML reports whether the client prefers HTML to JSON: its format
// parameter ("html", "json") if given, else its Accept header, where
// text/html must weigh more than application/json (a browser's
// "text/html,…,*/*;q=0.8" does; curl's "*/*" and a missing header are
// JSON).
func wantsHTML(r *http.Request, format string) bool {
	switch format {
	case "html":
		return true
	case "json":
		return false
	}
	html, json := 0.0, 0.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "text/html":
			html = max(html, q)
		case "application/json":
			json = max(json, q)
		case "*/*":
			json = max(json, min(q, 0.999)) // an explicit type wins over the wildcard
		}
	}
	return html > 0 && html > json
}

func formatWhen(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

// formatDuration writes seconds the way a person reads them: 45 s, 12 min,
// 5.5 h, 3.2 days.
func formatDuration(p *float64) string {
	if p == nil {
		return "no data"
	}
	s := *p
	switch {
	case s < 60:
		return fmt.Sprintf("%.0f s", s)
	case s < 3600:
		return fmt.Sprintf("%.0f min", s/60)
	case s < 48*3600:
		return trim(fmt.Sprintf("%.1f", s/3600)) + " h"
	}
	return trim(fmt.Sprintf("%.1f", s/86400)) + " days"
}

func formatPercent(p *float64) string {
	if p == nil {
		return "no data"
	}
	return trim(fmt.Sprintf("%.1f", *p*100)) + " %"
}

func formatNumber(p *float64) string {
	if p == nil {
		return "no data"
	}
	if math.Abs(*p) >= 10 {
		return fmt.Sprintf("%.0f", *p)
	}
	return trim(fmt.Sprintf("%.2f", *p))
}

func trim(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
