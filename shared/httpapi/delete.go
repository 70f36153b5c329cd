package httpapi

import (
	"context"
	"net/http"
)

// The deletes of configuration (README.md, "The API"): 204 when deleted, 404
// when there is none, 409 naming the referrers while something still names
// it (a user by schedules and policies, a schedule by policies, a policy by
// services). Ids are the keys, so a rename is a PUT of the new id, then the
// referrers moved to it, then a DELETE of the old one: the same rule.

// deleteConfig is the DELETE of a what ("schedule", "policy", "user") by
// its {id}, through del.
func deleteConfig(what string, del func(ctx context.Context, id string) error) func(http.ResponseWriter, *http.Request, principal) error {
	return func(w http.ResponseWriter, r *http.Request, _ principal) error {
		id, err := configID(r, what)
		if err != nil {
			return err
		}
		if err := del(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *API) deleteService(w http.ResponseWriter, r *http.Request, _ principal) error {
	if err := a.svc.DeleteServiceConfig(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
