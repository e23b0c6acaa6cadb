package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/redact"
)

// TelegramFiles fetches the photos and documents of reports from
// Telegram: getFile (https://core.telegram.org/bots/api#getfile) gives a
// file_path, downloaded from DUBAN_TELEGRAM_FILE_ENDPOINT. Files are kept
// in memory, up to a bound, so a page opened twice asks Telegram once.
type TelegramFiles struct {
	token    string
	api      string // DUBAN_TELEGRAM_API_ENDPOINT, "…/bot%s/%s"
	files    string // DUBAN_TELEGRAM_FILE_ENDPOINT, "…/file/bot%s/%s"
	client   *http.Client
	mu       sync.Mutex
	cache    map[string]cachedFile
	order    []string
	size     int64
	maxCache int64
}

type cachedFile struct {
	body []byte
	kind string // the detected content type
}

// fileCacheBytes bounds the memory the cache takes.
const fileCacheBytes = 64 << 20

// NewTelegramFiles returns a fetcher of files with the bot's token and
// endpoints (empty ones take Telegram's).
func NewTelegramFiles(token, apiEndpoint, fileEndpoint string, client *http.Client) *TelegramFiles {
	if apiEndpoint == "" {
		apiEndpoint = "https://api.telegram.org/bot%s/%s"
	}
	if fileEndpoint == "" {
		fileEndpoint = "https://api.telegram.org/file/bot%s/%s"
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &TelegramFiles{token: token, api: apiEndpoint, files: fileEndpoint, client: client,
		cache: map[string]cachedFile{}, maxCache: fileCacheBytes}
}

// Get returns a file's bytes and detected content type.
func (f *TelegramFiles) Get(ctx context.Context, fileID string) ([]byte, string, error) {
	f.mu.Lock()
	c, ok := f.cache[fileID]
	f.mu.Unlock()
	if ok {
		return c.body, c.kind, nil
	}
	body, err := f.fetch(ctx, fileID)
	if err != nil {
		return nil, "", redact.Error(err, f.token)
	}
	kind := http.DetectContentType(body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if int64(len(body)) <= f.maxCache {
		for f.size+int64(len(body)) > f.maxCache && len(f.order) > 0 {
			old := f.order[0]
			f.order = f.order[1:]
			f.size -= int64(len(f.cache[old].body))
			delete(f.cache, old)
		}
		f.cache[fileID] = cachedFile{body: body, kind: kind}
		f.order = append(f.order, fileID)
		f.size += int64(len(body))
	}
	return body, kind, nil
}

func (f *TelegramFiles) fetch(ctx context.Context, fileID string) ([]byte, error) {
	u := fmt.Sprintf(f.api, f.token, "getFile") + "?file_id=" + url.QueryEscape(fileID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram getFile: %w", err)
	}
	defer res.Body.Close()
	var ans struct {
		OK     bool `json:"ok"`
		Result struct {
			FilePath string `json:"file_path"`
		} `json:"result"`
		Description string `json:"description"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&ans); err != nil {
		return nil, fmt.Errorf("telegram getFile: %w", err)
	}
	if !ans.OK || ans.Result.FilePath == "" {
		return nil, fmt.Errorf("telegram getFile: %s", ans.Description)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf(f.files, f.token, ans.Result.FilePath), nil)
	if err != nil {
		return nil, err
	}
	res, err = f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram file: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("telegram file: %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, duban.MaxAttachmentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("telegram file: %w", err)
	}
	if len(body) > duban.MaxAttachmentBytes {
		return nil, errors.New("telegram file: larger than a report's attachments may be")
	}
	return body, nil
}

// inlineTypes are the types shown in the page: pictures a browser shows
// safely. Everything else is a download.
var inlineTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// file: GET /complaints/{id}/files/{n}, the complaint's n-th attachment
// (from 1), to those who may read the complaint. The type is what the
// bytes are, not what the sender said; pictures are shown, anything else
// is downloaded, and nosniff keeps the browser to that.
func (w *Web) file(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	c, _, err := w.loadComplaint(r, me)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	atts, aerr := w.Store.Attachments(r.Context(), c.ID)
	if aerr != nil {
		return aerr
	}
	if err != nil || n < 1 || n > len(atts) {
		return fmt.Errorf("attachment %q: %w", r.PathValue("n"), duban.ErrNotFound)
	}
	if w.Files == nil {
		return fmt.Errorf("attachments: telegram is off: %w", duban.ErrNotFound)
	}
	body, kind, err := w.Files.Get(r.Context(), atts[n-1].FileID)
	if err != nil {
		return fmt.Errorf("attachment %d of complaint %d: %w", n, c.ID, err)
	}
	base, _, _ := strings.Cut(kind, ";")
	h := rw.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if inlineTypes[base] {
		h.Set("Content-Type", base)
	} else {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{
			"filename": fmt.Sprintf("%s-%d%s", c.TrackingCode, n, extension(base))}))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = rw.Write(body)
	return nil
}

// extension names a downloaded file by what it is.
func extension(kind string) string {
	switch kind {
	case "application/pdf":
		return ".pdf"
	case "application/zip":
		return ".zip"
	case "text/plain":
		return ".txt"
	}
	return ".bin"
}
