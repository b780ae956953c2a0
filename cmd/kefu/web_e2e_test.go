package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAgentAndWallboard drives the agent desktop and the supervisor
// wallboard in headless Chromium against the real kefu binary: agent 1001
// (a sipp phone) logs in and goes ready, the wallboard shows it within a
// second; a VIP caller (sipp, presses 1) is offered to 1001, the screen pop
// shows the caller, tier, stars and the IVR choice, and the wallboard shows
// the agent talking within a second of the pop. On failure both tabs are
// saved as full-page PNGs in $KEFU_TEST_ARTIFACTS (default
// <tmp>/kefu-test-artifacts/<test name>/).
func TestBrowserAgentAndWallboard(t *testing.T) {
	browser := newBrowser(t)
	k := startKefuProcess(t)
	if k.token == "" {
		t.Fatal("kefuProc has no supervisor token: the test config needs an auth: section")
	}
	agentPort := freePort(t)
	phone := startSipp(t, "agent_answer.xml", "-p", strconv.Itoa(agentPort), "-m", "1",
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-rtp_echo")
	register(t, k, "1001", "kefu-1001", agentPort)

	// Two tabs with separate cookie jars: one person per role.
	agentTab := browser.tab(t, "agent")
	boardTab := browser.tab(t, "wallboard")

	// The agent logs in.
	agentTab.do(t, "open the agent desktop and log in", 15*time.Second,
		chromedp.Navigate(k.http+"/agent"),
		chromedp.WaitVisible(testID("login-agent")),
		chromedp.SendKeys(testID("login-agent"), "1001"),
		chromedp.SendKeys(testID("login-password"), "kefu-1001"),
		chromedp.Click(testID("login-submit")),
		chromedp.WaitVisible(testID("btn-ready")),
	)
	agentTab.waitJS(t, "the desktop's stream to show the agent's state", 10*time.Second,
		`document.querySelector('[data-testid="agent-state"]').dataset.state === "not_ready"`)

	// The supervisor pastes the token once.
	boardTab.do(t, "log in as supervisor and open the wallboard", 15*time.Second,
		chromedp.Navigate(k.http+"/login"),
		chromedp.WaitVisible(testID("sup-token")),
		chromedp.SendKeys(testID("sup-token"), k.token),
		chromedp.Click(testID("sup-submit")),
		chromedp.WaitVisible(testID("agent-state-1001")),
	)

	// Ready: on the wallboard within a second of the click.
	agentTab.do(t, "click Ready", 5*time.Second, chromedp.Click(testID("btn-ready")))
	clicked := time.Now()
	if !boardTab.pollJS(t, time.Second, `document.querySelector('[data-testid="agent-state-1001"]')?.dataset.state === "ready"`) {
		msg, _ := chromedp.Run(agentTab.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="action-error"]').textContent`))
		t.Fatalf("the wallboard did not show agent 1001 ready within 1 s of the click (agent page says %q)", msg)
	}
	t.Logf("ready on the wallboard %v after the click", time.Since(clicked).Round(time.Millisecond))

	// A VIP caller presses 1 and is offered to 1001.
	caller := startSipp(t, "caller_dtmf.xml", k.sip.String(), "-s", "10086", "-p", strconv.Itoa(freePort(t)),
		"-m", "1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-key", "caller", "13800000005")
	if !agentTab.pollJS(t, 30*time.Second, `!document.querySelector('[data-testid="pop"]').classList.contains("hidden")`) {
		t.Fatal("no screen pop within 30 s of the call")
	}
	popped := time.Now()
	if !boardTab.pollJS(t, time.Second, `document.querySelector('[data-testid="agent-state-1001"]')?.dataset.state === "talking"`) {
		t.Fatal("the wallboard did not show agent 1001 talking within 1 s of the screen pop")
	}
	t.Logf("talking on the wallboard %v after the pop", time.Since(popped).Round(time.Millisecond))
	pop := map[string]string{}
	for _, f := range []string{"pop-caller", "pop-tier", "pop-stars", "pop-path", "pop-vip"} {
		v, err := chromedp.Run(agentTab.ctx, chromedp.Evaluate[string](
			fmt.Sprintf(`(n => n.classList.contains("hidden") ? "" : n.textContent)(document.querySelector('[data-testid=%q]'))`, f)))
		if err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
		pop[f] = strings.TrimSpace(v)
	}
	if pop["pop-caller"] != "13800000005" {
		t.Errorf("pop caller %q, want 13800000005", pop["pop-caller"])
	}
	if pop["pop-tier"] != "vip" {
		t.Errorf("pop tier %q, want vip", pop["pop-tier"])
	}
	if pop["pop-stars"] != "★★★★★" {
		t.Errorf("pop stars %q, want ★★★★★", pop["pop-stars"])
	}
	if pop["pop-vip"] == "" {
		t.Error("no VIP badge on the pop")
	}
	if !strings.Contains(pop["pop-path"], "main_menu") || !strings.Contains(pop["pop-path"], "1") {
		t.Errorf("pop IVR path %q does not show the menu choice 1", pop["pop-path"])
	}
	caller.wait(t, "caller")
	phone.wait(t, "agent")
}

// testID is the CSS selector of an element by its data-testid.
func testID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

type testBrowser struct {
	ctx  context.Context // a browser (started), no tab of ours
	dir  string          // artefacts
	tabs []*browserTab
}

type browserTab struct {
	name string
	ctx  context.Context
}

// newBrowser starts headless Chromium for t; on failure it saves every
// tab's screenshot.
func newBrowser(t *testing.T) *testBrowser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("install chromium: apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless,
		chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	b := &testBrowser{ctx: ctx, dir: os.Getenv("KEFU_TEST_ARTIFACTS")}
	if b.dir == "" {
		b.dir = filepath.Join(os.TempDir(), "kefu-test-artifacts", strings.ReplaceAll(t.Name(), "/", "_"))
	}
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshots(t)
		}
		cancel()
		cancelAlloc()
	})
	return b
}

