package httpapi_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/incidentd/incidentd/shared/httpapi"
)

// The pages in a real browser (README, "Pages"): headless Chromium loads
// each from an httptest server on 127.0.0.1 over DynamoDB Local data, at a
// phone's viewport and a desktop's, and the test reads what it rendered.
// -screenshots writes the desktop renderings to .docs/screenshots/, the
// README's images.
var screenshots = flag.Bool("screenshots", false, "write .docs/screenshots/status.png and dora.png from the browser tests")

// chromiumPath finds Chromium: $CHROMIUM, else Debian's. Without one the
// test is skipped on a laptop, and fails in CI (CI set), where .ci/run
// installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	const msg = "no Chromium found (looked for $CHROMIUM, /usr/bin/chromium, chromium, chromium-browser): install it with `apt-get install chromium`"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI must run the browser tests (.ci/run installs it)")
	}
	t.Skip("browser test skipped: " + msg)
	return ""
}

// viewports are the sizes each page is loaded at.
var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"phone", 390, 844, true},
	{"desktop", 1280, 900, false},
}

// browse loads url in a fresh headless Chromium at each viewport, with
// header sent on every request, and returns the page's text per viewport
// and what went wrong: console errors, uncaught exceptions, errors in the
// browser's log (a refused or failed resource among them), a page wider
// than the screen. shot, if set, gets the desktop screenshot.
func browse(t *testing.T, url string, header map[string]string, shot string) (texts map[string]string, problems []string) {
	t.Helper()
	exe := chromiumPath(t)
	texts = map[string]string{}
	for _, vp := range viewports {
		alloc, cancel := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.UserDataDir(t.TempDir()))
		ctx, cancelCtx := chromedp.NewContext(alloc)
		ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
		var mu sync.Mutex
		err := chromedp.Listen(ctx, func(ev any) {
			mu.Lock()
			defer mu.Unlock()
			switch ev := ev.(type) {
			case *runtime.EventExceptionThrown:
				problems = append(problems, vp.name+": exception: "+ev.ExceptionDetails.Text)
			case *runtime.EventConsoleAPICalled:
				if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
					problems = append(problems, fmt.Sprintf("%s: console.%s", vp.name, ev.Type))
				}
			case *log.EventEntryAdded:
				if ev.Entry.Level == log.EntryLevelError {
					problems = append(problems, vp.name+": log: "+ev.Entry.Text+" "+ev.Entry.URL)
				}
			}
		})
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
		headers := network.Headers{}
		for k, v := range header {
			headers[k] = v
		}
		var opts []chromedp.EmulateViewportOption
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(3))
		}
		err = chromedp.Do(ctx,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
					return err
				}
				_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: headers})
				return err
			}),
			chromedp.EmulateViewport(vp.width, vp.height, opts...),
			chromedp.Navigate(url),
			chromedp.WaitReady("body"),
		)
		if err != nil {
			t.Fatalf("%s: load %s: %v", vp.name, url, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
		if err != nil {
			t.Fatalf("%s: read the page: %v", vp.name, err)
		}
		texts[vp.name] = text
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth"))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			mu.Lock()
			problems = append(problems, fmt.Sprintf("the page is wider than the %s's screen (%d px)", vp.name, vp.width))
			mu.Unlock()
		}
		if shot != "" && !vp.mobile {
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", shot)
		}
		// A moment for late events (a resource refused after load).
		_ = chromedp.Do(ctx, chromedp.Sleep(200*time.Millisecond))
		cancelTimeout()
		cancelCtx()
		cancel()
	}
	return texts, problems
}

// screenshotPath is where -screenshots writes name (the repository's
// .docs/screenshots), or "" without the flag.
func screenshotPath(name string) string {
	if !*screenshots {
		return ""
	}
	return filepath.Join("..", "..", ".docs", "screenshots", name)
}

func serve(t *testing.T, e *env) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(httpapi.Dispatch(map[string]http.Handler{httpapi.FunctionAPI: e.api, httpapi.FunctionWeb: e.web}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStatusPageInBrowser(t *testing.T) {
	chromiumPath(t)
	e := statusEnv(t, envOptions{publicStatus: true})
	srv := serve(t, e)
	texts, problems := browse(t, srv.URL+"/status", nil, screenshotPath("status.png"))
	for _, p := range problems {
		t.Errorf("the browser reported %s", p)
	}
	for vp, text := range texts {
		for _, want := range []string{"Service status", "Major outage on at least one service",
			"checkout\nPartial outage", "payments\nMajor outage", "search\nOperational", "docs\nOperational",
			"Payments at checkout are slow; we are on it. <b>not bold</b>", "Search was slow for an hour; it is back to normal.",
			"We are investigating an issue with this service.", "No incidents in the last 7 days."} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the page does not show %q:\n%s", vp, want, text)
			}
		}
		if strings.Contains(text, "internal") || strings.Contains(text, "db-7") {
			t.Errorf("%s: the page shows internal text:\n%s", vp, text)
		}
	}
}

func TestDORAPageInBrowser(t *testing.T) {
	chromiumPath(t)
	e := doraPageEnv(t)
	srv := serve(t, e)
	auth := map[string]string{"Authorization": "Bearer " + e.tokens["reader"]}
	texts, problems := browse(t, srv.URL+"/metrics/dora?window_days=7", auth, screenshotPath("dora.png"))
	for _, p := range problems {
		t.Errorf("the browser reported %s", p)
	}
	for vp, text := range texts {
		for _, want := range []string{"DORA metrics", "All services", "payments", "search",
			"0.43 / day", "75 %", "3 of 4 deployments failed", "18 h median", "1.5 h median", "elite", "low",
			"Deployment frequency", "Lead time for changes", "Change failure rate", "Time to restore service"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the page does not show %q:\n%s", vp, want, text)
			}
		}
	}
}

// The checks above see what they look for: a page with a console error, an
// exception, an image from elsewhere and a wide table reports each.
func TestBrowseReportsProblems(t *testing.T) {
	chromiumPath(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<div style="width:2000px">wide</div><img src="/missing.png" alt="">
<script>console.error("broken"); throw new Error("boom");</script></body></html>`)
	}))
	defer srv.Close()
	_, problems := browse(t, srv.URL+"/", nil, "")
	all := strings.Join(problems, "\n")
	for _, want := range []string{"phone: console.error", "desktop: exception: Uncaught", "404", "wider than the phone's screen"} {
		if !strings.Contains(all, want) {
			t.Errorf("got problems %q, want one with %q", problems, want)
		}
	}
}
