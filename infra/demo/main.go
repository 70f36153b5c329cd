// Command demo (`make demo`) walks one incident through its whole lifecycle on
// a running local platform and prints each step as it happens (infra/tour;
// README "Tour"): an alarm storm, the pages of two levels, user reports
// raising a severity, acknowledge, identify, notes, resolve, the post-mortem
// and the DORA summary. It exits 0 when every step was observed, 1 naming the
// step that was not (and what was seen instead), 2 when it could not start.
//
// It talks to `make local` at 127.0.0.1:LOCAL_API_PORT (3000) and
// LOCAL_LAMBDA_PORT (3001), the variables `make local` reads, or at -api and
// -invoke. The token is the one `make local` seeds: LOCAL_API_TOKEN, else the
// public development token (README "Quick start"), or -token.
//
// When nothing answers there, it starts a local platform itself (the program
// of `make local`, built into a temporary folder and run with the same
// environment and ports, its output in a log file), waits until it answers,
// and stops it at the end; -start=false exits 2 instead, asking for `make
// local`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/incidentd/incidentd/infra/tour"
	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", "http://127.0.0.1:"+orDefault(getenv("LOCAL_API_PORT"), "3000"), "the local platform's HTTP API")
	invoke := fs.String("invoke", "http://127.0.0.1:"+orDefault(getenv("LOCAL_LAMBDA_PORT"), "3001"), "its Lambda invoke endpoint")
	token := fs.String("token", orDefault(getenv("LOCAL_API_TOKEN"), auth.LocalDevToken), "an admin token (make local's)")
	start := fs.Bool("start", true, "start a local platform when none answers (false: exit 2)")
	storm := fs.Int("storm", 200, "copies of the alarm's notification in the storm")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for a page or the post-mortem")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // asked for the usage, which Parse printed
		}
		return 2
	}
	root, err := dynamolocal.ModuleRoot()
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v (run it from the repository)\n", err)
		return 2
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if !answers(ctx, client, *api) {
		if !*start {
			fmt.Fprintf(stderr, "demo: nothing answers at %s: start `make local` first\n", *api)
			return 2
		}
		stopLocal, err := startLocal(ctx, root, *api, *invoke, client, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "demo: %v\n", err)
			return 2
		}
		defer stopLocal()
	}
	err = tour.Run(ctx, tour.Config{
		API: *api, Invoke: *invoke, Token: *token, Events: filepath.Join(root, "events"),
		Out: stdout, Storm: *storm, Wait: *wait, Client: client,
	})
	if err != nil {
		fmt.Fprintf(stderr, "\ndemo failed: %v\n", err)
		return 1
	}
	return 0
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// answers says whether an HTTP server answers at base (any status).
func answers(ctx context.Context, client *http.Client, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// startLocal builds and starts the local platform on the ports of api and
// invoke, with this environment (LOCAL_DYNAMODB_PORT and the others as
// `make local` reads them), its output in a log file, and waits until it
// answers. The function it returns stops it (SIGINT, as Ctrl-C on `make
// local`: DynamoDB Local stops with it) and waits for it.
func startLocal(ctx context.Context, root, api, invoke string, client *http.Client, out io.Writer) (func(), error) {
	apiPort, err := port(api)
	if err != nil {
		return nil, err
	}
	lambdaPort, err := port(invoke)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "incidentd-demo-")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "local.log")
	fmt.Fprintf(out, "nothing answers at %s: starting the local platform (make local), its output in %s …\n", api, logPath)
	bin := filepath.Join(dir, "local")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./infra/local")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build infra/local: %v\n%s", err, b)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "LOCAL_API_PORT="+apiPort, "LOCAL_LAMBDA_PORT="+lambdaPort)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start infra/local: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		os.Remove(bin)
		fmt.Fprintf(out, "stopped the local platform it started (its output: %s)\n", logPath)
	}
	// DynamoDB Local starts in about 3 s, the platform seeds its data: a
	// minute is plenty.
	for end := time.Now().Add(time.Minute); !answers(ctx, client, api); {
		select {
		case err := <-exited:
			logFile.Close()
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("the local platform exited (%v) before answering:\n%s", err, tail(string(b), 20))
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(end) {
			stop()
			return nil, errors.New("the local platform did not answer within a minute (its output: " + logPath + ")")
		}
	}
	fmt.Fprintf(out, "the local platform answers at %s\n\n", api)
	return stop, nil
}

// port is the port of a base URL on this machine.
func port(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", base, err)
	}
	host, p, err := net.SplitHostPort(u.Host)
	if err != nil || (host != "127.0.0.1" && host != "localhost") {
		return "", fmt.Errorf("%s: only a platform on 127.0.0.1 with a port can be started here; start `make local` first", base)
	}
	return p, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
