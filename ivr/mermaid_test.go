package ivr_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kefu/ivr"
)

var updateMermaid = flag.Bool("update-mermaid", false, "rewrite the .mmd golden files of testdata/mermaid")

func TestMermaidGolden(t *testing.T) {
	set, err := ivr.Load("testdata/mermaid", ivr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"main", "verify"} {
		t.Run(name, func(t *testing.T) {
			f, ok := set.Flow(name)
			if !ok {
				t.Fatalf("no flow %q", name)
			}
			got := f.Mermaid()
			if again := f.Mermaid(); again != got {
				t.Fatalf("Mermaid is not deterministic:\n%s\n---\n%s", got, again)
			}
			golden := filepath.Join("testdata", "mermaid", name+".mmd")
			if *updateMermaid {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestMermaidGolden -update-mermaid to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Mermaid of %s differs from %s (rerun with -update-mermaid after checking):\n%s", name, golden, got)
			}
		})
	}
}

func TestMermaidProperties(t *testing.T) {
	set, err := ivr.Load("testdata/mermaid", ivr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	main, _ := set.Flow("main")
	chart := main.Mermaid()
	tests := []struct {
		name string
		want string
	}{
		{"header", "flowchart TD\n"},
		{"start edge", "start([start]) --> n_office_hours\n"},
		{"reserved name end is prefixed", `n_end(("end<br/>hangup"))`},
		{"menu is a rhombus", `n_main_menu{"main_menu<br/>menu"}`},
		{"collect is a hexagon", `n_account{{"account<br/>collect"}}`},
		{"queue is a stadium with its queue", `n_vip(["vip<br/>queue vip"])`},
		{"lookup is a cylinder", `n_who[("who<br/>lookup")]`},
		{"subflow shows its target", `n_verify[["verify<br/>subflow verify"]]`},
		{"menu key edge", `n_main_menu -->|"'#'"| n_verify`},
		{"named exit edge", `n_vip -->|"after_agent"| n_survey`},
		{"optional exit falls back, dashed", `n_office_hours -.->|"holiday (as closed)"| n_closed`},
		{"on_error once", `on_error{{"any node: error"}} -.->|"on_error"| n_sorry`},
		{"unreachable styled", "class n_old unreachable\n"},
		{"description in a comment", "%% main: Hotline \"demo\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(chart, tc.want) {
				t.Errorf("chart lacks %q:\n%s", tc.want, chart)
			}
		})
	}
	if strings.Contains(chart, "n_who -.->|\"error\"|") {
		t.Errorf("the wired error exit of who is drawn dashed too:\n%s", chart)
	}
	if strings.Contains(chart, "class n_sorry unreachable") || strings.Contains(chart, "n_sorry,") {
		t.Errorf("the on_error node is marked unreachable:\n%s", chart)
	}
}
