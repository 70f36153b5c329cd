package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
)

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// An alarm on make local pages with a link signed by the local key; the
// link's page, then its Acknowledge, acknowledge the incident in the
// responder's name and stop the escalation (README "Acknowledge from the
// page").
func TestLocalPageLinkAcknowledges(t *testing.T) {
	pages := &pageRecorder{}
	p, api, invoke := startLocal(t, map[string]string{"LOCAL_TIME_SCALE": "300"}, withPager(pages))
	store := dynamo.New(dynamolocal.Client(dynamotest.Endpoint(t)), p.settings.Table)

	postAlarm(t, invoke.URL)
	got := pages.waitPages(1, 2*time.Second)
	if len(got) == 0 {
		t.Fatal("no page within 2 s of the alarm")
	}
	pg := got[0]
	link, err := url.Parse(pg.Link)
	if err != nil || link.Host != "127.0.0.1:3000" || !strings.HasPrefix(link.Path, "/ack/") {
		t.Fatalf("page link: got %q, want http://127.0.0.1:3000/ack/<token>", pg.Link)
	}
	var line bytes.Buffer
	(&printPager{out: &line, log: slog.New(slog.NewJSONHandler(io.Discard, nil))}).Page(t.Context(), pg.ResponderPage)
	if !strings.HasSuffix(strings.TrimSpace(line.String()), " ack "+pg.Link) {
		t.Errorf("PAGE line: got %q, want it to end with the link", line.String())
	}

	// The page (GET changes nothing), then its form, as a browser sends it.
	res, err := http.Get(api.URL + link.Path)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, res)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil || len(res.Cookies()) != 1 {
		t.Fatalf("GET link: got %d %s, want the page with its form and cookie", res.StatusCode, body)
	}
	form := url.Values{"action": {"acknowledge"}, "csrf": {m[1]}}
	req, _ := http.NewRequest(http.MethodPost, api.URL+link.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(res.Cookies()[0])
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, "Acknowledged by "+pg.Responder) {
		t.Fatalf("POST acknowledge: got %d %s, want 200 Acknowledged by %s", res.StatusCode, body, pg.Responder)
	}
	inc, tl, _, err := incident.NewService(store, p.settings.Rules()).Get(t.Context(), pg.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	var by []string
	for _, e := range tl {
		if e.Kind == incident.EntryAcknowledged {
			by = append(by, e.Actor)
		}
	}
	if inc.Status != incident.StatusAcknowledged || strings.Join(by, ",") != pg.Responder {
		t.Errorf("incident: got %s acknowledged by %v, want acknowledged by %s", inc.Status, by, pg.Responder)
	}
	// Level 1 waits 200 ms: no level-2 page after the acknowledgement.
	time.Sleep(600 * time.Millisecond)
	for _, s := range pages.sent() {
		if s.Level != 1 {
			t.Errorf("got a level %d page to %s after the acknowledgement, want none", s.Level, s.Responder)
		}
	}
}
