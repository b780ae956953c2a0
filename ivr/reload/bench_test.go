package reload

import (
	"fmt"
	"strings"
	"testing"

	"kefu/ivr"
)

// benchFlow writes a flow shaped like flows/main.yaml, with more branches:
// a welcome, a main menu of five queue branches and a sub-menu, each branch
// a "please hold" prompt before its queue, and the common endings; 19 nodes.
func benchFlow(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Generated hotline %d, shaped like flows/main.yaml.
name: hotline_%02d
description: 客服热线 %d — 1 话费, 2 上网, 3 套餐, 4 宽带, 5 国际漫游, 8 更多
start: welcome

defaults:
  timeout: 5s
  retries: 2

nodes:
  welcome:
    type: play
    prompt: welcome
    next: main_menu

  main_menu:
    type: menu
    prompt: main_menu
    invalid_prompt: invalid
    no_input_prompt: no_input
    options:
`, i, i, i)
	branches := []string{"billing", "data", "plans", "broadband", "roaming"}
	for k, q := range branches {
		fmt.Fprintf(&b, "      %q: %s\n", fmt.Sprint(k+1), q)
	}
	b.WriteString(`      "8": more_menu
    exits:
      failed: goodbye

  more_menu:
    type: menu
    prompt: main_menu
    invalid_prompt: invalid
    no_input_prompt: no_input
    options:
      "1": complaints
      "*": main_menu
    exits:
      failed: goodbye
`)
	for _, q := range append(branches, "complaints") {
		fmt.Fprintf(&b, `
  %[1]s:
    type: play
    prompt: please_hold
    next: %[1]s_queue
  %[1]s_queue:
    type: queue
    queue: %[1]s
    music: hold_music
    exits:
      after_agent: thanks
      max_wait: sorry_busy
      no_agents: sorry_busy
`, q)
	}
	b.WriteString(`
  sorry_busy:
    type: play
    prompt: sorry_busy
    next: goodbye
  thanks:
    type: hangup
    prompt: thanks
    reason: served
  goodbye:
    type: hangup
    prompt: goodbye
    reason: normal
`)
	return b.String()
}

// BenchmarkReload50Flows measures one reload of a directory of 50 flows
// (19 nodes each) with prompts and queues checked, as the server does. The
// goal is under 200 ms per reload. Each iteration rewrites one flow, so
// every reload loads, validates and activates a new version.
func BenchmarkReload50Flows(b *testing.B) {
	dir := b.TempDir()
	for i := range 50 {
		writeFile(b, dir, fmt.Sprintf("hotline_%02d.yaml", i), benchFlow(i))
	}
	opts := ivr.LoadOptions{
		Prompts: ivr.Names{"welcome", "main_menu", "invalid", "no_input", "please_hold", "hold_music", "sorry_busy", "thanks", "goodbye"},
		Queues:  ivr.Names{"billing", "data", "plans", "broadband", "roaming", "complaints"},
	}
	r, err := New(Config{Dir: dir, Load: func() (*ivr.Set, error) { return ivr.Load(dir, opts) }})
	if err != nil {
		b.Fatal(err)
	}
	set := r.Current()
	if n := len(set.Names()); n != 50 {
		b.Fatalf("%d flows loaded, want 50", n)
	}
	if f, _ := set.Flow("hotline_00"); len(f.Nodes()) < 15 {
		b.Fatalf("%d nodes per flow, want at least 15", len(f.Nodes()))
	}
	if w := set.Warnings(); len(w) > 0 {
		b.Fatalf("warnings: %v", w)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		b.StopTimer()
		n++
		writeFile(b, dir, "hotline_07.yaml", benchFlow(7)+fmt.Sprintf("# edit %d\n", n))
		b.StartTimer()
		if st := r.Reload("bench"); st.LastReload.Result != ResultOK {
			b.Fatalf("reload: %+v %+v", st.LastReload, st.LastError)
		}
	}
}
