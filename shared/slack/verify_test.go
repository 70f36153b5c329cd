package slack

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Slack's documented signing example (docs.slack.dev, "Verifying requests
// from Slack"): a slash command body signed with the docs' example secret.
// Using Slack's vector, not one made with Sign, proves the base string is
// assembled as Slack assembles it.
const (
	docSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	docTimestamp = "1531420618"
	docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func docBody(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/signing-example.form")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var docTime = time.Unix(1531420618, 0)

func signed(ts, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, sig)
	return h
}

func TestSignMatchesSlackExample(t *testing.T) {
	if got := Sign(docSecret, docTimestamp, docBody(t)); got != docSignature {
		t.Fatalf("got %s, want %s", got, docSignature)
	}
}

func TestVerify(t *testing.T) {
	body := docBody(t)
	tampered := []byte(strings.Replace(string(body), "user_id=U2CERLKJA", "user_id=U0ADMIN00", 1))
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"slack's example", docSecret, signed(docTimestamp, docSignature), body, docTime.Add(30 * time.Second), nil},
		{"at the window's far edge", docSecret, signed(docTimestamp, docSignature), body, docTime.Add(5 * time.Minute), nil},
		{"clock behind by 5 minutes", docSecret, signed(docTimestamp, docSignature), body, docTime.Add(-5 * time.Minute), nil},
		{"lower-case header names", docSecret, http.Header{
			"x-slack-request-timestamp": {docTimestamp}, "x-slack-signature": {docSignature},
		}, body, docTime, nil},
		{"upper-case hex", docSecret, signed(docTimestamp, "v0="+strings.ToUpper(docSignature[3:])), body, docTime, nil},
		{"tampered body", docSecret, signed(docTimestamp, docSignature), tampered, docTime, ErrBadSignature},
		{"body with a byte added", docSecret, signed(docTimestamp, docSignature), append(body[:len(body):len(body)], '&'), docTime, ErrBadSignature},
		{"wrong secret", "8f742231b10e8888abcd99yyyzzz85a6", signed(docTimestamp, docSignature), body, docTime, ErrBadSignature},
		{"timestamp changed", docSecret, signed("1531420619", docSignature), body, docTime, ErrBadSignature},
		{"older than 5 minutes", docSecret, signed(docTimestamp, docSignature), body, docTime.Add(5*time.Minute + time.Second), ErrStaleTimestamp},
		{"replayed a day later", docSecret, signed(docTimestamp, docSignature), body, docTime.Add(24 * time.Hour), ErrStaleTimestamp},
		{"more than 5 minutes ahead", docSecret, signed(docTimestamp, docSignature), body, docTime.Add(-5*time.Minute - time.Second), ErrStaleTimestamp},
		{"no secret configured", "", signed(docTimestamp, docSignature), body, docTime, ErrNoSecret},
		{"no headers", docSecret, http.Header{}, body, docTime, ErrMissingHeader},
		{"no timestamp", docSecret, http.Header{HeaderSignature: {docSignature}}, body, docTime, ErrMissingHeader},
		{"no signature", docSecret, http.Header{HeaderTimestamp: {docTimestamp}}, body, docTime, ErrMissingHeader},
		{"empty signature", docSecret, signed(docTimestamp, ""), body, docTime, ErrMissingHeader},
		{"signature without v0=", docSecret, signed(docTimestamp, docSignature[3:]), body, docTime, ErrMalformedHeader},
		{"another version", docSecret, signed(docTimestamp, "v1="+docSignature[3:]), body, docTime, ErrMalformedHeader},
		{"short signature", docSecret, signed(docTimestamp, docSignature[:40]), body, docTime, ErrMalformedHeader},
		{"signature not hex", docSecret, signed(docTimestamp, "v0="+strings.Repeat("zz", 32)), body, docTime, ErrMalformedHeader},
		{"timestamp with a sign", docSecret, signed("+"+docTimestamp, docSignature), body, docTime, ErrMalformedHeader},
		{"timestamp with a space", docSecret, signed(" "+docTimestamp, docSignature), body, docTime, ErrMalformedHeader},
		{"timestamp in milliseconds", docSecret, signed(docTimestamp+"000", docSignature), body, docTime, ErrMalformedHeader},
		{"timestamp in the year 5138", docSecret, signed("99999999999", docSignature), body, docTime, ErrStaleTimestamp},
		{"timestamp overflowing", docSecret, signed("99999999999999999999", docSignature), body, docTime, ErrMalformedHeader},
		{"two signatures", docSecret, http.Header{
			HeaderTimestamp: {docTimestamp}, HeaderSignature: {docSignature, "v0=" + strings.Repeat("0", 64)},
		}, body, docTime, ErrMalformedHeader},
		{"the same header under two spellings", docSecret, http.Header{
			HeaderTimestamp: {docTimestamp}, HeaderSignature: {docSignature}, "x-slack-signature": {docSignature},
		}, body, docTime, ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyErrorsAreDistinct guards the log's ability to say which check failed.
func TestVerifyErrorsAreDistinct(t *testing.T) {
	all := []error{ErrNoSecret, ErrMissingHeader, ErrMalformedHeader, ErrStaleTimestamp, ErrBadSignature}
	for i, a := range all {
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) is true", a, b)
			}
		}
	}
}

func TestSignThenVerify(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 15, 0, 0, time.UTC)
	ts := "1795511700" // now
	body := []byte("payload=%7B%22type%22%3A%22block_actions%22%7D")
	h := signed(ts, Sign("s3cr3t", ts, body))
	if err := Verify("s3cr3t", h, body, now); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}
