package oncall

// Protocols of the subscriptions a responder's contact details become.
const (
	ProtocolEmail = "email"
	ProtocolSMS   = "sms"
)

// Endpoint is one way a page reaches a responder: an e-mail address
// (ProtocolEmail) or an E.164 phone number (ProtocolSMS).
type Endpoint struct {
	Protocol string
	Address  string
}

// Endpoints are the endpoints the user asks to be paged at: the e-mail
// address, then the phone number, each if given. The Slack id is no endpoint:
// Slack pages go out through Slack.
func (u *User) Endpoints() []Endpoint {
	var out []Endpoint
	if u.Email != "" {
		out = append(out, Endpoint{Protocol: ProtocolEmail, Address: u.Email})
	}
	if u.Phone != "" {
		out = append(out, Endpoint{Protocol: ProtocolSMS, Address: u.Phone})
	}
	return out
}

// Subscription is an endpoint subscribed for a responder, with ARN the
// pager's subscription reference: what must be remembered to unsubscribe it
// when the user's contact details change.
type Subscription struct {
	Protocol string
	Endpoint string
	ARN      string
}

// Removed returns the subscriptions of before whose reference (ARN) is not in
// after: what replacing before with after leaves to unsubscribe.
func Removed(before, after []Subscription) []Subscription {
	var out []Subscription
	for _, b := range before {
		kept := false
		for _, a := range after {
			if a.ARN == b.ARN {
				kept = true
				break
			}
		}
		if !kept {
			out = append(out, b)
		}
	}
	return out
}
