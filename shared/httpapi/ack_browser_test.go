package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentd/incidentd/shared/incident"
)

// The link in a real browser, at a phone's size: the page shows the
// incident, pressing Acknowledge posts its form (the CSP lets it post to
// its own origin; the SameSite cookie comes back) and the incident is
// acknowledged by the responder. The page passes browse's checks (no
// refused resource, no error, not wider than the screen).
func TestAckLinkInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	srv := serve(t, e)
	path := ackPath(t, id, "alice", time.Now().Add(time.Hour))

	texts, problems := browse(t, srv.URL+path, nil, "")
	for _, p := range problems {
		t.Errorf("the browser reported %s", p)
	}
	for vp, text := range texts {
		for _, want := range []string{"Checkout is failing", "checkout · SEV2", "Acknowledge", "Resolve", "As alice."} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the page does not show %q:\n%s", vp, want, text)
			}
		}
	}
	if st, did := e.state(t, id); st != incident.StatusTriggered || len(did) != 0 {
		t.Fatalf("after loading the page: got %s %v, want triggered and nothing done", st, did)
	}

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()))
	defer cancel()
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL+path),
		chromedp.WaitReady(`button[value="acknowledge"]`),
		chromedp.Click(`button[value="acknowledge"]`),
		chromedp.WaitReady(`div.banner`),
	)
	if err != nil {
		t.Fatalf("press Acknowledge: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Acknowledged by alice") {
		t.Errorf("after pressing Acknowledge the page shows:\n%s\nwant Acknowledged by alice", text)
	}
	if st, did := e.state(t, id); st != incident.StatusAcknowledged || strings.Join(did, ",") != "acknowledged by alice" {
		t.Errorf("got %s %v, want acknowledged by alice", st, did)
	}
}
