package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cityhall/duban/storage/storagetest"
)

// chromium finds a headless-capable Chromium: Debian's `chromium`
// package (with fonts-noto-cjk, so Chinese renders), which .ci/run
// installs. Without one the browser tests skip, saying why, unless
// DUBAN_TEST_REQUIRE_SERVICES=1, when they fail.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	why := "no Chromium on PATH (apt-get install chromium fonts-noto-cjk)"
	if os.Getenv("DUBAN_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal(why + ", and DUBAN_TEST_REQUIRE_SERVICES=1")
	}
	t.Skip(why)
	return ""
}

// artifacts is where screenshots go: DUBAN_TEST_ARTIFACTS, or a
// temporary directory.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DUBAN_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tab is one headless browser tab on the env's server.
type tab struct {
	t   *testing.T
	e   *env
	ctx context.Context
	dir string
}

func (e *env) tab(t *testing.T, exe string, width, height int) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(width, height), chromedp.Flag("lang", "zh-CN"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first run starts the browser, and must not have a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &tab{t: t, e: e, ctx: ctx, dir: artifacts(t)}
}

// do runs steps with a time bound.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		b.t.Fatalf("%s: %v\n%s", what, err, html)
	}
}

// text is the page's visible text.
func (b *tab) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// shot saves a screenshot of the whole page as name.png and logs where.
func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	p := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

func (b *tab) signIn(login string) {
	b.t.Helper()
	b.do("sign in as "+login,
		chromedp.Navigate(b.e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#login"), login),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#logout")),
	)
}

func (b *tab) signOut() {
	b.t.Helper()
	b.do("sign out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")))
}

