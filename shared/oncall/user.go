package oncall

import (
	"net/mail"
	"regexp"
	"strings"
)

// User is a responder: who schedules and policies name by ID, and how to reach
// them. A page goes to every channel given.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	// Phone is E.164: "+" and up to 15 digits, e.g. "+4915112345678".
	Phone string `json:"phone,omitempty"`
	// SlackUserID is the member id Slack shows in a profile (U… or W…), which
	// maps a Slack button press or /incident command back to the responder.
	SlackUserID string `json:"slack_user_id,omitempty"`
}

// Limits and shapes of configuration ids and user fields.
const (
	MaxConfigIDLength = 64
	maxEmailLength    = 254
)

var (
	configIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	phonePattern    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	// Slack member ids: U (users) or W (Enterprise Grid users), then upper-case
	// letters and digits.
	slackIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
)

// ValidateID checks the id of a schedule, policy or user as the API stores it:
// 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or
// digit. Ids this plain are safe in paths, keys, SNS attributes and calendars.
func ValidateID(field, id string) error {
	if id == "" {
		return invalid(field, "required")
	}
	if len(id) > MaxConfigIDLength || !configIDPattern.MatchString(id) {
		return invalid(field, "%q must be 1-%d characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
			quoted(id), MaxConfigIDLength)
	}
	return nil
}

// Validate checks a user and says which field is wrong, as an *Error. Email,
// phone and Slack id are each optional; a user reachable by none of them is
// still valid (they may be paged through Slack later, or only listed).
func (u *User) Validate() error {
	if err := ValidateID("id", u.ID); err != nil {
		return err
	}
	if err := checkName("name", u.Name, true); err != nil {
		return err
	}
	if u.Email != "" {
		if err := checkEmail(u.Email); err != nil {
			return err
		}
	}
	if u.Phone != "" && !phonePattern.MatchString(u.Phone) {
		return invalid("phone", "%q is not an E.164 number: \"+\", the country code and the number, digits only (e.g. \"+4915112345678\")", quoted(u.Phone))
	}
	if u.SlackUserID != "" && !slackIDPattern.MatchString(u.SlackUserID) {
		return invalid("slack_user_id", "%q is not a Slack member id (U or W and upper-case letters and digits, e.g. \"U024BE7LH\")", quoted(u.SlackUserID))
	}
	return nil
}

// checkEmail accepts a bare address (local@domain, domain with a dot), not a
// display-name form: the address becomes an SNS e-mail subscription as is.
func checkEmail(s string) error {
	bad := func() error {
		return invalid("email", "%q is not an e-mail address such as \"alice@example.com\"", quoted(s))
	}
	if len(s) > maxEmailLength {
		return bad()
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return bad()
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return bad()
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return bad()
		}
	}
	return nil
}
