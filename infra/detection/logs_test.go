package detection

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/logscan"
)

// cloudWatchRegex is SubscriptionPattern as a Go regular expression: the
// part between the % signs. CloudWatch's regex syntax is a subset of Go's
// (no groups, no flags), and both match anywhere in the line.
func cloudWatchRegex(t *testing.T) *regexp.Regexp {
	t.Helper()
	inner, ok := strings.CutPrefix(SubscriptionPattern, "%")
	if !ok || !strings.HasSuffix(inner, "%") {
		t.Fatalf("SubscriptionPattern %q is not a CloudWatch regex between %% signs", SubscriptionPattern)
	}
	inner = strings.TrimSuffix(inner, "%")
	// What CloudWatch accepts in a regex filter pattern: alphanumerics, the
	// symbols : _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \ * + .
	// ("()" and spaces are refused).
	if bad := regexp.MustCompile(`[^A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]`).FindString(inner); bad != "" {
		t.Fatalf("SubscriptionPattern holds %q, which CloudWatch's regex filter patterns do not accept", bad)
	}
	if len(SubscriptionPattern) > 1024 {
		t.Fatalf("SubscriptionPattern is %d characters, over CloudWatch's 1024", len(SubscriptionPattern))
	}
	return regexp.MustCompile(inner)
}

// Every line the logs function counts as an error passes the subscription's
// default pattern, so filtering at the source loses no detection: one line
// per rule of logscan.Classify, and every line of the logs fixtures in
// events/. Ordinary lines are dropped at the source.
func TestSubscriptionPatternCoversDetection(t *testing.T) {
	re := cloudWatchRegex(t)
	errorLines := []string{
		`{"level":"ERROR","msg":"charge failed"}`,
		`{"level":"error","msg":"x"}`,
		`{"severity":"CRITICAL","message":"db down"}`,
		`{"lvl":"fatal","msg":"x"}`,
		`{"log.level":"emerg","message":"x"}`,
		`{"levelname":"SEVERE","message":"x"}`,
		`{"level":"alert","msg":"x"}`,
		`{"level":"panic","msg":"x"}`,
		`{"level":"crit","msg":"x"}`,
		`{"level":50,"msg":"pino error"}`,
		`{"level":60,"msg":"pino fatal"}`,
		`{"severity":500,"message":"cloud logging error"}`,
		`{"severity_number":17,"body":"otel error"}`,
		`{"severityNumber":21,"body":"otel fatal"}`,
		`{"level":"info","status":503,"path":"/checkout"}`,
		`{"level":"info","statusCode":500,"path":"/x"}`,
		`{"msg":"request","http":{"response":{"status_code":502}}}`,
		`{"level":"info","res":{"statusCode":504}}`,
		`{"status_code": 500, "path": "/pay"}`,
		`{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited with error: exit status 2"}`,
		`{"exception":"NullPointerException at Foo.bar"}`,
		`{"exc_info":"Traceback ...","message":"boom"}`,
		`{"@x":"System.InvalidOperationException: nope","@mt":"failed"}`,
		`{"time":"2026-12-03T10:00:00Z","type":"platform.report","record":{"status":"timeout"}}`,
		`{"time":"2026-12-03T10:00:00Z","type":"platform.runtimeDone","record":{"status":"failure"}}`,
		`2026-12-03T10:00:00Z ERROR payment declined`,
		`[ERROR] 2026-12-03 db pool exhausted`,
		`ERROR:root:something broke`,
		"2026-12-03T10:00:00.000Z\t8f2b1c3d\tERROR\tInvoke Error",
		`2026/12/03 10:00:00 [error] 12#12: upstream timed out`,
		`fail: Microsoft.AspNetCore.Server.Kestrel[13] Connection id "0HM" application error`,
		`crit: App[0] cannot start`,
		`E0102 15:04:05.000000   1 controller.go:12] sync failed`,
		`level=error msg="cannot connect"`,
		`time=2026-12-03T10:00:00Z level=ERROR msg=boom`,
		`severity=critical component=db`,
		`FATAL: role "x" does not exist`,
		`PANIC in worker`,
		`panic: runtime error: index out of range [3] with length 3`,
		`Traceback (most recent call last):`,
		`java.lang.IllegalStateException: closed`,
		`ValueError: invalid literal for int()`,
		`TypeError: cannot read properties of undefined`,
		`error: could not open file`,
		`fatal: not a git repository`,
		`2026-12-03T10:00:00.000Z 8f2b1c3d Task timed out after 30.03 seconds`,
		`RequestId: 8f2b Error: Runtime exited with error: signal: killed`,
		`10.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "GET /checkout HTTP/1.1" 503 0 "-" "curl/8"`,
		`10.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "POST /pay HTTP/2" 500 12 "-" "x"`,
		`method=GET path=/x status=502 duration=12ms`,
		`status_code: 500 path=/y`,
		`SEVERE: Servlet.service() threw`,
		`ALERT disk full`,
		`EMERG kernel`,
		`CRITICAL battery`,
	}
	for _, line := range errorLines {
		if c := logscan.Classify(line); !c.Error {
			t.Errorf("logscan does not count %q as an error (%s): fix the table", line, c.Reason)
			continue
		}
		if !re.MatchString(line) {
			t.Errorf("SubscriptionPattern drops %q, which the logs function counts as an error (%s)", line, logscan.Classify(line).Reason)
		}
	}
	// Every error line of the fixtures the tests replay.
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "logs-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/logs-*.json fixtures (%v)", err)
	}
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		data, err := logscan.Decode(ev)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, le := range data.LogEvents {
			if logscan.Classify(le.Message).Error {
				n++
				if !re.MatchString(le.Message) {
					t.Errorf("%s: SubscriptionPattern drops %q, an error line", filepath.Base(f), le.Message)
				}
			}
		}
	}
	if n == 0 {
		t.Errorf("found no error lines in events/logs-*.json")
	}

	// Lines that are no errors and are dropped at the source.
	quiet := []string{
		`{"level":"info","msg":"request served","status":200,"path":"/checkout","duration_ms":12}`,
		`{"level":30,"msg":"pino info","time":1764756000512}`,
		`2026-12-03T10:00:00.512Z INFO checkout completed order=1234`,
		`10.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "GET /health HTTP/1.1" 200 2 "-" "kube-probe/1.30"`,
		`START RequestId: 8f2b1c3d Version: $LATEST`,
		`REPORT RequestId: 8f2b1c3d Duration: 5.31 ms Billed Duration: 6 ms Memory Size: 256 MB Max Memory Used: 25 MB`,
		`method=GET path=/x status=200 duration=512ms`,
	}
	for _, line := range quiet {
		if logscan.Classify(line).Error {
			t.Errorf("logscan counts %q as an error: fix the table", line)
			continue
		}
		if re.MatchString(line) {
			t.Errorf("SubscriptionPattern sends %q, an ordinary line, to the logs function", line)
		}
	}
}
