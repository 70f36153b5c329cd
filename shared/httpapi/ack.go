package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/acklink"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// The acknowledge links of SNS pages (README, "Acknowledge from the page";
// the tokens: shared/acklink). GET /ack/{token} shows the incident with
// Acknowledge and Resolve buttons and changes nothing (mail scanners and
// link previews fetch links); POST /ack/{token} with action=acknowledge or
// action=resolve acts, in the responder's name, once per link and action
// (incident.Service.AcknowledgeOnce, ResolveOnce). The POST needs the CSRF
// token of the page: the form's hidden field and the cookie the page set
// (SameSite=Strict, HttpOnly, named after the link), equal and made for
// this link. Every
// answer is a small HTML page; a link that is tampered with (404), expired
// (410), used (410), or a POST without the page's token (403) changes
// nothing.

// ackCookie is the name of the link id's CSRF cookie: one per link, so
// that the pages of two links open at once do not overwrite each other's.
// It has no Path attribute: the browser scopes it to the folder of the
// link's path, /ack (under whatever prefix a custom domain's mapping adds).
func ackCookie(linkID string) string { return "ack_" + linkID }

// maxAckForm bounds the POST's body: two short fields.
const maxAckForm = 1024

// ackCSP is pageCSP with the page's form allowed to post to its own origin.
const ackCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// The actions a link can do, as the form names them.
const (
	ackActionAcknowledge = "acknowledge"
	ackActionResolve     = "resolve"
)

func (a *API) ackRoutes() {
	if a.ackLinks == nil {
		return
	}
	a.patterns = append(a.patterns, "GET /ack/{token}", "POST /ack/{token}")
	a.mux.HandleFunc("GET /ack/{token}", func(w http.ResponseWriter, r *http.Request) {
		if err := a.ackPage(w, r); err != nil {
			a.ackError(w, r, err)
		}
	})
	a.mux.HandleFunc("POST /ack/{token}", func(w http.ResponseWriter, r *http.Request) {
		if err := a.ackAction(w, r); err != nil {
			a.ackError(w, r, err)
		}
	})
}

// ackLink verifies the request's link.
func (a *API) ackLink(r *http.Request) (acklink.Link, string, error) {
	l, id, err := a.ackLinks.Verify(r.PathValue("token"), a.now())
	switch {
	case errors.Is(err, acklink.ErrExpired):
		return l, id, newError(http.StatusGone, "expired", fmt.Sprintf(
			"This link expired on %s. Open the incident in Slack or the API, or wait for the next page.", formatWhen(l.Expires)))
	case err != nil:
		return l, id, newError(http.StatusNotFound, "invalid_link",
			"This link is not valid: it may have been cut off or changed. Open the link from the page again, exactly as it came.")
	}
	return l, id, nil
}

// useKey is the record of one action done through the link id.
func useKey(linkID, action string) string { return "acklink#" + linkID + "#" + action }

// ackPage answers GET /ack/{token}: the incident and its buttons. It
// changes nothing.
func (a *API) ackPage(w http.ResponseWriter, r *http.Request) error {
	l, id, err := a.ackLink(r)
	if err != nil {
		return err
	}
	inc, err := a.svc.Incident(r.Context(), l.IncidentID)
	if err != nil {
		return fmt.Errorf("ack page: %w", err)
	}
	used := map[string]bool{}
	for _, action := range []string{ackActionAcknowledge, ackActionResolve} {
		if used[action], err = a.svc.Used(r.Context(), useKey(id, action)); err != nil {
			return fmt.Errorf("ack page: %w", err)
		}
	}
	csrf := a.ackLinks.CSRF(id)
	http.SetCookie(w, &http.Cookie{
		Name: ackCookie(id), Value: csrf,
		MaxAge: int(time.Until(l.Expires).Seconds()) + 1, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: secureRequest(r),
	})
	writeAckPage(w, http.StatusOK, ackView(inc, l, used, csrf, ""))
	return nil
}

// ackAction answers POST /ack/{token}: the action of the form, once.
func (a *API) ackAction(w http.ResponseWriter, r *http.Request) error {
	l, id, err := a.ackLink(r)
	if err != nil {
		return err
	}
	form, err := ackForm(r)
	if err != nil {
		return err
	}
	cookie := ""
	if c, err := r.Cookie(ackCookie(id)); err == nil {
		cookie = c.Value
	}
	if !a.ackLinks.CheckCSRF(id, form.Get("csrf"), cookie) {
		return newError(http.StatusForbidden, "csrf",
			"This form was not sent from the link's page, or the page is stale: nothing was changed. Open the link again and press the button there.")
	}
	action := form.Get("action")
	once := incident.Once{Key: useKey(id, action), Expires: l.Expires}
	var inc incident.Incident
	var changed bool
	switch action {
	case ackActionAcknowledge:
		inc, changed, err = a.svc.AcknowledgeOnce(r.Context(), l.IncidentID, l.Responder, once)
	case ackActionResolve:
		inc, changed, err = a.svc.ResolveOnce(r.Context(), l.IncidentID, l.Responder, once)
	default:
		return newError(http.StatusBadRequest, "invalid", fmt.Sprintf("The action %q is not acknowledge or resolve.", action))
	}
	if errors.Is(err, incident.ErrUsed) {
		return newError(http.StatusGone, "used", fmt.Sprintf(
			"This link was already used to %s the incident; it does that once. Nothing was changed.", action))
	}
	if err != nil {
		return fmt.Errorf("%s by link: %w", action, err)
	}
	a.log.InfoContext(r.Context(), "ack link used", "request_id", RequestID(r.Context()), "incident_id", inc.ID,
		"responder", l.Responder, "action", action, "changed", changed)
	used := map[string]bool{action: changed}
	note := ""
	switch {
	case changed && action == ackActionAcknowledge:
		note = "Acknowledged by " + l.Responder + ". The escalation stops: nobody else is paged for it."
	case changed:
		note = "Resolved by " + l.Responder + "."
	default:
		note = "Nothing to do: the incident is " + string(inc.Status) + " already."
	}
	writeAckPage(w, http.StatusOK, ackView(inc, l, used, form.Get("csrf"), note))
	return nil
}

