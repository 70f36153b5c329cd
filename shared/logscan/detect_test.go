package logscan

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		give string
		want bool
	}{
		// JSON logs: the level field decides.
		{"json level error", `{"level":"error","msg":"payment declined","order_id":123}`, true},
		{"json level ERROR upper", `{"level":"ERROR","message":"db down"}`, true},
		{"json severity critical", `{"severity":"Critical","message":"disk full"}`, true},
		{"json lvl fatal", `{"lvl":"fatal","msg":"cannot start"}`, true},
		{"json levelname python", `{"levelname":"ERROR","message":"boom","name":"app"}`, true},
		{"json log.level flat ECS", `{"@timestamp":"2026-01-01T00:00:00Z","log.level":"error","message":"x"}`, true},
		{"json log.level nested", `{"log":{"level":"emerg"},"message":"x"}`, true},
		{"json level alert", `{"level":"alert","msg":"x"}`, true},
		{"json level panic", `{"level":"panic","msg":"x"}`, true},
		{"json Level key in other case", `{"Level":"Error","Message":"x"}`, true},
		{"json pino 50", `{"level":50,"time":1700000000000,"msg":"request failed"}`, true},
		{"json pino 60 fatal", `{"level":60,"msg":"crash"}`, true},
		{"json bunyan level as string number", `{"level":"50","msg":"x"}`, true},
		{"json cloud logging 500", `{"severity":500,"message":"x"}`, true},
		{"json otel severity_number", `{"severity_number":17,"body":"x"}`, true},
		{"json serilog @l", `{"@t":"2026-01-01T00:00:00Z","@mt":"Order {Id} failed","@l":"Error","Id":5}`, true},
		{"json lambda uncaught without level", `{"errorType":"TypeError","errorMessage":"x is undefined","stack":["TypeError: x"]}`, true},
		{"json access 500 no level", `{"method":"GET","path":"/orders/5","status":500,"duration_ms":12}`, true},
		{"json access status string", `{"requestId":"abc","routeKey":"GET /x","status":"502"}`, true},
		{"json access info level 503", `{"level":"info","msg":"request completed","statusCode":503}`, true},
		{"json pino-http res.statusCode", `{"level":30,"res":{"statusCode":504},"msg":"request completed"}`, true},
		{"json ecs http.response.status_code", `{"log.level":"info","http.response.status_code":500}`, true},
		{"json no level traceback message", `{"msg":"Traceback (most recent call last):\n  File x\nValueError: bad"}`, true},
		{"json docker log field", `{"log":"2026-01-01 ERROR broken pipe\n","stream":"stderr"}`, true},

		{"json lambda platform timeout", `{"time":"2026-11-24T10:00:04.000Z","type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":3000.5},"status":"timeout"}}`, true},
		{"json lambda platform runtimeDone error", `{"time":"2026-11-24T10:00:04.000Z","type":"platform.runtimeDone","record":{"requestId":"r","status":"error","errorType":"Runtime.ExitError"}}`, true},
		{"json lambda platform report success", `{"time":"2026-11-24T10:00:04.000Z","type":"platform.report","record":{"requestId":"r","status":"success"}}`, false},
		{"json lambda platform start", `{"time":"2026-11-24T10:00:04.000Z","type":"platform.start","record":{"requestId":"r","version":"$LATEST"}}`, false},
		{"json level info mentions error", `{"level":"info","msg":"no error found, 0 errors"}`, false},
		{"json level warn", `{"level":"warn","msg":"ERROR budget at 80%"}`, false},
		{"json pino 30", `{"level":30,"msg":"Exception handler registered"}`, false},
		{"json pino 40 warn", `{"level":40,"msg":"slow"}`, false},
		{"json debug with 503", `{"level":"debug","msg":"retrying upstream","status":503}`, false},
		{"json warn with 502", `{"level":"warn","msg":"upstream failed, retrying","status":502}`, false},
		{"json access 200", `{"method":"GET","path":"/","status":200}`, false},
		{"json access 404", `{"method":"GET","path":"/","status":404}`, false},
		{"json status 5000", `{"status":5000}`, false},
		{"json error_count zero", `{"msg":"batch done","error_count":0,"errors":0}`, false},
		{"json error null", `{"msg":"ok","error":null}`, false},
		{"json otel info", `{"severity_number":9,"body":"error rate 0"}`, false},

		// Text logs.
		{"text ERROR word", `2026-01-01 12:00:00,123 ERROR [main] PaymentService: charge failed`, true},
		{"text bracketed", `[ERROR] 2026-01-01T12:00:00.000Z 8f1c3c2a-1b2c-4d5e-8f90-0123456789ab something broke`, true},
		{"text lambda node prefix", "2026-01-01T12:00:00.000Z\t8f1c3c2a-1b2c-4d5e-8f90-0123456789ab\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\"}", true},
		{"text python logging", `ERROR:root:cannot connect to db`, true},
		{"text FATAL", `FATAL: password authentication failed for user "app"`, true},
		{"text CRITICAL", `2026-01-01 12:00:00 CRITICAL worker died`, true},
		{"text nginx error log", `2026/01/01 12:00:00 [error] 31#31: *1 connect() failed (111: Connection refused) while connecting to upstream`, true},
		{"text apache", `[Thu Jan 01 12:00:00.123 2026] [core:error] [pid 123] AH00037: Symbolic link not allowed`, true},
		{"text logfmt level=error", `time=2026-01-01T12:00:00Z level=error msg="query failed" err="timeout"`, true},
		{"text slog LEVEL=ERROR", `time=2026-01-01T12:00:00Z level=ERROR msg=boom`, true},
		{"text klog", `E0102 15:04:05.000000       1 controller.go:42] sync failed`, true},
		{"text dotnet fail", `fail: Microsoft.AspNetCore.Server.Kestrel[13]`, true},
		{"text go panic", `panic: runtime error: index out of range [5] with length 3`, true},
		{"text traceback", `Traceback (most recent call last):`, true},
		{"text python exception line", `ValueError: invalid literal for int() with base 10: 'abc'`, true},
		{"text node error", `TypeError: Cannot read properties of undefined (reading 'id')`, true},
		{"text java exception", `Exception in thread "main" java.lang.IllegalStateException: not ready`, true},
		{"text java exception class", `com.example.PaymentException: card declined`, true},
		{"text rust error prefix", `error: could not compile`, true},
		{"text lambda timeout", `2026-01-01T12:00:00.000Z 8f1c3c2a-1b2c-4d5e-8f90-0123456789ab Task timed out after 3.00 seconds`, true},
		{"text lambda runtime exit", `RequestId: 8f1c3c2a-1b2c-4d5e-8f90-0123456789ab Error: Runtime exited with error: exit status 1`, true},
		{"text combined log 503", `10.0.0.1 - - [01/Jan/2026:12:00:00 +0000] "GET /api/orders HTTP/1.1" 503 123 "-" "curl/8.0"`, true},
		{"text combined log 500 at end", `10.0.0.1 - - [01/Jan/2026:12:00:00 +0000] "POST /pay HTTP/2.0" 500`, true},
		{"text alb 502", `http 2026-01-01T12:00:00.186641Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 502 - 34 366 "GET http://example.com:80/ HTTP/1.1" "curl/7.46.0" - -`, true},
		{"text logfmt status=502", `method=GET path=/orders status=502 duration=1.2s`, true},
		{"text info with status 503", `INFO request done status=503 took=20ms`, true},
		{"text json-ish status", `INFO {"path":"/x","status":500}`, true},

		{"text zero errors", `Processed 120 records, 0 errors`, false},
		{"text error_count", `stats error_count=0 warn_count=3`, false},
		{"text ERRORS upper plural", `ERRORS=0 WARNINGS=2`, false},
		{"text INFO no error", `2026-01-01 12:00:00 INFO health check ok, no error`, false},
		{"text info mentions Exception", `INFO registered Exception handler for /api`, false},
		{"text warn mentions ERROR", `WARN retry after ERROR from upstream`, false},
		{"text lambda START", `START RequestId: 8f1c3c2a-1b2c-4d5e-8f90-0123456789ab Version: $LATEST`, false},
		{"text lambda REPORT", `REPORT RequestId: 8f1c3c2a-1b2c-4d5e-8f90-0123456789ab	Duration: 12.3 ms	Billed Duration: 13 ms`, false},
		{"text lowercase error word", `retrying: an error is expected here during warmup`, false},
		{"text errorHandler", `registered errorHandler middleware`, false},
		{"text combined log 200", `10.0.0.1 - - [01/Jan/2026:12:00:00 +0000] "GET /api/orders HTTP/1.1" 200 512`, false},
		{"text combined log 404", `10.0.0.1 - - [01/Jan/2026:12:00:00 +0000] "GET /missing HTTP/1.1" 404 0`, false},
		{"text body size 503 bytes", `10.0.0.1 - - [01/Jan/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 503`, false},
		{"text status 5000", `status=5000 done`, false},
		{"text status 500ms", `latency status=ok took=500ms`, false},
		{"text debug with 503", `DEBUG upstream answered status=503, retrying`, false},
		{"text ERROR_CODE identifier", `ERROR_CODE=0`, false},
		{"text ERROR_COUNT counter", `ERROR_COUNT=0`, false},
		{"text ERROR counter", `ERROR=0 WARN=2`, false},
		{"text grpc NO_ERROR", `grpc status OK (NO_ERROR)`, false},
		{"text SHOW_ERROR_PAGE flag", `SHOW_ERROR_PAGE enabled`, false},
		{"text quoted UI string", `user clicked 'Report ERROR'`, false},
		{"text double-quoted UI string", `user clicked "Report ERROR" button`, false},
		{"text level after quoted string", `2026-01-01 12:00:00 "worker" ERROR queue stalled`, true},
		{"text ERROR before identifier", `ERROR SHOW_ERROR_PAGE missing`, true},
		{"text ERROR after identifier", `SHOW_ERROR_PAGE=1 then ERROR from renderer`, true},
		{"json quoted single level word", `{"status":"ERROR","op":"charge"}`, true},
		{"json quoted UI string", `{"event_name":"click","label":"Report ERROR"}`, false},
		{"text empty", ``, false},
		{"text broken json", `{"level":"error"`, true}, // not JSON: read as text, and level= still decides
		{"text invalid utf8", "\xff\xfe ok", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.give)
			if got.Error != tt.want {
				t.Errorf("Classify(%q).Error = %v (reason %q), want %v", tt.give, got.Error, got.Reason, tt.want)
			}
		})
	}
}

func TestClassifyAccessStatus(t *testing.T) {
	tests := []struct {
		name string
		give string
		want int
	}{
		{"combined log", `1.2.3.4 - - [01/Jan/2026:12:00:00 +0000] "GET /a HTTP/1.1" 503 1 "-" "x"`, 503},
		{"logfmt", `status=502 path=/x`, 502},
		{"json", `{"status":500,"path":"/x"}`, 500},
		{"error level line keeps no status", `{"level":"error","msg":"x","status":500}`, 0},
		{"not access", `ERROR boom`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.give).Status; got != tt.want {
				t.Errorf("Classify(%q).Status = %d, want %d", tt.give, got, tt.want)
			}
		})
	}
}
