// Package i18n holds every user-facing text of duban, in zh-CN (the default)
// and en, as go-i18n message bundles embedded in the binary.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/cityhall/duban"
)

//go:embed locales/*.yaml
var locales embed.FS

// pluralField is the data field whose value picks a message's plural form
// (for example duration.days: "1 day", "3 days").
const pluralField = "N"

// Bundle renders messages by id in a locale. It is safe for concurrent use
// once built.
type Bundle struct {
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
	ids        map[string]map[string]bool // locale → message ids it defines
}

// New loads the embedded message files.
func New() (*Bundle, error) {
	return load(locales)
}

// MustNew is New for program start-up and tests: the files are embedded, so
// an error is a bug in them, found by the package's tests.
func MustNew() *Bundle {
	b, err := New()
	if err != nil {
		panic(err)
	}
	return b
}

func load(fsys fs.FS) (*Bundle, error) {
	bundle := goi18n.NewBundle(language.Make(duban.LocaleZH))
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	b := &Bundle{
		bundle:     bundle,
		localizers: make(map[string]*goi18n.Localizer),
		ids:        make(map[string]map[string]bool),
	}
	// Each locale is <locale>.yaml plus any <part>.<locale>.yaml, so each
	// capability keeps its messages in a file of its own.
	for _, locale := range []string{duban.LocaleZH, duban.LocaleEN} {
		names, err := fs.Glob(fsys, "locales/*"+locale+".yaml")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		ids := map[string]bool{}
		for _, name := range names {
			base := path.Base(name)
			if base != locale+".yaml" && !strings.HasSuffix(base, "."+locale+".yaml") {
				continue
			}
			file, err := bundle.LoadMessageFileFS(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("i18n: load %s: %w", name, err)
			}
			for _, m := range file.Messages {
				if ids[m.ID] {
					return nil, fmt.Errorf("i18n: %s: message %s defined twice", name, m.ID)
				}
				ids[m.ID] = true
			}
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("i18n: no messages for %s", locale)
		}
		b.ids[locale] = ids
		b.localizers[locale] = goi18n.NewLocalizer(bundle, locale)
	}
	return b, nil
}

// T renders message id in locale with data. A locale duban does not speak
// is read as zh-CN; a message missing in en falls back to zh-CN, and one
// missing everywhere renders as its id, so a gap shows rather than breaks a
// send. The data field N, when present, picks the plural form.
func (b *Bundle) T(locale, id string, data map[string]any) string {
	out, err := b.render(locale, id, data, nil)
	if err != nil {
		return id
	}
	return out
}

// render is T with an optional template parser (tests pass a strict one
// that fails on a missing field) and the error kept.
func (b *Bundle) render(locale, id string, data map[string]any, parser template.Parser) (string, error) {
	locale = duban.NormalizeLocale(locale)
	if !b.Has(locale, id) {
		if !b.Has(duban.LocaleZH, id) {
			return "", fmt.Errorf("i18n: no message %q", id)
		}
		locale = duban.LocaleZH
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id, TemplateData: data, TemplateParser: parser}
	switch n := data[pluralField].(type) {
	case int, int8, int16, int32, int64, string: // what go-i18n can pluralise
		cfg.PluralCount = n
	}
	out, err := b.localizers[locale].Localize(cfg)
	if err != nil {
		return "", fmt.Errorf("i18n: render %s in %s: %w", id, locale, err)
	}
	return out, nil
}

// Has reports whether locale itself defines message id, without fallback.
func (b *Bundle) Has(locale, id string) bool {
	return b.ids[duban.NormalizeLocale(locale)][id]
}

// IDs lists every message id of the default locale, zh-CN, sorted.
func (b *Bundle) IDs() []string {
	return b.idsOf(duban.LocaleZH)
}

func (b *Bundle) idsOf(locale string) []string {
	out := make([]string, 0, len(b.ids[locale]))
	for id := range b.ids[locale] {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
