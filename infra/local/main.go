// Command local runs the whole platform on a laptop, with no AWS account and no
// Docker (`make local`): DynamoDB Local (AWS's own emulator) with the table built
// from the shared schema and demo services seeded; the HTTP API on
// 127.0.0.1:3000 (as `sam local start-api`); and a Lambda Invoke API on
// 127.0.0.1:3001 (as `sam local start-lambda`) that runs every function under
// functions/ in this one process, with the same handlers Lambda runs.
//
// Environment: every variable the functions read, read by package settings
// as in Lambda (see its documentation; TABLE_NAME defaults to
// incidentd-local, DEFAULT_SERVICE, LOG_GROUP_SERVICES and DEPLOY_SERVICES
// to what the services file gives, as the stack sets them, and the file's
// services are applied as the stack's custom resource applies them;
// SLACK_BOT_TOKEN and
// SLACK_SIGNING_SECRET stand for the secret: without a bot token Slack calls
// are recorded, not sent; the AWS resources' ARNs are not read, the local
// adapters stand in for them), and the local runtime's own: LOCAL_API_PORT
// (3000), LOCAL_LAMBDA_PORT (3001), LOCAL_DYNAMODB_PORT (8000), LOCAL_DB_PATH
// (empty: in memory), LOCAL_API_TOKEN (the admin token to seed; default the
// public dev token), LOCAL_TIME_SCALE (60: a policy minute of an escalation
// lasts a second), LOCAL_S3_PORT (the post-mortem bucket's S3, gofakes3 in
// this process; default a free port, printed at start; in memory, so with
// LOCAL_DB_PATH an incident's post-mortem is written anew at its next
// resolve or PUT /incidents/{id}/postmortem), LOCAL_SERVICES (the services
// file, relative to the module root; default infra/services.example.json).
// ACK_LINK_KEY defaults to the public LocalAckLinkKey and PUBLIC_API_URL to
// the API port, so each PAGE line ends with an acknowledge link to open in a
// browser.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

func main() {
	// Ctrl-C (SIGINT, which the terminal sends to make, go and this
	// program alike) and SIGTERM stop the platform cleanly: exit status 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "replay" {
		code := runReplay(ctx, os.Args[2:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	fs := flag.NewFlagSet("local", flag.ExitOnError) // -h, -help: the usage, exit 0
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
	}
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unknown argument %q\n\n%s", fs.Arg(0), usage)
		stop()
		os.Exit(2)
	}
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

const usage = `usage: go run ./infra/local            the whole platform on 127.0.0.1 (make local)
       go run ./infra/local replay     every events/ fixture against it (make replay; -h for its flags)

Settings are environment variables: those of the functions (README "Environment of
the functions") and LOCAL_API_PORT (3000), LOCAL_LAMBDA_PORT (3001),
LOCAL_DYNAMODB_PORT (8000), LOCAL_S3_PORT, LOCAL_DB_PATH, LOCAL_API_TOKEN,
LOCAL_TIME_SCALE (60), LOCAL_LOG_FILE (.local/incidentd.log; - for the terminal);
README "Local development".
`

func run(ctx context.Context) error {
	root, err := dynamolocal.ModuleRoot()
	if err != nil {
		return err
	}
	// The JSON logs go to a file (LOCAL_LOG_FILE), the terminal gets the
	// readable lines (terminal.go). The level is LOG_LEVEL as package
	// settings reads it (newPlatform sets it).
	logs, logPath, closeLog, err := openLog(os.Getenv, root)
	if err != nil {
		return err
	}
	defer closeLog()
	level := new(slog.LevelVar)
	logger := slog.New(newPeopleHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}), os.Stdout))
	slog.SetDefault(logger)
	if logPath != "" {
		fmt.Printf("JSON logs: %s (LOCAL_LOG_FILE=- puts them on the terminal; LOG_LEVEL=debug adds them there)\n", logPath)
	}
	apiPort, err := portEnv(os.Getenv, "LOCAL_API_PORT", 3000, 1)
	if err != nil {
		return err
	}
	lambdaPort, err := portEnv(os.Getenv, "LOCAL_LAMBDA_PORT", 3001, 1)
	if err != nil {
		return err
	}
	dbPort, err := portEnv(os.Getenv, "LOCAL_DYNAMODB_PORT", 8000, 1)
	if err != nil {
		return err
	}
	fmt.Printf("starting DynamoDB Local on 127.0.0.1:%d …\n", dbPort)
	db, err := dynamolocal.Start(ctx, dynamolocal.Options{Port: dbPort, DBPath: os.Getenv("LOCAL_DB_PATH")})
	if err != nil {
		return err
	}
	defer db.Stop()

	// The pages' acknowledge links point at the API port.
	getenv := func(k string) string {
		if v := os.Getenv(k); v != "" || k != "PUBLIC_API_URL" {
			return v
		}
		return fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	}
	p, err := newPlatform(ctx, db.Endpoint, getenv, logger, withLogLevel(level), withSchedules())
	if err != nil {
		return err
	}
	defer p.close() // before DynamoDB Local stops: escalations end first
	apiLn, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort)))
	if err != nil {
		return fmt.Errorf("listen for the API: %w", err)
	}
	lambdaLn, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(lambdaPort)))
	if err != nil {
		return fmt.Errorf("listen for Lambda invocations: %w", err)
	}
	servers := []*http.Server{
		{Handler: p.api, ReadHeaderTimeout: 10 * time.Second},
		{Handler: &invokeServer{functions: p.functions, log: logger}, ReadHeaderTimeout: 10 * time.Second},
	}
	errc := make(chan error, 2)
	go func() { errc <- servers[0].Serve(apiLn) }()
	go func() { errc <- servers[1].Serve(lambdaLn) }()
	printWelcome(os.Stdout, "http://"+apiLn.Addr().String(), "http://"+lambdaLn.Addr().String(), db.Endpoint, p)

	select {
	case <-ctx.Done():
		fmt.Println("\nstopping …")
	case err = <-errc:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdown)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// portEnv is the port number of the environment variable name (read by
// getenv), def when it is unset; lowest is the least one allowed (0: a free
// port).
func portEnv(getenv func(string) string, name string, def, lowest int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lowest || n > 65535 {
		return 0, fmt.Errorf("%s %q is not a port number", name, v)
	}
	return n, nil
}
