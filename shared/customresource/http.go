package customresource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrBadResponseURL: a request's ResponseURL is not CloudFormation's; no
// answer is sent.
var ErrBadResponseURL = errors.New("response URL refused")

// HTTPResponder PUTs answers to the pre-signed ResponseURL of the request,
// as CloudFormation expects: no Content-Type (it is part of the signature,
// which was made without one). It answers CloudFormation's S3 URLs alone
// (Allowed), and follows no redirect: whoever may invoke the function
// cannot aim its PUT elsewhere.
type HTTPResponder struct {
	Client *http.Client
	// Allowed says whether an answer may go to u (nil: CloudFormationURL).
	Allowed func(u *url.URL) bool
}

// CloudFormationURL reports whether u is where CloudFormation asks custom
// resources to answer: https on an amazonaws.com host (amazonaws.com.cn in
// the China regions).
func CloudFormationURL(u *url.URL) bool {
	host := u.Hostname()
	return u.Scheme == "https" && u.User == nil &&
		(strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn"))
}

// Respond implements Responder.
func (h HTTPResponder) Respond(ctx context.Context, responseURL string, body []byte) error {
	if responseURL == "" {
		return ErrNoResponseURL
	}
	u, err := url.Parse(responseURL)
	allowed := h.Allowed
	if allowed == nil {
		allowed = CloudFormationURL
	}
	if err != nil || !allowed(u) {
		return fmt.Errorf("answer: %w: not CloudFormation's (https, an amazonaws.com host)", ErrBadResponseURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("answer request: %w", err)
	}
	req.Header.Del("Content-Type")
	client := http.Client{Timeout: 30 * time.Second}
	if h.Client != nil {
		client = *h.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("answer: status %d: %s", res.StatusCode, msg)
	}
	return nil
}
