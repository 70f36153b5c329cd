package httpapi

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
)

const realm = `Bearer realm="incidentd"`

// authorize finds who sent r and checks that they may use rt. Without a token,
// only a public report passes (when PublicReports is on), and only within its
// source IP's allowance.
func (a *API) authorize(r *http.Request, rt route) (principal, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		if rt.open {
			return principal{actor: "public"}, nil
		}
		if rt.public && a.public {
			return principal{}, a.admitPublic(r)
		}
		return principal{}, newError(http.StatusUnauthorized, "unauthorized",
			"this route needs a token: send Authorization: Bearer <token>").with("WWW-Authenticate", realm)
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return principal{}, invalidToken("the Authorization header must be Bearer <token>")
	}
	t, err := a.tokens.Authenticate(r.Context(), strings.TrimSpace(token))
	if errors.Is(err, auth.ErrInvalidToken) {
		// Why (unknown, revoked, expired) goes to the log, not to the caller.
		a.log.InfoContext(r.Context(), "token refused", "request_id", RequestID(r.Context()), "reason", err.Error())
		return principal{}, invalidToken("the token is not valid")
	}
	if err != nil {
		return principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if !t.Allows(rt.scope) {
		return principal{}, newError(http.StatusForbidden, "forbidden",
			fmt.Sprintf("token %q lacks the scope %s", t.Name, rt.scope)).
			with("WWW-Authenticate", fmt.Sprintf(`%s, error="insufficient_scope", scope=%q`, realm, rt.scope))
	}
	return principal{token: &t, actor: t.Name}, nil
}

func invalidToken(msg string) *apiError {
	return newError(http.StatusUnauthorized, "unauthorized", msg).
		with("WWW-Authenticate", realm+`, error="invalid_token"`)
}

// admitPublic spends one of the source IP's public reports, or refuses with 429.
func (a *API) admitPublic(r *http.Request) error {
	ok, wait := a.limiter.allow(clientKey(r), a.now())
	if ok {
		return nil
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	return newError(http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("too many reports from your address; retry in %d s", secs)).
		with("Retry-After", strconv.Itoa(secs))
}

// clientKey names the client a request came from: its IP, with IPv6 addresses
// cut to their /64 (one host usually owns a whole /64). RemoteAddr is API
// Gateway's sourceIp in Lambda and the TCP peer locally; X-Forwarded-For is not
// read, since a client can write anything there.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "unknown"
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// maxLimiterKeys bounds the addresses the limiter remembers.
const maxLimiterKeys = 10000

// limiter is a token bucket per key: n requests per period, refilled evenly,
// bursting to n. It lives in one Lambda instance, so in AWS it is a second line
// behind API Gateway's stage throttling, which is the real limit.
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	max     int
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(n int, per time.Duration, maxKeys int) *limiter {
	return &limiter{rate: float64(n) / per.Seconds(), burst: float64(n), max: maxKeys, buckets: map[string]*bucket{}}
}

// allow spends a token of key's bucket, or says how long until one is there.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.prune(now)
		}
		if len(l.buckets) >= l.max {
			// Every remembered address is still spending: under a flood from
			// this many addresses, newcomers wait rather than grow the map.
			return false, time.Duration(float64(time.Second) / l.rate)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// prune forgets buckets that have refilled: they are the same as new ones.
func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
