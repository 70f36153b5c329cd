package deploy

import (
	"errors"
	"fmt"
)

// ErrIgnored is what an adapter's parser returns (wrapped, with the reason)
// for a delivery that is well-formed but says nothing about a deployment:
// a CodePipeline execution that was superseded, a GitHub ping, a pull
// request labelled. The caller acknowledges it (the API answers 202, an
// event function succeeds) and logs the reason; it is never retried.
var ErrIgnored = errors.New("ignored")

// Ignored is an ErrIgnored with its reason.
type Ignored struct{ Reason string }

func (e *Ignored) Error() string        { return "ignored: " + e.Reason }
func (e *Ignored) Is(target error) bool { return target == ErrIgnored }

// Ignoredf returns an *Ignored with a formatted reason.
func Ignoredf(format string, args ...any) error {
	return &Ignored{Reason: fmt.Sprintf(format, args...)}
}
