// Package acklink makes and checks the acknowledge links of SNS pages
// (README, "Acknowledge from the page"): a short URL <base>/ack/<token>
// that lets the responder paged by e-mail or SMS acknowledge or resolve the
// incident without an API token.
//
// A token is a compact binary record, base64url without padding:
//
//	version (1 byte, 1) | expires (uint32, Unix seconds, big-endian) |
//	incident id (16 bytes: the ULID's 128 bits) | responder length (1 byte) |
//	responder (1-64 bytes) | MAC (16 bytes)
//
// where MAC is HMAC-SHA256 over everything before it, truncated to 128 bits,
// under a key derived from the platform's secret (ack_link_key). A token for
// responder "alice" is 43 bytes, 58 characters. It binds the responder and
// the incident, and expires: nothing in it can change without the MAC
// failing. The MAC is also the link's id (ID), under which each action done
// through it is recorded once.
//
// The CSRF token of a link's page (CSRF) is a random nonce and an HMAC of
// the link's id and the nonce under a second derived key: a signed
// double-submit value, set as a SameSite=Strict cookie and sent in the
// form's hidden field; a POST must carry both, equal, and valid for its
// link. The package knows no HTTP: shared/httpapi's ack.go serves the page.
package acklink

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MinKeyLength is the shortest ack_link_key accepted, in bytes: 32 random
// characters (e.g. `openssl rand -hex 32` gives 64).
const MinKeyLength = 32

// DefaultTTL is how long a link works when ACK_LINK_TTL is not set.
const DefaultTTL = 24 * time.Hour

const (
	version   = 1
	macLen    = 16
	idLen     = 16 // an incident id's bytes
	headerLen = 1 + 4 + idLen + 1
	// maxResponder bounds the responder id (oncall.MaxConfigIDLength is 64;
	// FALLBACK_USER is not checked as strictly).
	maxResponder = 64
	nonceLen     = 16
)

// Errors of Verify.
var (
	// ErrTampered: the token is malformed or its MAC does not match (a
	// changed character, another key, a cut-off link).
	ErrTampered = errors.New("the link is not valid")
	// ErrExpired: the token is genuine but past its expiry.
	ErrExpired = errors.New("the link has expired")
)

// Link is what a token carries.
type Link struct {
	IncidentID string
	Responder  string
	Expires    time.Time
}

// Signer makes and checks tokens with keys derived from one secret.
type Signer struct {
	linkKey, csrfKey []byte
	base             string
	ttl              time.Duration
}

