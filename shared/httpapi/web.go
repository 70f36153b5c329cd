package httpapi

import "context"

// webRoutes are the web function's routes: pages and documents (README,
// "Pages: the status page and the DORA report"). Each is in Routes, with
// FunctionWeb; TestRoutesAreServed holds the two equal.
func (a *API) webRoutes() {
	a.statusRoutes()
	a.doraRoutes()
	a.postmortemRoutes()
	a.ackRoutes()
}

// ServiceNames lists the names of the configured services, at most limit,
// and whether there are more; *dynamo.Store is one.
type ServiceNames interface {
	ServiceNames(ctx context.Context, limit int) ([]string, bool, error)
}
