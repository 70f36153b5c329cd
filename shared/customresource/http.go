package customresource

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// HTTPResponder PUTs answers to the pre-signed ResponseURL of the request,
// as CloudFormation expects: no Content-Type (it is part of the signature,
// which was made without one).
type HTTPResponder struct {
	Client *http.Client
}

// Respond implements Responder.
func (h HTTPResponder) Respond(ctx context.Context, url string, body []byte) error {
	if url == "" {
		return ErrNoResponseURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("answer request: %w", err)
	}
	req.Header.Del("Content-Type")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
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
