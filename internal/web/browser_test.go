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

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"balise/internal/web"
)

// page is a headless Chromium tab on a fresh server (no tiles), with
// what it saw: exceptions, console errors, browser log errors (where CSP
// violations are reported) and requests to any other origin.
type page struct {
	ctx      context.Context
	url      string
	mu       sync.Mutex
	errs     []string
	searches int // GET /search requests sent
}

// newPage starts a server and an English browser of width×height; the
// test skips when chromium is absent, unless CI is set.
func newPage(t *testing.T, width, height int) *page {
	t.Helper()
	return newPageLang(t, width, height, "en-US")
}

func newPageLang(t *testing.T, width, height int, lang string) *page {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (scripts/deps.sh installs it)")
		}
		t.Skip("chromium is not installed")
	}
	p := &page{url: startServer(t, &web.Options{TilesAttribution: "none"})}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Headless,
		chromedp.WindowSize(width, height), chromedp.Flag("lang", lang), chromedp.Flag("accept-lang", lang))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	p.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Listen(ctx, p.watch); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errs {
			t.Error(e)
		}
	})
	return p
}

// watch runs in chromedp's event loop: it only records.
func (p *page) watch(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			msg = "console error:"
			for _, a := range ev.Args {
				msg += fmt.Sprintf(" %s%s", a.Value, a.Description)
			}
		}
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError && !strings.Contains(ev.Entry.Text, "404") {
			msg = "browser log: " + ev.Entry.Text
		}
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if strings.HasPrefix(u, p.url+"/search?") {
			p.mu.Lock()
			p.searches++
			p.mu.Unlock()
		}
		if !strings.HasPrefix(u, p.url+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			msg = "request to another origin: " + u
		}
	}
	if msg != "" {
		p.mu.Lock()
		p.errs = append(p.errs, msg)
		p.mu.Unlock()
	}
}

