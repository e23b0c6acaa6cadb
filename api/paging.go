package api

import (
	"fmt"
	"net/http"
)

// setNext announces the page after this one, when there is one, as RFC
// 8288's Link header with rel="next": the request's own URL with the
// cursor replaced, so filters and limit carry over.
func setNext(w http.ResponseWriter, r *http.Request, next string) {
	if next == "" {
		return
	}
	u := *r.URL
	q := u.Query()
	q.Set("cursor", next)
	u.RawQuery = q.Encode()
	u.Scheme, u.Host = "", ""
	w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.RequestURI()))
}
