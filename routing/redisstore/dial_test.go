package redisstore

import (
	"strings"
	"testing"
)

func TestStripPrefix(t *testing.T) {
	for _, tc := range []struct{ in, url, prefix string }{
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0", DefaultPrefix},
		{"redis://127.0.0.1:6379/0?prefix=east", "redis://127.0.0.1:6379/0", "east"},
		{"redis://h:1/2?dial_timeout=3s&prefix=b&read_timeout=1s", "redis://h:1/2?dial_timeout=3s&read_timeout=1s", "b"},
		{"redis://h:1/2?dial_timeout=3s", "redis://h:1/2?dial_timeout=3s", DefaultPrefix},
	} {
		prefix := DefaultPrefix
		if got := stripPrefix(tc.in, &prefix); got != tc.url || prefix != tc.prefix {
			t.Errorf("stripPrefix(%q) = %q, %q; want %q, %q", tc.in, got, prefix, tc.url, tc.prefix)
		}
	}
}

func TestDialErrors(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:1", "redis://127.0.0.1:1/0"} {
		if _, err := Dial(t.Context(), url); err == nil {
			t.Errorf("Dial(%q) succeeded", url)
		}
	}
	if _, err := Dial(t.Context(), "redis://127.0.0.1:1/0?prefix={x}"); err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("a prefix with braces: %v, want an error about the prefix", err)
	}
}