// New returns a Signer over secret (ack_link_key, at least MinKeyLength
// bytes). baseURL is the public URL of the HTTP API that links start with
// (PUBLIC_API_URL; may be empty where links are only checked) and ttl how
// long a link made by URL works (0: DefaultTTL).
func New(secret, baseURL string, ttl time.Duration) (*Signer, error) {
	if len(secret) < MinKeyLength {
		return nil, fmt.Errorf("ack link key: %d bytes, at least %d are needed", len(secret), MinKeyLength)
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Signer{
		linkKey: derive(secret, "incidentd ack link v1"),
		csrfKey: derive(secret, "incidentd ack csrf v1"),
		base:    strings.TrimRight(baseURL, "/"),
		ttl:     ttl,
	}, nil
}

func derive(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// TTL is how long a link made by URL works.
func (s *Signer) TTL() time.Duration { return s.ttl }

// URL returns the acknowledge link of incidentID for responder, made at now:
// <base>/ack/<token>.
func (s *Signer) URL(incidentID, responder string, now time.Time) (string, error) {
	if s.base == "" {
		return "", errors.New("ack link: no public API URL")
	}
	tok, err := s.Token(Link{IncidentID: incidentID, Responder: responder, Expires: now.Add(s.ttl)})
	if err != nil {
		return "", err
	}
	return s.base + "/ack/" + tok, nil
}

// Token encodes and signs l.
func (s *Signer) Token(l Link) (string, error) {
	id, err := decodeULID(l.IncidentID)
	if err != nil {
		return "", fmt.Errorf("ack link: incident id %q: %w", l.IncidentID, err)
	}
	if l.Responder == "" || len(l.Responder) > maxResponder {
		return "", fmt.Errorf("ack link: responder %q: 1-%d bytes", l.Responder, maxResponder)
	}
	exp := l.Expires.Unix()
	if exp <= 0 || exp > 1<<32-1 {
		return "", fmt.Errorf("ack link: expiry %s out of range", l.Expires)
	}
	b := make([]byte, 0, headerLen+len(l.Responder)+macLen)
	b = append(b, version)
	b = binary.BigEndian.AppendUint32(b, uint32(exp))
	b = append(b, id[:]...)
	b = append(b, byte(len(l.Responder)))
	b = append(b, l.Responder...)
	b = append(b, s.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Signer) mac(b []byte) []byte {
	m := hmac.New(sha256.New, s.linkKey)
	m.Write(b)
	return m.Sum(nil)[:macLen]
}

// Verify checks token at now: the Link, and the link's ID; ErrTampered for
// anything that is not a token this key signed, ErrExpired for one past its
// expiry. The MAC is checked before anything is read from the token.
func (s *Signer) Verify(token string, now time.Time) (Link, string, error) {
	// Base64url of at most headerLen+maxResponder+macLen bytes.
	if len(token) > 4*(headerLen+maxResponder+macLen+2)/3 {
		return Link{}, "", ErrTampered
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) < headerLen+1+macLen {
		return Link{}, "", ErrTampered
	}
	body, mac := b[:len(b)-macLen], b[len(b)-macLen:]
	if !hmac.Equal(mac, s.mac(body)) {
		return Link{}, "", ErrTampered
	}
	n := int(body[headerLen-1])
	if body[0] != version || n == 0 || len(body) != headerLen+n {
		return Link{}, "", ErrTampered
	}
	var id [idLen]byte
	copy(id[:], body[5:5+idLen])
	l := Link{
		IncidentID: encodeULID(id),
		Responder:  string(body[headerLen:]),
		Expires:    time.Unix(int64(binary.BigEndian.Uint32(body[1:5])), 0).UTC(),
	}
	linkID := base64.RawURLEncoding.EncodeToString(mac)
	if !now.Before(l.Expires) {
		return l, linkID, ErrExpired
	}
	return l, linkID, nil
}

// CSRF returns a new CSRF token for the page of the link linkID: a random
// nonce and its HMAC with the link's id, base64url.
func (s *Signer) CSRF(linkID string) string {
	nonce := make([]byte, nonceLen)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	return s.csrfWith(linkID, nonce)
}

func (s *Signer) csrfWith(linkID string, nonce []byte) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(linkID))
	m.Write(nonce)
	return base64.RawURLEncoding.EncodeToString(append(append([]byte{}, nonce...), m.Sum(nil)[:macLen]...))
}

// CheckCSRF reports whether a POST to the link linkID carries a valid CSRF
// token: the form's field and the cookie equal, and made by CSRF for this
// link.
func (s *Signer) CheckCSRF(linkID, field, cookie string) bool {
	if field == "" || subtle.ConstantTimeCompare([]byte(field), []byte(cookie)) != 1 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(field)
	if err != nil || len(b) != nonceLen+macLen {
		return false
	}
	return hmac.Equal([]byte(s.csrfWith(linkID, b[:nonceLen])), []byte(field))
}

// crockford is the alphabet of incident ids (shared/incident's NewID).
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// decodeULID returns the 128 bits of a 26-character incident id.
func decodeULID(s string) ([idLen]byte, error) {
	var out [idLen]byte
	if len(s) != 26 || s[0] > '7' {
		return out, errors.New("not an incident id")
	}
	var hi, lo uint64
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(crockford, s[i])
		if v < 0 {
			return out, errors.New("not an incident id")
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(v)
	}
	binary.BigEndian.PutUint64(out[:8], hi)
	binary.BigEndian.PutUint64(out[8:], lo)
	return out, nil
}

// encodeULID is decodeULID's inverse.
func encodeULID(b [idLen]byte) string {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
