package logscan

import (
	"strings"
	"testing"
)

func fingerprintOf(msg string) (string, string) { return Fingerprint(Classify(msg)) }

// Lines that differ only in ids, numbers, times, addresses and quoted values are
// one error.
func TestFingerprintSameError(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"ids and numbers",
			`{"level":"error","msg":"payment 12345 failed for order ord_8f7a6b3c after 30s","request_id":"r1"}`,
			`{"level":"error","msg":"payment 98 failed for order ord_00aa11bb after 5s","request_id":"r2"}`},
		{"lambda prefix with time and request id",
			"2026-01-01T12:00:00.000Z\t8f1c3c2a-1b2c-4d5e-8f90-0123456789ab\tERROR\tdb timeout on shard 3",
			"2026-03-04T01:02:03.456Z\t00000000-1111-2222-3333-444444444444\tERROR\tdb timeout on shard 17"},
		{"uuids", `ERROR user 8f1c3c2a-1b2c-4d5e-8f90-0123456789ab not found`, `ERROR user 11111111-2222-3333-4444-555555555555 not found`},
		{"ips and ports", `ERROR connect 10.0.3.17:5432: connection refused`, `ERROR connect 10.0.9.200:6543: connection refused`},
		{"hex", `ERROR bad pointer 0x7ffe1234 in frame deadbeef01`, `ERROR bad pointer 0x1 in frame 0123456789abcdef`},
		{"quoted", `KeyError: 'user_id'`, `KeyError: 'account'`},
		{"double quoted", `ERROR cannot open "/var/data/a.txt"`, `ERROR cannot open "/tmp/b.csv"`},
		{"timestamps in text", `ERROR lease expired at 2026-01-01T10:00:00Z`, `ERROR lease expired at 2025-12-31 23:59:59,999`},
		{"path params and query", `ERROR GET /api/users/42/orders?page=1 failed`, `ERROR GET /api/users/977/orders?page=3&sort=asc failed`},
		{"emails", `ERROR mail to bob@example.com bounced`, `ERROR mail to alice.smith+x@corp.example.org bounced`},
		{"whitespace", "ERROR  disk   full\ton /dev/sda1", "ERROR disk full on /dev/sda2"},
		{"json without message, other values", `{"level":"error","code":"E_DB_DOWN","ts":1700000000,"request_id":"8f1c3c2a-1b2c-4d5e-8f90-0123456789ab"}`,
			`{"level":"error","code":"E_DB_DOWN","ts":1700000099,"request_id":"11111111-2222-3333-4444-555555555555"}`},
		{"level spelling", `{"level":"error","msg":"cache miss storm"}`, `{"level":50,"msg":"cache miss storm"}`},
		{"python traceback exception line",
			"Traceback (most recent call last):\n  File \"/app/h.py\", line 10, in handler\nValueError: invalid literal for int() with base 10: 'abc'",
			"Traceback (most recent call last):\n  File \"/app/h.py\", line 12, in handler\nValueError: invalid literal for int() with base 10: 'zz'"},
		{"access log paths", `1.2.3.4 - - [01/Jan/2026:12:00:00 +0000] "GET /a HTTP/1.1" 503 1 "-" "x"`, `5.6.7.8 - - [02/Jan/2026:13:00:00 +0000] "POST /b/c HTTP/2.0" 503 99 "-" "y"`},
		{"decimal amounts", `ERROR charge of 12.50 EUR declined`, `ERROR charge of 7 EUR declined`},
		{"long numeric id and short one", `ERROR order 12345678 not found`, `ERROR order 17 not found`},
		{"hex id and numeric id", `ERROR order 8f7a6b3c9d not found`, `ERROR order 17 not found`},
		{"short id with separator", `ERROR order ord_1 not found`, `ERROR order ord_8f7a6b not found`},
		{"access json and text of one status", `{"method":"GET","path":"/x","status":502}`, `status=502 path=/y`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, ta := fingerprintOf(tt.a)
			kb, tb := fingerprintOf(tt.b)
			if ka != kb {
				t.Errorf("fingerprints differ: got %s (%q) and %s (%q), want one", ka, ta, kb, tb)
			}
		})
	}
}

// One error logged with ids of different shapes in the id position, pure
// digits or mixed, gets one fingerprint: the id's value is what changes.
func TestFingerprintIDShapes(t *testing.T) {
	ids := []string{"ord_8f7a6b", "ord_123456", "17"}
	keys := map[string][]string{}
	for _, id := range ids {
		key, tmpl := fingerprintOf(`{"level":"error","msg":"payment failed for order ` + id + ` after 3 retries"}`)
		keys[key] = append(keys[key], id+" → "+tmpl)
	}
	if len(keys) != 1 {
		t.Errorf("got %d fingerprints for order ids %q: %v, want 1", len(keys), ids, keys)
	}
}