// ackForm reads the POST's form: action and csrf, nothing else.
func ackForm(r *http.Request) (url.Values, error) {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if strings.TrimSpace(strings.ToLower(mt)) != "application/x-www-form-urlencoded" {
		return nil, newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the form of the link's page.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAckForm+1))
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid", "The form could not be read.")
	}
	if len(body) > maxAckForm {
		return nil, newError(http.StatusRequestEntityTooLarge, "too_large", "The form is too large.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid", "The form is not valid.")
	}
	for k, v := range form {
		if (k != "action" && k != "csrf") || len(v) != 1 {
			return nil, newError(http.StatusBadRequest, "invalid", fmt.Sprintf("The form has an unexpected field %q.", k))
		}
	}
	return form, nil
}

// secureRequest reports whether the request came over HTTPS (API Gateway
// always; make local's plain HTTP not, where a Secure cookie would not come
// back from some browsers).
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// ackError answers err as a page: the status classify gives it, and its
// message (a 5xx says only that it failed, with the request id).
func (a *API) ackError(w http.ResponseWriter, r *http.Request, err error) {
	status, _, message, header := classify(err)
	if errors.Is(err, errkind.NotFound) {
		message = "This incident does not exist (any more)."
	}
	if status >= 500 {
		rid := RequestID(r.Context())
		a.log.ErrorContext(r.Context(), "request failed", "request_id", rid, "method", r.Method, "path", redactPath(r.URL.Path), "error", err.Error())
		message = "Something went wrong; nothing may have changed. Try again in a moment (request id " + rid + ")."
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	p := &page{}
	ackHead(p, "Acknowledge link")
	p.printf("<h1>%s</h1>\n<p>%s</p>\n", http.StatusText(status), message)
	p.foot()
	writeAckPage(w, status, p)
}

// ackView is the page of inc for the link l: its state, and a button for
// each action the link can still do. note, if any, says what the POST did.
func ackView(inc incident.Incident, l acklink.Link, used map[string]bool, csrf, note string) *page {
	p := &page{}
	ackHead(p, fmt.Sprintf("%s %s: %s", inc.Severity, inc.Service, inc.Title))
	if note != "" {
		p.printf(`<div class="banner %s" role="status">%s</div>`+"\n", ackBanner(inc.Status), note)
	}
	p.printf(`<section class="card">
<div class="row"><h1>%s</h1><span class="badge %s">%s</span></div>
<p><strong>%s</strong> · %s · <span class="badge %s">%s</span></p>
<p class="muted">Started %s`, inc.Title, ackBanner(inc.Status), inc.Status, inc.Service, inc.Severity, ackBanner(inc.Status), inc.Status, formatWhen(inc.CreatedAt))
	if inc.AcknowledgedAt != nil {
		p.printf(` · acknowledged %s`, formatWhen(*inc.AcknowledgedAt))
	}
	if inc.ResolvedAt != nil {
		p.printf(` · resolved %s`, formatWhen(*inc.ResolvedAt))
	}
	p.printf("</p>\n<p class=\"muted\">Incident %s</p>\n</section>\n", inc.ID)
	canAck := inc.Status == incident.StatusTriggered && !used[ackActionAcknowledge]
	canResolve := inc.Status.Open() && !used[ackActionResolve]
	if canAck || canResolve {
		p.printf(`<form method="post" class="actions">
<input type="hidden" name="csrf" value="%s">
`, csrf)
		if canAck {
			p.printf(`<button name="action" value="acknowledge" class="ack">Acknowledge</button>` + "\n")
		}
		if canResolve {
			p.printf(`<button name="action" value="resolve" class="resolve">Resolve</button>` + "\n")
		}
		p.printf("</form>\n")
	}
	p.printf(`<p class="muted">As %s. This link works until %s, once for each action.</p>`+"\n", l.Responder, formatWhen(l.Expires))
	p.foot()
	return p
}

// ackBanner is the colour class of a status (pageCSS's state classes).
func ackBanner(s incident.Status) string {
	switch s {
	case incident.StatusTriggered:
		return "major_outage"
	case incident.StatusResolved:
		return "operational"
	}
	return "degraded"
}

const ackCSS = `.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.actions button{flex:1 1 10rem;font:inherit;font-weight:600;padding:.9rem 1rem;border:0;border-radius:.5rem;color:#fff;cursor:pointer}
.actions .ack{background:#2f6fb3}.actions .resolve{background:#1f7a4d}
h1{overflow-wrap:anywhere}`

// ackHead starts an acknowledge page titled title: the pages' head with
// the buttons' style.
func ackHead(p *page, title string) {
	p.headWith(title, `<meta name="robots" content="noindex">`+"\n", ackCSS)
}

// writeAckPage answers p with status; never cached (it holds a CSRF token
// and a state that changes), never sending the link on as a referrer.
func writeAckPage(w http.ResponseWriter, status int, p *page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", ackCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(p.b.String()))
}

// redactPath is a request path fit for the log: an acknowledge link's
// token is a capability, and stays out.
func redactPath(p string) string {
	if strings.HasPrefix(p, "/ack/") {
		return "/ack/{token}"
	}
	return p
}
