package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI(t *testing.T) {
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "main.yaml"), []byte("name: main\nstart: nowhere\nnodes:\n  hello:\n    type: play\n    prompt: welcome\n    next: bye\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(broken, "prompts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string // substrings expected
	}{
		{"flows check ok", []string{"flows", "check", "../../flows"}, 0, "flows ok", ""},
		{"flows check broken", []string{"flows", "check", broken}, 1, filepath.Join(broken, "main.yaml") + ":2:", ""},
		{"flows without check", []string{"flows"}, 2, "", "usage: kefu flows check"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, 0, "kefu flows check DIR", ""},
		{"bad flag", []string{"serve", "-nope"}, 2, "", "flag provided but not defined"},
		{"stray argument", []string{"serve", "extra"}, 2, "", "takes only flags"},
		{"redis not yet", []string{"serve", "-redis", "redis://127.0.0.1:1", "-http", "127.0.0.1:0", "-sip", "127.0.0.1:0"}, 1, "", "run without -redis"},
		{"missing config", []string{"-config", "/nonexistent/kefu.yaml"}, 1, "", "give an existing file with -config"},
		{"bad log level", []string{"-log-level", "loud"}, 1, "", "use debug, info, warn or error"},
		{"serve refuses a broken flow", []string{"-flows", broken, "-http", "127.0.0.1:0", "-sip", "127.0.0.1:0"}, 1, "", filepath.Join(broken, "main.yaml") + ":2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q does not contain %q", out.String(), tc.out)
			}
			if !strings.Contains(errb.String(), tc.err) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.err)
			}
		})
	}
}
