package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cityhall/duban/web"
)

// fakeFiles is Telegram's getFile and file download, on httptest.
type fakeFiles struct {
	srv  *httptest.Server
	mu   sync.Mutex
	n    int
	logs strings.Builder
}

// png is the smallest PNG header http.DetectContentType knows.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")

func newFakeFiles(t *testing.T) *fakeFiles {
	f := &fakeFiles{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/botTOKEN/getFile":
			f.mu.Lock()
			f.n++
			f.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": map[string]any{"file_id": r.URL.Query().Get("file_id"),
				"file_path": "files/" + r.URL.Query().Get("file_id")}})
		case r.URL.Path == "/file/botTOKEN/files/photo-1":
			_, _ = w.Write(png)
		case r.URL.Path == "/file/botTOKEN/files/doc-1":
			// A document whose bytes are HTML: it must never render.
			_, _ = w.Write([]byte("<html><script>alert(1)</script></html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFiles) files() *web.TelegramFiles {
	return web.NewTelegramFiles("TOKEN", f.srv.URL+"/bot%s/%s", f.srv.URL+"/file/bot%s/%s", nil)
}

func (f *fakeFiles) gets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *fakeFiles) log() string { return f.logs.String() }

// webWithFiles serves the pages over the env's app with attachments
// fetched by files.
func (e *env) webWithFiles(files *web.TelegramFiles) *httptest.Server {
	e.t.Helper()
	w, err := web.New(web.Deps{Store: e.app.Store, Hearings: e.app.Hearings, Complaints: e.app.Complaints, Clock: e.clock,
		Loc: shanghai, Files: files})
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	e.t.Cleanup(srv.Close)
	return srv
}
