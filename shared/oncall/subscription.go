package oncall

// Protocols of the PagingTopic subscriptions a responder's contact details
// become (SNS protocol names).
const (
	ProtocolEmail = "email"
	ProtocolSMS   = "sms"
)

// Endpoint is one way a page reaches a responder through the PagingTopic: an
// e-mail address (ProtocolEmail) or an E.164 phone number (ProtocolSMS).
type Endpoint struct {
	Protocol string
	Address  string
}

// Endpoints are the PagingTopic endpoints the user asks for: the e-mail
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

// Subscription is an endpoint subscribed to the PagingTopic for a responder,
// with the subscription's ARN: what must be remembered to unsubscribe it when
// the user's contact details change.
type Subscription struct {
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
	ARN      string `json:"arn"`
}

// Is reports whether s subscribes the endpoint e.
func (s Subscription) Is(e Endpoint) bool {
	return s.Protocol == e.Protocol && s.Endpoint == e.Address
}

// Removed returns the subscriptions of before whose ARN is not in after: what
// replacing before with after leaves to unsubscribe.
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
