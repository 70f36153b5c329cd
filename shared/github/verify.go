package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The headers of a webhook delivery.
const (
	HeaderSignature = "X-Hub-Signature-256"
	HeaderEvent     = "X-GitHub-Event"
	HeaderDelivery  = "X-GitHub-Delivery"
)

// ErrUnauthenticated is the kind of every verification error: the API
// answers 401 for anything that errors.Is it. The errors below say which
// check failed, for the log (a mismatch usually means a wrong secret on one
// side, a missing header a webhook created without a secret).
var ErrUnauthenticated = errors.New("github: webhook delivery not authenticated")

// The verification errors, each an ErrUnauthenticated.
var (
	ErrNoSecret           = fmt.Errorf("%w: no webhook secret configured", ErrUnauthenticated)
	ErrMissingSignature   = fmt.Errorf("%w: no %s header (is the webhook's secret set?)", ErrUnauthenticated, HeaderSignature)
	ErrMalformedSignature = fmt.Errorf("%w: %s is not sha256=<64 hex digits>", ErrUnauthenticated, HeaderSignature)
	ErrBadSignature       = fmt.Errorf("%w: signature does not match the body", ErrUnauthenticated)
)

// Verify checks that body was sent by GitHub with secret: header's
// X-Hub-Signature-256 must be "sha256=" and the hex HMAC-SHA256 of body keyed
// with secret, compared in constant time. body must be the raw bytes as
// received. It returns nil or one of the errors above (test with errors.Is).
//
// Header names are matched without regard to case, so the lower-case keys of
// an API Gateway event work as they are; a signature header given twice is
// refused. The legacy SHA-1 X-Hub-Signature is not read.
func Verify(secret string, header http.Header, body []byte) error {
	if secret == "" {
		// An empty key would make every signature computable by anyone.
		return ErrNoSecret
	}
	values := headerValues(header, HeaderSignature)
	switch {
	case len(values) == 0 || len(values) == 1 && strings.TrimSpace(values[0]) == "":
		return ErrMissingSignature
	case len(values) > 1:
		return fmt.Errorf("%w (given %d times)", ErrMalformedSignature, len(values))
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(values[0]), "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return ErrMalformedSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrMalformedSignature
	}
	if !hmac.Equal(got, mac(secret, body)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body. Tests and
// the local runtime use it to make signed deliveries.
func Sign(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// headerValues returns every value of the header named name, matched
// without regard to case.
func headerValues(header http.Header, name string) []string {
	var values []string
	for k, v := range header {
		if strings.EqualFold(k, name) {
			values = append(values, v...)
		}
	}
	return values
}
