package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestArchitecture guards the package boundaries DESIGN.md sets: every package
// says what it provides, ivr never reaches sip, routing reaches neither, and
// each third-party stack stays inside the package that owns it.
func TestArchitecture(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", "kefu/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Doc        string
		Imports    []string
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 8 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}

	// rules: a package under prefix must not import anything with these prefixes.
	forbidden := []struct{ under, imports, why string }{
		{"kefu/ivr", "kefu/sip", "ivr drives the Call interface and never imports sip"},
		{"kefu/routing", "kefu/sip", "routing knows calls and agents, not SIP"},
		{"kefu/routing", "kefu/ivr", "routing knows calls and agents, not flows"},
	}
	// owners: only packages under owner may import dep.
	owners := []struct{ dep, owner string }{
		{"github.com/emiago/sipgo", "kefu/sip"},
		{"github.com/pion/", "kefu/sip"},
		{"github.com/hashicorp/go-memdb", "kefu/routing/memstore"},
		{"github.com/hashicorp/go-memdb", "kefu/routing/directory"},
		{"github.com/icholy/digest", "kefu/sip"},
		{"github.com/expr-lang/expr", "kefu/ivr"},
		{"github.com/redis/go-redis", "kefu/routing/redisstore"},
		{"github.com/redis/go-redis", "kefu/routing/stats"},
		{"github.com/redis/go-redis", "kefu/routing/internal/redistest"},
		{"github.com/fsnotify/fsnotify", "kefu/ivr/reload"},
		{"github.com/fsnotify/fsnotify", "kefu/routing/directory"},
		{"github.com/redis/go-redis", "kefu/routing/directory/redisdir"},
		{"github.com/redis/go-redis", "kefu/routing/callrecord"},
		{"github.com/redis/go-redis", "kefu/cmd/kefu"}, // the Redis latency hook of /metrics
		{"github.com/prometheus/", "kefu/ivr/ivrmetrics"},
		{"github.com/prometheus/", "kefu/cmd/kefu"},
	}
	under := func(path, prefix string) bool {
		return path == prefix || strings.HasPrefix(path, prefix+"/") || (strings.HasSuffix(prefix, "/") && strings.HasPrefix(path, prefix))
	}
	for _, p := range pkgs {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment: say what it provides", p.ImportPath)
		}
		for _, imp := range p.Imports {
			for _, f := range forbidden {
				if under(p.ImportPath, f.under) && under(imp, f.imports) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, f.why)
				}
			}
			var allowed []string // owners of imp, when it has any
			ok := true
			for _, o := range owners {
				if under(imp, o.dep) {
					allowed = append(allowed, o.owner)
					ok = ok && !under(p.ImportPath, o.owner)
				}
			}
			if len(allowed) > 0 && ok {
				t.Errorf("%s imports %s: only %s may", p.ImportPath, imp, strings.Join(allowed, " and "))
			}
		}
	}
}