// Different errors get different fingerprints.
func TestFingerprintDifferentErrors(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"different messages", `{"level":"error","msg":"payment failed"}`, `{"level":"error","msg":"refund failed"}`},
		{"different error types", `{"level":"error","msg":"call failed","err":{"type":"TimeoutError","message":"deadline"}}`, `{"level":"error","msg":"call failed","err":{"type":"AuthError","message":"denied"}}`},
		{"different exceptions", `ValueError: bad input`, `TypeError: bad input`},
		{"different statuses", `status=502 path=/x`, `status=503 path=/x`},
		{"different lambda node errors",
			"2026-01-01T12:00:00.000Z\tr\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"x is undefined\"}",
			"2026-01-01T12:00:00.000Z\tr\tERROR\tInvoke Error \t{\"errorType\":\"RangeError\",\"errorMessage\":\"x is undefined\"}"},
		{"json without message", `{"level":"error","code":"E_DB_DOWN","ts":1}`, `{"level":"error","code":"E_QUEUE_FULL","ts":2}`},
		{"different tracebacks", "Traceback (most recent call last):\nKeyError: 'a'", "Traceback (most recent call last):\nIndexError: list index out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, ta := fingerprintOf(tt.a)
			kb, tb := fingerprintOf(tt.b)
			if ka == kb {
				t.Errorf("fingerprints equal: got %s for %q and %q, want two", ka, ta, tb)
			}
		})
	}
}

func TestFingerprintTemplate(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"lambda python prefix dropped", "[ERROR]\t2026-01-01T12:00:00.000Z\t8f1c3c2a-1b2c-4d5e-8f90-0123456789ab\tpayment 12345 failed for ord_8f7a6b3c after 30s",
			"payment <n> failed for <n> after <n>s"},
		{"lambda node error record", "2026-01-01T12:00:00.000Z\t8f1c3c2a-1b2c-4d5e-8f90-0123456789ab\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"Cannot read properties of undefined (reading 'id')\",\"stack\":[]}",
			"Invoke Error TypeError: Cannot read properties of undefined (reading <str>)"},
		{"json message and error object", `{"level":"error","msg":"charge failed","err":{"type":"StripeError","message":"card_declined for cus_N8fa7b2"}}`,
			"charge failed: StripeError: card_declined for <n>"},
		{"python exc_info keeps the exception line", `{"levelname":"ERROR","message":"upstream call failed","exc_info":"Traceback (most recent call last):\n  File \"/app/x.py\", line 3\nConnectionError: host 10.1.2.3 unreachable"}`,
			"upstream call failed: ConnectionError: host <ip> unreachable"},
		{"klog prefix dropped", `E0102 15:04:05.000000       1 controller.go:42] sync "default/web" failed`, "controller.go:<n>] sync <str> failed"},
		{"java prefix dropped", `2026-01-01 12:00:00.123 ERROR 1 --- [main] c.e.Foo : connection to 10.0.0.12:5432 refused`,
			"[main] c.e.Foo : connection to <ip> refused"},
		{"access log", `1.2.3.4 - - [01/Jan/2026:12:00:00 +0000] "GET /a HTTP/1.1" 503 1 "-" "x"`, "HTTP 503 responses"},
		{"decimal is one number", `ERROR charge of 12.50 EUR declined`, "charge of <n> EUR declined"},
		{"decimal with unit", `ERROR heap at 1.5GB over limit`, "heap at <n>GB over limit"},
		{"ids and numbers share a placeholder", `ERROR order ord_8f7a6b, 17 and 12345678 not found`, "order <n>, <n> and <n> not found"},
		{"short names keep their letters", `ERROR s3 put to ec2 host failed`, "s<n> put to ec<n> host failed"},
		{"only a level", `ERROR`, "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := fingerprintOf(tt.give)
			if got != tt.want {
				t.Errorf("template of %q = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestFingerprintShape(t *testing.T) {
	long := "ERROR " + strings.Repeat("very long message ", 500)
	key, tmpl := fingerprintOf(long)
	if len(key) != 16 || strings.Trim(key, "0123456789abcdef") != "" {
		t.Errorf("key = %q, want 16 hex digits", key)
	}
	if len(tmpl) > maxTemplate+len("…") {
		t.Errorf("template is %d bytes, want at most %d", len(tmpl), maxTemplate+len("…"))
	}
}
