package oncall

import (
	"fmt"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Error says which field of a schedule or policy document is wrong and why. It
// matches errkind.Invalid with errors.Is, so the API answers it with a 4xx
// like every other invalid input.
type Error struct {
	// Field is the JSON path of the offending field, e.g. "rotations[0].start";
	// empty when the document as a whole is unreadable.
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func (e *Error) Unwrap() error { return errkind.Invalid }

func invalid(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}
