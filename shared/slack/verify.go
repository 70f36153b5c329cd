package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of Slack's request signing (v0 scheme).
const (
	HeaderTimestamp = "X-Slack-Request-Timestamp"
	HeaderSignature = "X-Slack-Signature"
)

// MaxSkew is how far a request's timestamp may be from now, in either
// direction, as Slack recommends: a captured request cannot be replayed later,
// and a clock running ahead is no way around that.
const MaxSkew = 5 * time.Minute

// Verification errors. Each one means "answer 401"; they are distinct so the
// log says which check failed (a stale timestamp usually means a clock problem,
// a bad signature a wrong secret or a forged request).
var (
	ErrNoSecret        = errors.New("slack: no signing secret configured")
	ErrMissingHeader   = errors.New("slack: signature headers missing")
	ErrMalformedHeader = errors.New("slack: signature headers malformed")
	ErrStaleTimestamp  = errors.New("slack: request timestamp outside the 5-minute window")
	ErrBadSignature    = errors.New("slack: signature does not match")
)

// Verify checks that body was signed by Slack with secret: header carries
// X-Slack-Request-Timestamp (Unix seconds) and X-Slack-Signature ("v0=" and the
// hex HMAC-SHA256 of "v0:<timestamp>:<body>"). body must be the raw bytes as
// received, before any form or JSON decoding. It returns nil or one of the
// errors above (wrapped with detail; test with errors.Is).
//
// Header names are matched case-insensitively, so a header map built from an
// API Gateway event's lower-case keys works as is. A header given twice is
// refused: which copy was signed would be a guess.
func Verify(secret string, header http.Header, body []byte, now time.Time) error {
	if secret == "" {
		// An empty key would make every signature computable by anyone.
		return ErrNoSecret
	}
	tsValue, err := single(header, HeaderTimestamp)
	if err != nil {
		return err
	}
	sigValue, err := single(header, HeaderSignature)
	if err != nil {
		return err
	}
	ts, err := parseTimestamp(tsValue)
	if err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(sigValue, "v0=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return fmt.Errorf("%w: %s is not v0=<64 hex digits>", ErrMalformedHeader, HeaderSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: %s is not v0=<64 hex digits>", ErrMalformedHeader, HeaderSignature)
	}
	// The window is checked before the HMAC so a replayed request costs no
	// hashing, and after the format checks so garbage is reported as such.
	if skew := now.Sub(time.Unix(ts, 0)); skew > MaxSkew || skew < -MaxSkew {
		return fmt.Errorf("%w: timestamp %d is %s from now", ErrStaleTimestamp, ts, skew.Round(time.Second))
	}
	if !hmac.Equal(got, mac(secret, tsValue, body)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the X-Slack-Signature value Slack would send for body at
// timestamp ts (Unix seconds, as sent in X-Slack-Request-Timestamp). Tests and
// the local runtime use it to make signed requests.
func Sign(secret, ts string, body []byte) string {
	return "v0=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("v0:"))
	h.Write([]byte(ts))
	h.Write([]byte(":"))
	h.Write(body)
	return h.Sum(nil)
}

// single returns the one value of the header named name, matched without
// regard to case.
func single(header http.Header, name string) (string, error) {
	var values []string
	for k, v := range header {
		if strings.EqualFold(k, name) {
			values = append(values, v...)
		}
	}
	switch {
	case len(values) == 0 || len(values) == 1 && values[0] == "":
		return "", fmt.Errorf("%w: no %s", ErrMissingHeader, name)
	case len(values) > 1:
		return "", fmt.Errorf("%w: %s given %d times", ErrMalformedHeader, name, len(values))
	}
	return values[0], nil
}

// parseTimestamp reads Unix seconds: decimal digits only (no sign, no spaces),
// so that the signed string and the checked time cannot disagree.
func parseTimestamp(s string) (int64, error) {
	if len(s) == 0 || len(s) > 12 {
		return 0, fmt.Errorf("%w: %s is not Unix seconds", ErrMalformedHeader, HeaderTimestamp)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %s is not Unix seconds", ErrMalformedHeader, HeaderTimestamp)
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not Unix seconds", ErrMalformedHeader, HeaderTimestamp)
	}
	return ts, nil
}
