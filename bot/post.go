package bot

import (
	"errors"
	"io"
	"net/http"
)

// maxBody bounds what an inbound webhook may post; Telegram updates and
// Slack payloads are far smaller.
const maxBody = 1 << 20

// ReadPost reads the body of a platform's post, at most maxBody. It
// answers anything but a POST (405), a body over the limit (413) or one
// that cannot be read (400) itself and reports false; the caller checks
// the post's secret or signature first, so that a stranger learns nothing.
func ReadPost(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}