// open loads path and waits until the page has set itself up.
func (p *page) open(t *testing.T, path string) {
	t.Helper()
	p.do(t, chromedp.Navigate(p.url+path), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
}

func (p *page) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// get runs one action and returns its value.
func get[T any](t *testing.T, p *page, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(p.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type CSS = chromedp.CSS

func TestBrowserSearchAsYouType(t *testing.T) {
	p := newPage(t, 1280, 800)
	p.open(t, "/")
	// SendKeys types one key at a time, faster than the debounce.
	p.do(t, chromedp.SendKeys(CSS("#q"), "rue de rivoli"), chromedp.WaitVisible(CSS("#suggestions li")))
	p.mu.Lock()
	if p.searches == 0 || p.searches > 4 {
		t.Errorf("%d searches sent for 13 keys typed (debounced: a few)", p.searches)
	}
	p.mu.Unlock()
	first := get(t, p, chromedp.Text(CSS("#sugg-0 span")))
	meta := get(t, p, chromedp.Text(CSS("#sugg-0 .meta")))
	expanded := get(t, p, chromedp.AttributeValue(CSS("#q"), "aria-expanded")).Value
	p.do(t, chromedp.KeyEvent(kb.ArrowDown))
	active := get(t, p, chromedp.AttributeValue(CSS("#q"), "aria-activedescendant")).Value
	selected := get(t, p, chromedp.AttributeValue(CSS("#sugg-0"), "aria-selected")).Value
	p.do(t, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(CSS(".leaflet-marker-icon")))
	markers := get(t, p, chromedp.Evaluate[int](`document.querySelectorAll(".leaflet-marker-icon").length`))
	loc := get(t, p, chromedp.Evaluate[string](`location.search`))
	if !strings.Contains(strings.ToLower(first), "rivoli") {
		t.Errorf("first suggestion %q", first)
	}
	if !strings.Contains(meta, " · 0.") {
		t.Errorf("suggestion meta (type · score) %q", meta)
	}
	if expanded != "true" || active != "sugg-0" || selected != "true" {
		t.Errorf("aria-expanded %q, aria-activedescendant %q, aria-selected %q", expanded, active, selected)
	}
	if markers != 1 {
		t.Errorf("%d markers after choosing, want 1", markers)
	}
	if !strings.Contains(loc, "q=rue+de+rivoli") {
		t.Errorf("the URL does not hold the search: %q", loc)
	}
}

func TestBrowserLinkShowsResults(t *testing.T) {
	p := newPage(t, 1280, 800)
	p.open(t, "/?q=rue+de+rivoli&type=street&lat=48.86&lon=2.34")
	p.do(t, chromedp.WaitVisible(CSS("#suggestions li")), chromedp.WaitVisible(CSS(".leaflet-marker-icon")))
	first := get(t, p, chromedp.Text(CSS("#sugg-0")))
	q := get(t, p, chromedp.Value(CSS("#q")))
	typ := get(t, p, chromedp.Value(CSS("#f-type")))
	bias := get(t, p, chromedp.Evaluate[bool](`document.getElementById("f-bias").checked`))
	if q != "rue de rivoli" || typ != "street" || !bias || !strings.Contains(first, "street") {
		t.Errorf("q %q, type %q, bias %v, first %q", q, typ, bias, first)
	}
}

func TestBrowserReverseByClick(t *testing.T) {
	p := newPage(t, 1280, 800)
	p.open(t, "/")
	p.do(t, chromedp.Click(CSS("#map")), chromedp.WaitVisible(CSS("#reverse-list li")))
	first := get(t, p, chromedp.Text(CSS("#reverse-list li")))
	if !strings.HasSuffix(first, " m") || !strings.Contains(first, "Paris") {
		t.Errorf("nearest address %q (want a label and a distance)", first)
	}
}

// A radius bounds the reverse answer: 1 m around a click holds no address
// (the page says so), 2 km holds the nearest ones, all within it, and
// the request carries the radius.
func TestBrowserReverseRadius(t *testing.T) {
	p := newPage(t, 1280, 800)
	var mu sync.Mutex
	var sent []string
	if err := chromedp.Listen(p.ctx, func(ev any) {
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok && strings.HasPrefix(ev.Request.URL, p.url+"/reverse?") {
			mu.Lock()
			sent = append(sent, ev.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	p.open(t, "/")
	p.do(t, chromedp.SendKeys(CSS("#r-radius"), "1"), chromedp.Click(CSS("#map")),
		chromedp.WaitVisible(CSS(".leaflet-interactive")))
	help := get(t, p, chromedp.Text(CSS("#reverse .help")))
	n := get(t, p, chromedp.Evaluate[int](`document.querySelectorAll("#reverse-list li").length`))
	if n != 0 || help != "No address within 1 m" {
		t.Errorf("radius 1 m: %d addresses, help %q", n, help)
	}
	p.do(t, chromedp.SetValue(CSS("#r-radius"), "2000"),
		chromedp.Click(CSS("#map")), chromedp.WaitVisible(CSS("#reverse-list li")))
	items := get(t, p, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#reverse-list li")].map(li => li.textContent)`))
	if len(items) == 0 {
		t.Fatal("radius 2000 m: no address")
	}
	for _, it := range items {
		var m int
		if i := strings.LastIndex(it, " — "); i < 0 || func() bool { _, err := fmt.Sscanf(it[i:], " — %d m", &m); return err != nil }() || m > 2000 {
			t.Errorf("radius 2000 m: item %q", it)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 2 || !strings.Contains(sent[0], "&radius=1") || !strings.Contains(sent[1], "&radius=2000") {
		t.Errorf("reverse requests %q", sent)
	}
}

// A search still in flight when the next one starts is aborted: the
// browser holds the first /search request (CDP Fetch domain), the user
// types on, and the held request must end as cancelled while the newer
// answer is shown.
func TestBrowserStaleSearchAborted(t *testing.T) {
	p := newPage(t, 1280, 800)
	held := make(chan network.RequestID, 1)
	var mu sync.Mutex
	cancelled := map[network.RequestID]bool{}
	paused := 0
	if err := chromedp.Listen(p.ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			if paused++; paused == 1 {
				held <- ev.NetworkID // the first: never answered
				return
			}
			go chromedp.Call(p.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		case *network.EventLoadingFailed:
			if ev.Canceled {
				mu.Lock()
				cancelled[ev.RequestID] = true
				mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	p.open(t, "/")
	if _, err := chromedp.Call(p.ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: p.url + "/search?*"}},
	}); err != nil {
		t.Fatal(err)
	}
	p.do(t, chromedp.SendKeys(CSS("#q"), "rue"))
	var first network.RequestID
	select {
	case first = <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("no /search request after typing")
	}
	p.do(t, chromedp.SendKeys(CSS("#q"), " de rivoli"), chromedp.WaitVisible(CSS("#suggestions li")))
	label := get(t, p, chromedp.Text(CSS("#sugg-0 span")))
	if !strings.Contains(strings.ToLower(label), "rivoli") {
		t.Errorf("first suggestion %q: the newer search's answer must be shown", label)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		ok := cancelled[first]
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale /search request was not aborted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// csvFlow uploads a small file in the CSV panel and waits for its summary.
func csvFlow(t *testing.T, p *page, dir string) {
	t.Helper()
	in := filepath.Join(dir, "addresses.csv")
	if err := os.WriteFile(in, []byte("id,adresse,ville\n1,10 rue de rivoli,paris\n2,place de la concorde,paris\n3,zzzz qqqq,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.do(t,
		chromedp.Click(CSS("#tab-csv")),
		chromedp.SetUploadFiles(CSS("#csv-file"), []string{in}),
		chromedp.WaitEnabled(CSS("#csv-go")),
	)
	cols := get(t, p, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#csv-column-list input:checked")].map(c => c.value)`))
	if strings.Join(cols, ",") != "adresse,ville" {
		t.Errorf("detected address columns %v", cols)
	}
	p.do(t, chromedp.Click(CSS("#csv-go")), chromedp.WaitVisible(CSS("#csv-download")))
}

func TestBrowserCSV(t *testing.T) {
	p := newPage(t, 1280, 800)
	dir := t.TempDir()
	downloads := filepath.Join(dir, "downloads")
	p.open(t, "/")
	if _, err := chromedp.CallBrowser(p.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
	}); err != nil {
		t.Fatal(err)
	}
	csvFlow(t, p, dir)
	ok := get(t, p, chromedp.Text(CSS("#csv-counts dd:nth-of-type(1)")))
	notFound := get(t, p, chromedp.Text(CSS("#csv-counts dd:nth-of-type(2)")))
	stats := get(t, p, chromedp.Text(CSS("#csv-stats")))
	if ok != "2" || notFound != "1" {
		t.Errorf("summary: %s ok, %s not found", ok, notFound)
	}
	if !strings.HasPrefix(stats, "3 rows in ") {
		t.Errorf("progress line %q", stats)
	}
	p.do(t, chromedp.Click(CSS("#csv-download")))
	body := waitDownload(t, downloads)
	header, _, _ := strings.Cut(strings.TrimPrefix(body, "\ufeff"), "\r\n")
	for _, c := range []string{"id", "adresse", "result_label", "result_score", "result_status"} {
		if !strings.Contains(","+header+",", ","+c+",") {
			t.Errorf("downloaded header %q lacks %s", header, c)
		}
	}
	if !strings.Contains(body, "Rue de Rivoli") {
		t.Errorf("downloaded result:\n%s", body)
	}
}

// waitDownload returns the one file Chromium saves into dir.
func waitDownload(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err == nil && len(b) > 0 {
					return string(b)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no download")
	return ""
}

// On a phone, in French: the labels are translated, nothing overflows the
// 390 px, and the search works.
func TestBrowserPhoneFrench(t *testing.T) {
	p := newPageLang(t, 390, 844, "fr-FR")
	p.open(t, "/?q=rue+de+rivoli")
	p.do(t, chromedp.WaitVisible(CSS("#suggestions li")))
	label := get(t, p, chromedp.Text(CSS(`label[for="q"]`)))
	lang := get(t, p, chromedp.Evaluate[string](`document.documentElement.lang`))
	width := get(t, p, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	mapH := get(t, p, chromedp.Evaluate[int](`Math.round(document.getElementById("map").getBoundingClientRect().height)`))
	if label != "Adresse" || lang != "fr" {
		t.Errorf("label %q, lang %q: not French", label, lang)
	}
	if width > 390 || mapH < 200 {
		t.Errorf("at 390 px: page %d px wide, map %d px high", width, mapH)
	}
}

// TestScreenshots writes the page and the CSV flow at desktop and phone
// sizes into $BALISE_SCREENSHOTS (docs/screenshots holds a set).
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("BALISE_SCREENSHOTS")
	if dir == "" {
		t.Skip("BALISE_SCREENSHOTS is not set")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 800}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			p := newPage(t, size.width, size.height)
			p.open(t, "/?q=10+rue+de+rivoli")
			p.do(t, chromedp.WaitVisible(CSS("#suggestions li")), chromedp.Sleep(300*time.Millisecond))
			shot(t, p, filepath.Join(dir, "page-"+size.name+".png"))
			p.do(t, chromedp.Click(CSS("#q")), chromedp.KeyEvent(kb.Escape), chromedp.Click(CSS("#map")),
				chromedp.WaitVisible(CSS("#reverse-list li")), chromedp.Sleep(300*time.Millisecond))
			shot(t, p, filepath.Join(dir, "reverse-"+size.name+".png"))
			csvFlow(t, p, t.TempDir())
			p.do(t, chromedp.Sleep(200*time.Millisecond))
			shot(t, p, filepath.Join(dir, "csv-"+size.name+".png"))
		})
	}
}

func shot(t *testing.T, p *page, path string) {
	t.Helper()
	if err := os.WriteFile(path, get(t, p, chromedp.CaptureScreenshot()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A large file's answer is read as it streams: the progress line moves
// before the end.
func TestBrowserCSVProgress(t *testing.T) {
	p := newPage(t, 1280, 800)
	var b strings.Builder
	b.WriteString("adresse\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "%d rue de rivoli paris\n", i%200+1)
	}
	in := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p.open(t, "/")
	p.do(t,
		chromedp.Click(CSS("#tab-csv")),
		chromedp.SetUploadFiles(CSS("#csv-file"), []string{in}),
		chromedp.WaitEnabled(CSS("#csv-go")),
		chromedp.Click(CSS("#csv-go")),
		chromedp.WaitVisible(CSS("#csv-download")),
	)
	reads := get(t, p, chromedp.AttributeValue(CSS("#csv-stats"), "data-reads")).Value
	ok := get(t, p, chromedp.Text(CSS("#csv-counts dd:nth-of-type(1)")))
	if reads == "0" || reads == "1" || ok != "20000" {
		t.Errorf("answer read in %s chunks, %s rows ok", reads, ok)
	}
	t.Logf("answer read in %s chunks", reads)
}

func TestBrowserReverseCSV(t *testing.T) {
	p := newPage(t, 1280, 800)
	in := filepath.Join(t.TempDir(), "points.csv")
	if err := os.WriteFile(in, []byte("name,lat,lon\na,48.8566,2.3522\nb,x,y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.open(t, "/")
	p.do(t,
		chromedp.Click(CSS("#tab-csv")),
		chromedp.Click(CSS(`input[name="mode"][value="reverse"]`)),
		chromedp.SetUploadFiles(CSS("#csv-file"), []string{in}),
		chromedp.WaitEnabled(CSS("#csv-go")),
		chromedp.Click(CSS("#csv-go")),
		chromedp.WaitVisible(CSS("#csv-download")),
	)
	summary := get(t, p, chromedp.Text(CSS("#csv-counts")))
	if !strings.Contains(summary, "found\n1") || !strings.Contains(summary, "skipped\n1") {
		t.Errorf("summary %q", summary)
	}
}
