package httpapi

import (
	"net/http"
)

// The deletes of configuration (README.md, "The API"): 204 when deleted, 404
// when there is none, 409 naming the referrers while something still names
// it (a user by schedules and policies, a schedule by policies, a policy by
// services). Ids are the keys, so a rename is a PUT of the new id, then the
// referrers moved to it, then a DELETE of the old one: the same rule.

func (a *API) deleteSchedule(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := configID(r, "schedule")
	if err != nil {
		return err
	}
	if err := a.oncall.DeleteSchedule(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deletePolicy(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := configID(r, "policy")
	if err != nil {
		return err
	}
	if err := a.oncall.DeletePolicy(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := configID(r, "user")
	if err != nil {
		return err
	}
	if err := a.oncall.DeleteUser(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteService(w http.ResponseWriter, r *http.Request, _ principal) error {
	if err := a.svc.DeleteServiceConfig(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
