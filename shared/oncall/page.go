package oncall

// ResponderPage is one page to one responder, as a pager sends it (the SNS
// adapter publishes it to PagingTopic, filtered per responder; the local
// runtime prints it). It lives here, below the escalation use case that builds
// it and the adapters that send it. (Page, in escalation.go, is what firing a
// step asks for: whom to page and what comes next.)
type ResponderPage struct {
	Responder  string
	Severity   string
	IncidentID string
	// Level is the policy level (from 1); 0 for the fallback.
	Level   int
	Subject string
	// Message is the page's text (e-mail, and SMS when SMS is empty).
	Message string
	// SMS, when not empty, is the text SMS subscriptions get instead of
	// Message: the headline and the link, within one SMS where it fits.
	SMS string
	// Link is the page's acknowledge link (README, "Acknowledge from the
	// page"), in Message and SMS too; empty when links are off.
	Link string
}
