package memstore

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-memdb"
)

var update = flag.Bool("update", false, "rewrite testdata/schema.golden")

// TestSchemaGolden pins the tables and indexes: a change to the schema must
// be deliberate (go test -run TestSchemaGolden -update).
func TestSchemaGolden(t *testing.T) {
	s := schema()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range slices.Sorted(maps.Keys(s.Tables)) {
		fmt.Fprintf(&b, "table %s\n", table)
		ixs := s.Tables[table].Indexes
		for _, name := range slices.Sorted(maps.Keys(ixs)) {
			ix := ixs[name]
			kind := "single"
			if _, ok := ix.Indexer.(memdb.MultiIndexer); ok {
				kind = "multi"
			}
			fmt.Fprintf(&b, "  index %-17s %-6s unique=%t allow_missing=%t\n", name, kind, ix.Unique, ix.AllowMissing)
		}
	}
	path := filepath.Join("testdata", "schema.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Fatalf("schema changed; if on purpose, run go test -run TestSchemaGolden -update\ngot:\n%s\nwant:\n%s", got, want)
	}
}
