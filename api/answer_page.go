package api

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
)

// answerRoutes mounts the page a head reaches from the signed links of an
// e-mail: GET shows the hearing and the forms, POST answers. No sign-in:
// the signed token, carried in the link and posted back by the form, is
// the credential (so the form needs no other CSRF token: a forger would
// need the token itself).
func (s *server) answerRoutes() {
	if s.LinkAnswers == nil || s.Hearings == nil {
		return
	}
	s.mux.HandleFunc("GET "+notifier.AnswerPath, s.answerPage)
	s.mux.HandleFunc("POST "+notifier.AnswerPath, s.answerPost)
}

// maxAnswerForm bounds the posted form: a name and a reason.
const maxAnswerForm = 16 << 10

// answerView is what the answer page shows.
type answerView struct {
	Lang    string
	T       func(id string) string
	Token   string
	Focus   string // confirm | delegate: the link the head followed
	Details string
	Current string
	Message string // the outcome of a post, or why the link is refused
	Error   string
	Open    bool // the hearing still takes answers: show the forms
	Name    string
	Reason  string
}

var answerTmpl = template.Must(template.New("answer").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{call .T "answer.title"}}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}pre{white-space:pre-wrap;font-family:inherit}
.msg{padding:.6em;background:#eef6ee}.err{padding:.6em;background:#fbeaea}form{margin:1.2em 0}label{display:block;margin:.5em 0}
input[type=text],textarea{width:100%}button{padding:.4em 1.2em}</style></head><body>
<h1>{{call .T "answer.title"}}</h1>
{{if .Message}}<p class="msg" role="status">{{.Message}}</p>{{end}}
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
{{if .Details}}<pre>{{.Details}}</pre>{{end}}
{{if .Current}}<p><strong>{{.Current}}</strong></p>{{end}}
{{if .Open}}
<form method="post" id="confirm">
<input type="hidden" name="t" value="{{.Token}}"><input type="hidden" name="answer" value="confirmed">
<button type="submit"{{if eq .Focus "confirm"}} autofocus{{end}}>{{call .T "answer.confirm.button"}}</button>
</form>
<form method="post" id="delegate">
<h2>{{call .T "answer.delegate.heading"}}</h2>
<input type="hidden" name="t" value="{{.Token}}"><input type="hidden" name="answer" value="delegated">
<label>{{call .T "answer.delegate.name"}} <input type="text" name="delegate_name" maxlength="100" value="{{.Name}}" required{{if eq .Focus "delegate"}} autofocus{{end}}></label>
<label>{{call .T "answer.delegate.reason"}} <textarea name="delegate_reason" maxlength="1000" rows="3" required>{{.Reason}}</textarea></label>
<button type="submit">{{call .T "answer.delegate.button"}}</button>
</form>
{{end}}
</body></html>`))

// answerPage: GET /answer?t=TOKEN&a=confirm|delegate.
func (s *server) answerPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("t")
	la, err := s.LinkAnswers.Open(r.Context(), token)
	if err != nil {
		s.answerRefused(w, r, err)
		return
	}
	v := s.answerViewOf(la, token)
	v.Focus = r.URL.Query().Get("a")
	s.writeAnswer(w, http.StatusOK, v)
}

// answerPost: POST /answer with t, answer (confirmed | delegated),
// delegate_name and delegate_reason.
func (s *server) answerPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAnswerForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	token := r.PostForm.Get("t")
	req := jobs.AnswerRequest{Answer: duban.Answer(r.PostForm.Get("answer")),
		DelegateName: r.PostForm.Get("delegate_name"), DelegateReason: r.PostForm.Get("delegate_reason")}
	la, err := s.LinkAnswers.Answer(r.Context(), token, req)
	if la == nil {
		s.answerRefused(w, r, err)
		return
	}
	v := s.answerViewOf(la, token)
	tr := v.T
	var ve *duban.ValidationError
	switch {
	case err == nil:
		v.Message = tr("answer.done")
		s.writeAnswer(w, http.StatusOK, v)
	case errors.As(err, &ve):
		v.Error, v.Name, v.Reason, v.Focus = tr("answer.invalid_input"), req.DelegateName, req.DelegateReason, "delegate"
		s.writeAnswer(w, http.StatusUnprocessableEntity, v)
	case errors.Is(err, duban.ErrConflict):
		v.Error, v.Open = tr("answer.closed"), false
		s.writeAnswer(w, http.StatusConflict, v)
	case errors.Is(err, duban.ErrForbidden), errors.Is(err, duban.ErrUnauthorized):
		s.answerRefused(w, r, err)
	default:
		s.log.Error("answer by link", slog.Any("error", err))
		v.Error, v.Open = tr("answer.failed"), false
		s.writeAnswer(w, http.StatusInternalServerError, v)
	}
}

// answerViewOf is the page of a valid link: the hearing, the answer so
// far, and the forms while answers are taken.
func (s *server) answerViewOf(la *jobs.LinkAnswer, token string) answerView {
	locale := la.Person.Locale
	render := s.Hearings.Render
	v := s.answerTexts(locale)
	v.Token = token
	v.Details = render.Details(locale, la.Hearing, la.Agency)
	v.Current = render.AnswerLine(locale, la.Agency)
	v.Open = la.Hearing.Status == duban.HearingScheduled && s.Clock.Now().Before(la.Hearing.StartsAt)
	if !v.Open {
		v.Message = v.T("answer.closed")
	}
	return v
}

func (s *server) answerTexts(locale string) answerView {
	t := s.Hearings.Render.T
	return answerView{Lang: locale, T: func(id string) string { return t.T(locale, id, nil) }}
}

// answerRefused answers a link that is not (or no longer) good: tampered,
// expired, or its head may not answer; nothing changes. The page says
// which in both languages, since whose link it was is not known.
func (s *server) answerRefused(w http.ResponseWriter, r *http.Request, err error) {
	id := "answer.invalid"
	switch {
	case errors.Is(err, duban.ErrTokenExpired):
		id = "answer.expired"
	case errors.Is(err, duban.ErrForbidden):
		id = "answer.forbidden"
	case errors.Is(err, duban.ErrUnauthorized):
	default:
		s.log.Error("answer link", slog.String("path", r.URL.Path), slog.Any("error", err))
		id = "answer.failed"
	}
	v := s.answerTexts(duban.LocaleZH)
	en := s.answerTexts(duban.LocaleEN)
	v.Error = v.T(id) + " / " + en.T(id)
	status := http.StatusForbidden
	if id == "answer.failed" {
		status = http.StatusInternalServerError
	}
	s.writeAnswer(w, status, v)
}

func (s *server) writeAnswer(w http.ResponseWriter, status int, v answerView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The token is in the URL: never send it on as a referrer, never keep
	// the page in a cache, never frame it.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	if err := answerTmpl.Execute(w, v); err != nil {
		s.log.Warn("answer page", slog.Any("error", err))
	}
}
