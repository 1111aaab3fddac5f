package console_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// findChromium returns the browser to drive: EHIGATE_CHROMIUM, else the
// first of chromium, chromium-browser and google-chrome on PATH.
func findChromium(t *testing.T) string {
	if p := os.Getenv("EHIGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("EHIGATE_REQUIRE_SERVICES") == "1" {
		t.Fatal("no Chromium: install Debian's chromium or set EHIGATE_CHROMIUM")
	}
	t.Skip("no Chromium: install Debian's chromium or set EHIGATE_CHROMIUM")
	return ""
}

// unlabelled lists the form controls of the page with no label.
const unlabelled = `Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
	.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
	.map(e => e.name || e.id)`

// TestBrowser drives the console in headless Chromium: sign in, search,
// open a trace, see a chart, be refused a release as auditor, release as
// officer, export a package. Screenshots of every page are kept as test
// artifacts.
func TestBrowser(t *testing.T) {
	exe := findChromium(t)
	s := newStack(t)
	base := s.srv.URL
	art := t.ArtifactDir()
	downloads := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(art, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		missing, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](unlabelled))
		if err != nil {
			t.Fatalf("label check on %s: %v", name, err)
		}
		if len(missing) > 0 {
			t.Errorf("%s: controls without a label: %v", name, missing)
		}
	}
	signIn := func(token string) {
		t.Helper()
		do("sign in", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.ID("credential")),
			chromedp.SendKeys(chromedp.ID("credential"), token), chromedp.Click(chromedp.ID("signin")),
			chromedp.WaitVisible(chromedp.ID("results")))
	}

	// Sign in as an auditor.
	do("sign-in page", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.ID("credential")))
	shot("signin")
	signIn(auditorToken)

	// Search: denials only.
	do("search", chromedp.Click(chromedp.ID("a-deny")), chromedp.SendKeys(chromedp.ID("f-from"), "2026-03-01"),
		markPage(), chromedp.Click(chromedp.ID("search")), chromedp.WaitVisible(chromedp.CSS(`body:not([data-old]) #results a.trace-link`)))
	if loc, _ := chromedp.Run(bctx, chromedp.Location()); !strings.Contains(loc, "action=deny") {
		t.Errorf("search URL %s has no action filter", loc)
	}
	if body := text("#results tbody"); strings.Contains(body, "allow") || !strings.Contains(body, "deny") {
		t.Errorf("denials search shows:\n%s", body)
	}
	shot("decisions")

	// Open a trace.
	do("trace", chromedp.Click(chromedp.CSS(`#results a.trace-link`)), chromedp.WaitVisible(chromedp.ID("timeline")))
	if tl := text("#timeline"); !strings.Contains(tl, "received") || !strings.Contains(tl, "decided") {
		t.Errorf("timeline: %s", tl)
	}
	if main := text("main"); !strings.Contains(main, "45 CFR 171.202(e)") {
		t.Errorf("trace without the CFR cite:\n%s", main)
	}
	shot("trace")

	// Policies and a version diff.
	do("policies", chromedp.Navigate(base+"/console/policies"), chromedp.WaitVisible(chromedp.ID("policies")))
	shot("policies")
	do("policy", chromedp.Navigate(base+"/console/policies/no-share"), chromedp.WaitVisible(chromedp.ID("diff")))
	shot("policy-diff")

	// Reports: a chart with data marks.
	do("reports", chromedp.Navigate(base+"/console/reports?from=2026-03-01&to=2026-04-15"),
		chromedp.WaitVisible(chromedp.CSS(`svg#restrictions-over-time`)))
	marks, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('svg#restrictions-over-time rect.mark').length`))
	if err != nil || marks == 0 {
		t.Errorf("restrictions chart: %d marks (%v)", marks, err)
	}
	if h, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`document.querySelector('svg#restrictions-over-time').getBoundingClientRect().height`)); err != nil || h < 50 {
		t.Errorf("restrictions chart is %v px high (%v)", h, err)
	}
	// The fulfilment histogram: the four classes' requests in their bins.
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('svg#fulfilment-histogram rect.mark').length`)); err != nil || n < 4 {
		t.Errorf("fulfilment histogram: %d marks (%v)", n, err)
	}
	shot("reports")

	// An auditor may not release a hold.
	do("queues", chromedp.Navigate(base+"/console/queues"), chromedp.WaitVisible(chromedp.ID("hold-h2")),
		chromedp.SendKeys(chromedp.ID("reason-h2"), "results discussed by phone"), chromedp.Click(chromedp.ID("release-h2")),
		chromedp.WaitVisible(chromedp.ID("flash")))
	if f := text("#flash"); !strings.Contains(f, "Refused") {
		t.Errorf("auditor release: %q", f)
	}
	shot("queues-refused")

	// Sign out; the officer releases it.
	do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("credential")))
	signIn(officerToken)
	do("release", chromedp.Navigate(base+"/console/queues"), chromedp.WaitVisible(chromedp.ID("hold-h2")),
		chromedp.SendKeys(chromedp.ID("reason-h2"), "results discussed by phone"), chromedp.Click(chromedp.ID("release-h2")),
		chromedp.WaitVisible(chromedp.ID("flash")))
	if f := text("#flash"); !strings.Contains(f, "released") {
		t.Errorf("officer release: %q", f)
	}
	if n, _ := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#hold-h2').length`)); n != 0 {
		t.Error("the released hold is still in the queue")
	}
	shot("queues-released")
	req, _ := http.NewRequest("GET", base+"/api/holds?state=released", nil)
	req.Header.Set("Authorization", "Bearer "+auditorToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var holds struct {
		Holds []struct{ ID, ReleasedBy, ReleaseReason string } `json:"holds"`
	}
	json.NewDecoder(resp.Body).Decode(&holds)
	resp.Body.Close()
	if len(holds.Holds) != 1 || holds.Holds[0].ID != "h2" {
		t.Errorf("released holds by the API: %+v", holds.Holds)
	}

	// Export a package: the download is a zip with a manifest.
	if _, err := chromedp.CallBrowser(bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatalf("download behaviour: %v", err)
	}
	do("export", chromedp.Navigate(base+"/console/export"), chromedp.WaitVisible(chromedp.ID("export-form")),
		chromedp.SendKeys(chromedp.ID("x-from"), "2026-03-01"), chromedp.SendKeys(chromedp.ID("x-to"), "2026-04-15"))
	shot("export")
	do("download", chromedp.Click(chromedp.ID("export")))
	zipPath := waitDownload(t, downloads)
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatalf("the download is not a zip: %v", err)
	}
	defer zr.Close()
	found := false
	for _, f := range zr.File {
		found = found || f.Name == "manifest.json"
	}
	if !found {
		t.Error("the package has no manifest.json")
	}

	// A tablet width.
	do("800px", chromedp.EmulateViewport(800, 1000), chromedp.Navigate(base+"/console/decisions"),
		chromedp.WaitVisible(chromedp.ID("results")))
	shot("decisions-800")
	if w, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); err != nil || w > 800 {
		t.Errorf("at 800px the page is %v px wide (%v)", w, err)
	}
	t.Logf("screenshots in %s", art)
}

// markPage marks the page shown, so that a wait for a selector with
// body:not([data-old]) waits for the next page.
func markPage() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`document.body.dataset.old = "1", true`)(ctx, tg)
		return chromedp.Void{}, err
	}
}

// waitDownload waits for a finished .zip in dir.
func waitDownload(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ms, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
		if len(ms) > 0 {
			return ms[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no package was downloaded")
	return ""
}
