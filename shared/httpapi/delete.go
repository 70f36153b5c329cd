package httpapi

import (
	"context"
	"net/http"
)

// The deletes of configuration (README.md, "Listing and removing
// configuration"): 204 when deleted, 404 when there is none (a second DELETE
// of the same id too), 409 naming the referrers, in the message and as
// "referrers" [{"kind","id"}], while something still names it (a user by
// schedules and policies, a schedule by policies, a policy by services). Ids
// are the keys, so a rename is a PUT of the new id, then the referrers moved
// to it, then a DELETE of the old one: the same rule. Each delete is logged
// ("configuration deleted": kind, id, actor, token_id), the audit trail of
// configuration, which has no timeline.

// deleteConfig is the DELETE of a what ("schedule", "policy", "user") by
// its {id}, through del.
func (a *API) deleteConfig(what string, del func(ctx context.Context, id string) error) func(http.ResponseWriter, *http.Request, principal) error {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := configID(r, what)
		if err != nil {
			return err
		}
		if err := del(r.Context(), id); err != nil {
			return err
		}
		a.logDeleted(r, p, what, id)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *API) deleteService(w http.ResponseWriter, r *http.Request, p principal) error {
	name := r.PathValue("name")
	if err := a.svc.DeleteServiceConfig(r.Context(), name); err != nil {
		return err
	}
	a.logDeleted(r, p, "service", name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// logDeleted writes the audit line of a delete: who deleted what.
func (a *API) logDeleted(r *http.Request, p principal, kind, id string) {
	tokenID := ""
	if p.token != nil {
		tokenID = p.token.ID
	}
	a.log.InfoContext(r.Context(), "configuration deleted", "request_id", RequestID(r.Context()),
		"kind", kind, "id", id, "actor", p.actor, "token_id", tokenID)
}
