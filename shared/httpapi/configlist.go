package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// GET /users, /schedules and /policies (README.md, "Listing and removing
// configuration"): {"items": [...], "next_cursor": "..." | null}, by id,
// limit 1-100 (25), each item the document GET of its id answers, with
// "id".

// configListParams are the query parameters of the lists.
var configListParams = map[string]bool{"limit": true, "cursor": true}

// configList is a list's answer.
type configList[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// listConfig answers a list through list.
func listConfig[T any](list func(context.Context, oncall.ListQuery) (oncall.ListPage[T], error)) func(http.ResponseWriter, *http.Request, principal) error {
	return func(w http.ResponseWriter, r *http.Request, _ principal) error {
		q, err := parseQuery(r.URL.RawQuery, configListParams, "limit, cursor")
		if err != nil {
			return err
		}
		lq := oncall.ListQuery{Cursor: q.Get("cursor")}
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > oncall.MaxListLimit {
				return errkind.Invalidf("limit %q is not a whole number between 1 and %d", s, oncall.MaxListLimit)
			}
			lq.Limit = n
		}
		page, err := list(r.Context(), lq)
		if err != nil {
			return err
		}
		out := configList[T]{Items: page.Items}
		if out.Items == nil {
			out.Items = []T{}
		}
		if page.NextCursor != "" {
			out.NextCursor = &page.NextCursor
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}
