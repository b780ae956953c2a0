package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kefu/ivr/ivrtest"
	"kefu/ivr/scenario"
)

// FuzzParse checks the scenario parser never panics and that whatever it
// accepts is a usable file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/tests/*.yaml")
	for _, p := range seeds {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("flow: main\ncases:\n  - name: x\n    keys: \"1 2 #\"\n    expect: {path: [a]}\n"))
	f.Add([]byte("flow: main\ncases: [{name: x, queue: [after_agent:7], switches: {announce.a: true}}]\n"))
	f.Add([]byte("flow: main\ncases:\n  - name: x\n    webhooks: {\"http://a/\": {body: {a: [1, {b: null}]}}}\n"))
	f.Add([]byte("&a flow: *a\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := scenario.Parse("fuzz.yaml", src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if file.Flow == "" || len(file.Cases) == 0 {
			t.Fatalf("accepted a file without flow or cases: %+v", file)
		}
		names := map[string]bool{}
		for _, c := range file.Cases {
			if strings.TrimSpace(c.Name) == "" || names[c.Name] {
				t.Fatalf("accepted a case without a unique name: %q", c.Name)
			}
			names[c.Name] = true
			for _, tok := range c.Setup.Keys {
				if toks, err := ivrtest.ParseScript(tok); err != nil || len(toks) != 1 {
					t.Fatalf("accepted key token %q: %v", tok, err)
				}
			}
			for name := range c.Setup.Switches {
				if err := scenario.CheckSwitchName(name); err != nil {
					t.Fatalf("accepted switch %q: %v", name, err)
				}
			}
		}
	})
}

// FuzzParseCustomer checks the command line's customer parser never panics
// and keeps stars within a grade.
func FuzzParseCustomer(f *testing.F) {
	f.Add("stars=5,vip=true,tier=five_star,manager=1001,brand=GoTone")
	f.Add("extra.plan=88, number=138")
	f.Add("stars=9")
	f.Add("=,,=")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := scenario.ParseCustomer(s)
		if err != nil {
			return
		}
		if c.Stars < 0 || c.Stars > 5 {
			t.Fatalf("ParseCustomer(%q) accepted stars %d", s, c.Stars)
		}
	})
}