// tab opens a tab in a browser context of its own (its own cookies).
func (b *testBrowser) tab(t *testing.T, name string) *browserTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening tab %s: %v", name, err)
	}
	tab := &browserTab{name: name, ctx: ctx}
	b.tabs = append(b.tabs, tab)
	return tab
}

func (b *testBrowser) screenshots(t *testing.T) {
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		t.Logf("screenshots: %v", err)
		return
	}
	for _, tab := range b.tabs {
		ctx, cancel := context.WithTimeout(tab.ctx, 10*time.Second)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			t.Logf("screenshot of the %s tab: %v", tab.name, err)
			continue
		}
		f := filepath.Join(b.dir, tab.name+".png")
		if err := os.WriteFile(f, png, 0o644); err != nil {
			t.Logf("screenshot of the %s tab: %v", tab.name, err)
			continue
		}
		t.Logf("screenshot of the %s tab: %s", tab.name, f)
	}
}

// do runs steps in the tab within bound, failing the test on error.
func (tab *browserTab) do(t *testing.T, what string, bound time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, bound)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s tab: %s: %v", tab.name, what, err)
	}
}

// pollJS evaluates the boolean expression every 25 ms until it is true
// (true) or bound passes (false).
func (tab *browserTab) pollJS(t *testing.T, bound time.Duration, expr string) bool {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		ctx, cancel := context.WithTimeout(tab.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err != nil {
			t.Fatalf("%s tab: evaluating %s: %v", tab.name, expr, err)
		}
		if ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (tab *browserTab) waitJS(t *testing.T, what string, bound time.Duration, expr string) {
	t.Helper()
	if !tab.pollJS(t, bound, expr) {
		t.Fatalf("%s tab: no %s within %v", tab.name, what, bound)
	}
}
