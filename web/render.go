package web

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
)

// pages holds one parsed template set per page: the layout plus the
// page's own file.
type pages struct {
	byName map[string]*template.Template
}

// pageNames are the files of templates/ besides layout.html.
var pageNames = []string{"login", "error", "queue", "complaint", "hearings", "hearing", "me", "new", "callbacks", "deliveries", "audit", "reports", "people", "person", "agencies"}

// baseFuncs are replaced per request by the viewer's (funcs); they are
// declared here so the templates parse.
func baseFuncs(b *i18n.Bundle) template.FuncMap {
	return template.FuncMap{
		"t":    func(id string, kv ...any) string { return id },
		"may":  func(d string) bool { return false },
		"time": func(t time.Time) string { return "" },
		"date": func(t time.Time) string { return "" },
		"deref": func(p any) any {
			switch v := p.(type) {
			case *int64:
				if v != nil {
					return *v
				}
			case *int:
				if v != nil {
					return *v
				}
			case *time.Time:
				if v != nil {
					return *v
				}
			}
			return nil
		},
		"add":   func(a, b int) int { return a + b },
		"code":  duban.FormatTrackingCode,
		"list":  func(xs ...int) []int { return xs },
		"slist": func(xs ...string) []string { return xs },
		"before": func(s, sep string) string {
			b, _, _ := strings.Cut(s, sep)
			return b
		},
		"abs": func(a int) int {
			if a < 0 {
				return -a
			}
			return a
		},
	}
}

func loadPages(b *i18n.Bundle) (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(baseFuncs(b)).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// pageData is what every page's template receives.
type pageData struct {
	V *viewer
	P any
}

// render writes a page with status code, in the viewer's language.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, v *viewer, code int, name string, data any) {
	base := w.pages.byName[name]
	t, err := base.Clone()
	if err == nil {
		t.Funcs(template.FuncMap{
			"t":    v.t,
			"may":  v.May,
			"time": func(x time.Time) string { return x.In(w.Loc).Format("2006-01-02 15:04") },
			"date": func(x time.Time) string { return x.In(w.Loc).Format("2006-01-02") },
		})
		var buf bytes.Buffer
		if err = t.Execute(&buf, pageData{V: v, P: data}); err == nil {
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			rw.Header().Set("Cache-Control", "no-store")
			rw.WriteHeader(code)
			_, _ = buf.WriteTo(rw)
			return
		}
	}
	w.Log.Error("render page", slog.String("page", name), slog.Any("error", err))
	http.Error(rw, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// errorText is an error as the viewer reads it: the rule book's refusal,
// a missing thing or a state that no longer allows an action in their
// language; a bad field with its name and what is wrong.
func (v *viewer) errorText(err error) string {
	switch status(err) {
	case http.StatusUnauthorized:
		return v.t("web.error.sign_in")
	case http.StatusForbidden:
		return v.t("web.error.forbidden")
	case http.StatusNotFound:
		return v.t("web.error.not_found")
	case http.StatusUnprocessableEntity:
		return v.t("web.error.invalid", "Detail", err.Error())
	case http.StatusConflict:
		return v.t("web.error.conflict", "Detail", err.Error())
	}
	return v.t("web.error.internal")
}
