package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium for one test. It skips when chromium
// is not installed, unless CI is set (then the test fails).
func browser(t *testing.T, lang string) (context.Context, *consoleErrors) {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (scripts/deps.sh installs it)")
		}
		t.Skip("chromium is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("lang", lang),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	errs := &consoleErrors{}
	// Headless Chromium's navigator.language ignores --lang; the
	// emulated Accept-Language sets it (and the locale, Intl's).
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		ua, err := chromedp.Evaluate[string](`navigator.userAgent`)(ctx, tg)
		if err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride,
			emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: lang}); err != nil {
			return err
		}
		_, err = cdp.Call(ctx, tg, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: strings.ReplaceAll(lang, "-", "_")})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	msgs := chromedp.Console(bctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				errs.add(m.String())
			}
		}
	}()
	return bctx, errs
}

// consoleErrors collects the page's errors (a CSP violation is one).
type consoleErrors struct {
	mu   sync.Mutex
	list []string
}

func (c *consoleErrors) add(s string) { c.mu.Lock(); c.list = append(c.list, s); c.mu.Unlock() }

func (c *consoleErrors) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.list {
		t.Errorf("console: %s", e)
	}
}

func textOf(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID(id)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDashboardInChromium(t *testing.T) {
	l := startServer(t, nil)
	ctx, errs := browser(t, "en-GB")
	open(t, ctx, l.url+"/dashboard", `document.getElementById("ix-file").textContent === "ban-nc.balise"`)
	before := textOf(t, ctx, "requests")
	if textOf(t, ctx, "attribution") != "BAN" || !strings.Contains(textOf(t, ctx, "licence"), "Licence Ouverte") {
		t.Errorf("attribution %q, licence %q", textOf(t, ctx, "attribution"), textOf(t, ctx, "licence"))
	}
	if got := textOf(t, ctx, "breaker"); got != "off" {
		t.Errorf("breaker %q", got)
	}
	// Requests while the page polls: the count and the rate change within
	// a few seconds, and the rate chart gets a line.
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for {
			select {
			case <-stop:
				return
			default:
				l.search(t, 5)
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.Run(pctx, chromedp.Poll[bool](
		`document.getElementById("requests").textContent !== `+jsString(before)+
			` && parseFloat(document.getElementById("rate").textContent) > 0`+
			` && document.querySelector("#c-rate path.s1") !== null`+
			` && document.querySelector("#c-lat path.s2") !== null`))
	close(stop)
	<-sent
	if err != nil {
		t.Fatalf("the dashboard did not change: requests %q → %q, rate %q: %v",
			before, textOf(t, ctx, "requests"), textOf(t, ctx, "rate"), err)
	}
	errs.check(t)
}

func TestDashboardInFrench(t *testing.T) {
	l := startServer(t, nil)
	ctx, errs := browser(t, "fr-FR")
	open(t, ctx, l.url+"/dashboard", `document.getElementById("ix-file").textContent !== "–"`)
	if got := textOf(t, ctx, "breaker"); got != "désactivé" {
		t.Errorf("breaker %q", got)
	}
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil || lang != "fr" {
		t.Errorf("lang %q %v", lang, err)
	}
	// Usable at 390 px: nothing wider than the viewport.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
	if err != nil || w > 390 {
		t.Errorf("page %v px wide at 390 px: %v", w, err)
	}
	errs.check(t)
}

// TestScreenshots writes the dashboard at desktop and phone size into
// $BALISE_SCREENSHOTS (docs/screenshots holds the committed ones).
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("BALISE_SCREENSHOTS")
	if dir == "" {
		t.Skip("BALISE_SCREENSHOTS is not set")
	}
	l := startServer(t, nil)
	ctx, _ := browser(t, "en-GB")
	if err := chromedp.Do(ctx, chromedp.Navigate(l.url+"/dashboard")); err != nil {
		t.Fatal(err)
	}
	// Ten seconds of traffic, so that the charts have something to draw.
	for i := range 20 {
		l.search(t, 4+i%5*4)
		time.Sleep(500 * time.Millisecond)
	}
	for _, shot := range []struct {
		name string
		w, h int64
	}{{"dashboard-desktop.png", 1280, 800}, {"dashboard-phone.png", 390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(shot.w, shot.h), chromedp.Sleep(1200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, shot.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// open navigates to url and waits until the expression is true.
func open(t *testing.T, ctx context.Context, url, ready string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](ready)); err != nil {
		t.Fatal(err)
	}
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
