package github

import (
	"errors"
	"net/http"
	"testing"
)

// GitHub's documented example ("Validating webhook deliveries").
const (
	docSecret    = "It's a Secret to Everybody"
	docPayload   = "Hello, World!"
	docSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestVerify(t *testing.T) {
	sig := func(v ...string) http.Header { return http.Header{"X-Hub-Signature-256": v} }
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   string
		want   error
	}{
		{"GitHub's example", docSecret, sig(docSignature), docPayload, nil},
		{"lower-case header name, as API Gateway gives it", docSecret, http.Header{"x-hub-signature-256": {docSignature}}, docPayload, nil},
		{"tampered body", docSecret, sig(docSignature), "Hello, World?", ErrBadSignature},
		{"another secret", "It's a secret to everybody", sig(docSignature), docPayload, ErrBadSignature},
		{"no secret configured", "", sig(docSignature), docPayload, ErrNoSecret},
		{"no header", docSecret, http.Header{"X-Hub-Signature": {"sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"}}, docPayload, ErrMissingSignature},
		{"empty header", docSecret, sig(""), docPayload, ErrMissingSignature},
		{"no sha256= prefix", docSecret, sig(docSignature[len("sha256="):]), docPayload, ErrMalformedSignature},
		{"sha1", docSecret, sig("sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"), docPayload, ErrMalformedSignature},
		{"not hex", docSecret, sig("sha256=" + string(make([]byte, 64))), docPayload, ErrMalformedSignature},
		{"short", docSecret, sig(docSignature[:70]), docPayload, ErrMalformedSignature},
		{"twice", docSecret, sig(docSignature, docSignature), docPayload, ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, []byte(tt.body))
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("got %v, want it to be an ErrUnauthenticated (401)", err)
			}
		})
	}
}

func TestSign(t *testing.T) {
	if got := Sign(docSecret, []byte(docPayload)); got != docSignature {
		t.Errorf("got %s, want %s", got, docSignature)
	}
}
