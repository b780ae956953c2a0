// Package dirtest is the contract every customer directory store and caller
// history must meet (directory.Customers, directory.History): the embedded
// store and the Redis store run the same tests.
package dirtest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/routing/directory"
)

// Stores returns a fresh store pair for one test.
type Stores func(t *testing.T) (directory.Customers, directory.History)

// Run runs the contract tests.
func Run(t *testing.T, stores Stores) {
	t.Run("LookupBeforeLoad", func(t *testing.T) { testLookupBeforeLoad(t, stores) })
	t.Run("ReplaceAndLookup", func(t *testing.T) { testReplace(t, stores) })
	t.Run("ReplaceAgain", func(t *testing.T) { testReplaceAgain(t, stores) })
	t.Run("LookupsDuringReplace", func(t *testing.T) { testLookupsDuringReplace(t, stores) })
	t.Run("History", func(t *testing.T) { testHistory(t, stores) })
}

// Parse builds a directory from CSV rows under the standard header.
func Parse(t testing.TB, extraHeader string, rows ...string) *directory.Directory {
	t.Helper()
	header := "number,name,value_score,tenure_months,brand,vip,account_manager,stars" + extraHeader
	d, err := directory.Parse(strings.NewReader(header+"\n"+strings.Join(rows, "\n")+"\n"), "test.csv")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testLookupBeforeLoad(t *testing.T, stores Stores) {
	cs, _ := stores(t)
	ctx := context.Background()
	if _, found, err := cs.Lookup(ctx, "13800000005"); found || err != nil {
		t.Fatalf("lookup in an empty store: found %v, err %v", found, err)
	}
	if v, err := cs.Version(ctx); v != "" || err != nil {
		t.Fatalf("version of an empty store: %q, %v", v, err)
	}
}

func testReplace(t *testing.T, stores Stores) {
	cs, _ := stores(t)
	ctx := context.Background()
	d := Parse(t, ",plan,城市",
		"13800000005,王建国,1860.5,132,GoTone,yes,1001,5,88元套餐,北京",
		"+86 138 0000 0001,李小梅,42.25,7,Easyown,no,,1,,",
		"010-6552-9999,某公司,0,0,,N,,,,")
	if err := cs.Replace(ctx, d, "v1"); err != nil {
		t.Fatal(err)
	}
	if v, err := cs.Version(ctx); v != "v1" || err != nil {
		t.Fatalf("version: %q, %v", v, err)
	}
	for _, want := range d.Customers() {
		got, found, err := cs.Lookup(ctx, want.Number)
		if err != nil || !found {
			t.Fatalf("lookup %s: found %v, err %v", want.Number, found, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("lookup %s:\n got %+v\nwant %+v", want.Number, got, want)
		}
	}
	if _, found, _ := cs.Lookup(ctx, "13999999999"); found {
		t.Error("a number not in the file was found")
	}
}

func testReplaceAgain(t *testing.T, stores Stores) {
	cs, _ := stores(t)
	ctx := context.Background()
	old := Parse(t, "", "13800000005,王建国,1860.5,132,GoTone,yes,1001,5", "13800000001,李小梅,42,7,Easyown,no,,1")
	if err := cs.Replace(ctx, old, "v1"); err != nil {
		t.Fatal(err)
	}
	next := Parse(t, "", "13800000005,王建国,1900,133,GoTone,yes,1002,5", "13800000002,张伟,118.3,26,M-Zone,no,,2")
	if err := cs.Replace(ctx, next, "v2"); err != nil {
		t.Fatal(err)
	}
	c, found, err := cs.Lookup(ctx, "13800000005")
	if err != nil || !found || c.AccountManager != "1002" || c.ValueScore != 1900 {
		t.Fatalf("changed customer: %+v found %v err %v; want the new row", c, found, err)
	}
	if _, found, _ := cs.Lookup(ctx, "13800000001"); found {
		t.Error("a customer removed from the file is still found")
	}
	if _, found, _ := cs.Lookup(ctx, "13800000002"); !found {
		t.Error("a customer added to the file is not found")
	}
	// The same version again is a no-op, even with other content.
	if err := cs.Replace(ctx, old, "v2"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := cs.Lookup(ctx, "13800000002"); !found {
		t.Error("replacing with the version in place changed the directory")
	}
}

// testLookupsDuringReplace: customers in both versions are found by every
// lookup while the directory is replaced, and each lookup sees one version.
func testLookupsDuringReplace(t *testing.T, stores Stores) {
	cs, _ := stores(t)
	ctx := context.Background()
	build := func(name string, n int) *directory.Directory {
		rows := make([]string, n)
		for i := range rows {
			rows[i] = fmt.Sprintf("1380%07d,%s,%d,%d,GoTone,no,,3", i, name, i, i%100)
		}
		return Parse(t, "", rows...)
	}
	const n = 3000
	if err := cs.Replace(ctx, build("old", n), "old"); err != nil {
		t.Fatal(err)
	}
	next := build("new", n)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	for w := range 4 {
		wg.Go(func() {
			for i := w; ; i = (i + 7) % n {
				select {
				case <-stop:
					return
				default:
				}
				c, found, err := cs.Lookup(ctx, fmt.Sprintf("1380%07d", i))
				if err != nil || !found || (c.Name != "old" && c.Name != "new") {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("lookup %d: %+v found %v err %v", i, c, found, err))
					mu.Unlock()
					return
				}
			}
		})
	}
	err := cs.Replace(ctx, next, "new")
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func testHistory(t *testing.T, stores Stores) {
	_, h := stores(t)
	ctx := context.Background()
	if _, found, err := h.LastContact(ctx, "13800000005"); found || err != nil {
		t.Fatalf("no contact yet: found %v err %v", found, err)
	}
	at := time.Now().Truncate(time.Millisecond)
	first := directory.Contact{Number: "13800000005", At: at.Add(-time.Hour), Queue: "billing", Agent: "1001", Outcome: "answered",
		Survey: map[string]string{"satisfaction": "5", "solved": "yes"}}
	if err := h.Record(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, found, err := h.LastContact(ctx, "13800000005")
	if err != nil || !found || !got.At.Equal(first.At) {
		t.Fatalf("last contact: %+v found %v err %v", got, found, err)
	}
	got.At = first.At
	if !reflect.DeepEqual(got, first) {
		t.Errorf("last contact:\n got %+v\nwant %+v", got, first)
	}
	second := directory.Contact{Number: "13800000005", At: at, Queue: "complaints", Outcome: "abandoned"}
	if err := h.Record(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, _, _ = h.LastContact(ctx, "13800000005")
	if got.Outcome != "abandoned" || got.Agent != "" || got.Survey != nil || got.Queue != "complaints" {
		t.Errorf("a second contact must replace the first entirely: %+v", got)
	}
	if _, found, _ := h.LastContact(ctx, "13800000001"); found {
		t.Error("another number has a contact")
	}
	if err := h.Record(ctx, directory.Contact{Outcome: "ivr"}); err == nil {
		t.Error("a contact without a number was recorded")
	}
}
