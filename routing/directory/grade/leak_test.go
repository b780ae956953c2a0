package grade

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNoGoroutineLeft: Prepare and Write stop and wait for their
// goroutines, on success and on every kind of error.
func TestNoGoroutineLeft(t *testing.T) {
	inputs := []string{
		string(readFixture(t, "twenty.csv")),
		"",
		head,
		head + rows(19),
		head + strings.Repeat("x,a,1,1,b,no,\n", 25),
		head + rows(5000) + "13800000001,\"a\n",
		head + rows(5000) + "\xff\n",
		head + rows(5000) + "13900000001,a,1,1,b,no,\n", // duplicate
	}
	files, _ := filepath.Glob("testdata/fuzz/FuzzGrade/*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(b)) // the corpus file itself: not CSV, exercises errors
	}
	before := runtime.NumGoroutine()
	for _, in := range inputs {
		p, err := Prepare(strings.NewReader(in), Options{MinCustomers: 1})
		if err == nil {
			var out bytes.Buffer
			if err := p.Write(strings.NewReader(in), &out); err != nil {
				t.Fatal(err)
			}
			// A file that changed between the passes: Write stops early.
			p.Write(strings.NewReader(in+"\n13700000000,a,1,1,b,no,\n"), &out)
			p.Write(strings.NewReader(head), &out)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left, %d before\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