func TestBrowser_TheOfficesDayInHeadlessChromium(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t, storagetest.SQLiteURL(t))
	c := e.complaint("执法人员当场罚款500元不开收据，电话13800001111的王先生反映。")
	e.complaint("多次举报占道经营无人处理")
	assigned := e.assigned("窗口排队三小时", 5)
	b := e.tab(t, exe, 1280, 900)

	// A supervisor signs in, filters the queue and accepts a complaint.
	b.signIn("sup")
	b.do("queue", chromedp.WaitVisible(chromedp.CSS("#queue")))
	b.shot("queue")
	b.do("filter the queue",
		chromedp.SetValue(chromedp.CSS("#f-status"), "received"),
		chromedp.Click(chromedp.CSS("#f-apply")),
		chromedp.WaitReady(chromedp.CSS(`#f-status option[value=received][selected]`)),
	)
	if txt := b.text(); strings.Contains(txt, "窗口排队三小时") || !strings.Contains(txt, "占道经营") {
		t.Errorf("the queue filtered to received shows:\n%s", txt)
	}
	b.do("open the complaint",
		chromedp.Navigate(fmt.Sprintf("%s/complaints/%d", e.srv.URL, c.ID)),
		chromedp.WaitVisible(chromedp.CSS("#act-accept")),
	)
	b.shot("complaint")
	b.do("accept it",
		chromedp.Click(chromedp.CSS("#act-accept button")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if txt := b.text(); !strings.Contains(txt, "已受理") {
		t.Errorf("after accepting, the page says:\n%s", txt)
	}
	// A post whose CSRF field was taken out is refused.
	b.do("post without the CSRF token",
		chromedp.Navigate(fmt.Sprintf("%s/complaints/%d", e.srv.URL, c.ID)),
		chromedp.WaitVisible(chromedp.CSS("#act-note")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#act-note input[name=csrf_token]').remove();
			document.querySelector('#act-note textarea').value = '不该保存';
			document.querySelector('#act-note').submit()`),
		chromedp.WaitVisible(chromedp.CSS("main .error")),
	)
	if txt := b.text(); !strings.Contains(txt, "403") {
		t.Errorf("a post without its token answered:\n%s", txt)
	}
	b.signOut()

	// The office registers a hearing and, once it is held, its outcome.
	b.signIn("staff")
	when := start.Add(72 * time.Hour).In(shanghai).Format("2006-01-02T15:04")
	b.do("register a hearing",
		chromedp.Navigate(e.srv.URL+"/hearings"),
		chromedp.WaitVisible(chromedp.CSS("#register")),
		chromedp.SendKeys(chromedp.CSS("#r-case"), "(2026)沪0101行初77号"),
		chromedp.SendKeys(chromedp.CSS("#r-court"), "黄浦区人民法院"),
		chromedp.SendKeys(chromedp.CSS("#r-room"), "第三法庭"),
		chromedp.SendKeys(chromedp.CSS("#r-agencies"), "GA;SJ"),
		chromedp.SetValue(chromedp.CSS("#r-start"), when),
		chromedp.SendKeys(chromedp.CSS("#r-plaintiff"), "王某"),
		chromedp.SendKeys(chromedp.CSS("#r-cause"), "行政处罚"),
		chromedp.Click(chromedp.CSS("#r-submit")),
		chromedp.WaitVisible(chromedp.CSS("#reminders")),
	)
	b.shot("hearing")
	e.clock.Set(start.Add(76 * time.Hour))
	b.do("record the outcome",
		chromedp.SetValue(chromedp.CSS("#o-attendance"), "head"),
		chromedp.Click(chromedp.CSS("#o-submit")),
		chromedp.WaitVisible(chromedp.CSS("#answers .pill.head")),
	)
	if txt := b.text(); !strings.Contains(txt, "已记录出庭情况") {
		t.Errorf("after the outcome the page says:\n%s", txt)
	}
	b.do("hearings", chromedp.Navigate(e.srv.URL+"/hearings?agency=GA"), chromedp.WaitReady(chromedp.CSS(`#h-agency option[value=GA][selected]`)))
	b.shot("hearings")
	b.signOut()

	// The handler of the agency never sees the reporter's phone.
	b.signIn("handler")
	b.do("the handler's complaint",
		chromedp.Navigate(fmt.Sprintf("%s/complaints/%d", e.srv.URL, assigned.ID)),
		chromedp.WaitVisible(chromedp.CSS("#timeline")),
	)
	html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "13800001111") || strings.Contains(html, "王先生") {
		t.Error("the handler's page shows the reporter")
	}
	b.shot("complaint-handler")
	b.signOut()
}

func TestBrowser_EnglishOnAPhone(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t, storagetest.SQLiteURL(t))
	e.assigned("乱罚款", 3)
	b := e.tab(t, exe, 390, 844)
	b.signIn("sup")
	b.do("switch to English",
		chromedp.Click(chromedp.CSS(`button[name=lang]`)),
		chromedp.WaitReady(chromedp.CSS(`html[lang=en] #queue`)),
	)
	if txt := b.text(); !strings.Contains(txt, "Supervision queue") || !strings.Contains(txt, "working days left") {
		t.Errorf("the queue in English reads:\n%s", txt)
	}
	b.shot("queue-phone-en")
}

func TestBrowser_TheQueueMonitorAsksNoOtherHost(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t, storagetest.SQLiteURL(t))
	e.assigned("乱罚款", 5) // a delivery in the queue
	b := e.tab(t, exe, 1280, 900)
	b.signIn("admin")
	var mu sync.Mutex
	var urls []string
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Listen(b.ctx, func(ev any) {
		if r, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			urls = append(urls, r.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	b.do("open the monitor",
		chromedp.Navigate(e.srv.URL+"/admin/queues"),
		chromedp.WaitVisible(chromedp.CSS("#root header")),
		chromedp.Evaluate[chromedp.Void](`document.fonts.ready`, chromedp.EvalAwaitPromise),
	)
	time.Sleep(time.Second) // its first API calls
	b.shot("queue-monitor")
	mu.Lock()
	defer mu.Unlock()
	for _, u := range urls {
		if !strings.HasPrefix(u, e.srv.URL) && !strings.HasPrefix(u, "data:") {
			t.Errorf("the monitor asked another host: %s", u)
		}
	}
	if len(urls) < 3 {
		t.Errorf("saw only %d requests: %v", len(urls), urls)
	}
}

// TestBrowser_ReportsWithChartsADownloadAndTheBulletin: the reports page
// in Chromium, its charts drawn (SVG, no script), a workbook downloaded
// as the page's link gives it, and the bulletin sent on demand.
func TestBrowser_ReportsWithChartsADownloadAndTheBulletin(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t, storagetest.SQLiteURL(t))
	e.assigned("乱罚款", 5)
	e.complaint("多次举报占道经营无人处理")
	b := e.tab(t, exe, 1280, 900)
	b.signIn("sup")
	b.do("open the reports",
		chromedp.Navigate(e.srv.URL+"/reports?from=2026-01-01&to=2026-12-31&by=quarter"),
		chromedp.WaitVisible(chromedp.CSS("svg.chart")),
		chromedp.WaitVisible(chromedp.CSS("#table-by_category")),
	)
	b.shot("reports")
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(document.querySelector('#downloads a[href^="/reports/complaints.xlsx"]').href)
		.then(r => r.headers.get('Content-Disposition').includes('.xlsx') ? r.status : 0)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download the complaints workbook: %v", err)
	}
	if status != 200 {
		t.Errorf("the download answered %d", status)
	}
	b.do("send the bulletin",
		chromedp.Click(chromedp.CSS("#bulletin button")),
		chromedp.WaitVisible(chromedp.CSS("#bulletin-sent")),
	)
	if txt := b.text(); !strings.Contains(txt, "通报") {
		t.Errorf("after sending the bulletin the page reads:\n%s", txt)
	}
}
