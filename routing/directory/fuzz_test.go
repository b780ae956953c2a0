package directory_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"kefu/routing/directory"
)

// FuzzParse: Parse never panics, and what it accepts is consistent: every
// customer is found by its own number, which is in canonical form.
func FuzzParse(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "customers.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte("\ufeffnumber,name,value_score,tenure_months,brand,vip,account_manager\n+86 138-0000-0005,\"A,\"\"B\"\"\",1,2,GoTone,Y,1001\n"))
	f.Add([]byte("number,name,value_score,tenure_months,brand,vip,account_manager,stars,extra\n,,,,,,,,\n8613800000005,X,NaN,1,b,是,,5,e\n"))
	f.Add([]byte("number\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := directory.Parse(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		for _, c := range d.Customers() {
			if n, ok := directory.Normalize(c.Number); !ok || n != c.Number {
				t.Fatalf("stored number %q normalises to %q, %t", c.Number, n, ok)
			}
			if got, ok := d.Lookup(c.Number); !ok || got.Number != c.Number {
				t.Fatalf("Lookup(%q) = %+v, %t", c.Number, got, ok)
			}
			if c.Stars < 0 || c.Stars > 5 || c.ValueScore < 0 || c.TenureMonths < 0 {
				t.Fatalf("out-of-range customer accepted: %+v", c)
			}
		}
	})
}

// FuzzNormalize: Normalize never panics and is idempotent.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+86 138-0000-0005", "008613800000005", "8612345", "+86 10 6552 9999", "001 202 555 0100", "anonymous", "0086", "+8686"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := directory.Normalize(s)
		if !ok {
			return
		}
		if again, ok := directory.Normalize(n); !ok || again != n {
			t.Fatalf("Normalize(%q) = %q, then %q, %t", s, n, again, ok)
		}
	})
}
