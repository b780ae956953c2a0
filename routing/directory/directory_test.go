package directory_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kefu/routing"
	"kefu/routing/directory"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"13800000005", "13800000005", true},
		{"+8613800000005", "13800000005", true},
		{"+86 138-0000-0005", "13800000005", true},
		{"008613800000005", "13800000005", true},
		{"8613800000005", "13800000005", true},       // 13 digits 86 1[3-9]…
		{"(+86) 138 0000 0005", "13800000005", true}, // parentheses and spaces
		{"8612345", "8612345", true},                 // a local number starting 86: kept
		{"861012345678", "861012345678", true},       // not 86 + mobile: kept
		{"8612345678901", "8612345678901", true},     // 86 + 12… is no mobile: kept
		{"+86 10 6552 9999", "01065529999", true},    // Beijing landline, trunk 0 put back
		{"+86 021-5555-1234", "02155551234", true},   // written with its trunk 0
		{"0086 21 5555 1234", "02155551234", true},
		{"010-6552-9999", "01065529999", true},
		{"+86 10086", "10086", true}, // service number
		{"10086", "10086", true},
		{"001 202 555 0100", "+12025550100", true},
		{"+1 (202) 555-0100", "+12025550100", true},
		{"anonymous", "", false},
		{"", "", false},
		{"+86", "", false},
		{"+86000", "", false}, // found by FuzzNormalize: 000 would read as an international prefix
		{"+0123456", "", false},
		{"0000123456", "", false},
		{"12", "", false},
		{"138 0000 000x", "", false},
		{"sip:13800000005@example.com", "", false},
		{"123456789012345678901", "", false},
	} {
		got, ok := directory.Normalize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Normalize(%q) = %q, %t; want %q, %t", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok {
			if again, ok2 := directory.Normalize(got); again != got || !ok2 {
				t.Errorf("Normalize(%q) = %q, not idempotent", got, again)
			}
		}
	}
}

func TestLoadSample(t *testing.T) {
	d, err := directory.Load(filepath.Join("..", "..", "testdata", "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 20 {
		t.Fatalf("%d customers, want 20", d.Len())
	}
	boosts := routing.DefaultTiers()
	std, boosted := directory.Policy{}, directory.Policy{Boosts: boosts}

	c, ok := d.Lookup("+86 138 0000 0005")
	if !ok {
		t.Fatal("13800000005 not found")
	}
	if c.Name != "王建国" || !c.VIP || c.Stars != 5 || c.Brand != "GoTone" || c.AccountManager != "1001" ||
		c.ValueScore != 1860.5 || c.TenureMonths != 132 {
		t.Fatalf("13800000005 = %+v", c)
	}
	if std.Tier(c) != "vip" || boosted.Tier(c) != "vip" {
		t.Fatalf("13800000005 tier %s / %s, want vip", std.Tier(c), boosted.Tier(c))
	}

	c, ok = d.Lookup("13800000001")
	if !ok || c.Stars != 1 || c.VIP || c.AccountManager != "" || std.Tier(c) != "one_star" || boosted.Tier(c) != "one_star" {
		t.Fatalf("13800000001 = %+v, %t (tier %s)", c, ok, std.Tier(c))
	}
	if c, ok := d.Lookup("13966667777"); !ok || c.Name != "谢娜" {
		t.Fatalf("the row written +86 139-6666-7777 = %+v, %t", c, ok)
	}
	if c, ok := d.Lookup("15099990000"); !ok || c.Stars != 0 || std.Tier(c) != "default" {
		t.Fatalf("ungraded customer = %+v, %t", c, ok)
	}
	managers := map[string]bool{}
	for _, c := range d.Customers() {
		if c.AccountManager != "" {
			managers[c.AccountManager] = true
		}
	}
	if len(managers) != 2 || !managers["1001"] || !managers["1002"] {
		t.Fatalf("account managers %v, want 1001 and 1002", managers)
	}
	if _, ok := d.Lookup("13700000000"); ok {
		t.Fatal("found a number not in the file")
	}
	if _, ok := d.Lookup("anonymous"); ok {
		t.Fatal("found anonymous")
	}
}

func TestParseColumnsAnyOrderExtraBOM(t *testing.T) {
	in := "\ufeffVIP, Number ,name,brand,account_manager,tenure_months,value_score,region\n" +
		"Y,139 0000 1111,\"Wang, Jr.\",GoTone,,13,1.5,Shanghai\n" +
		",,,,,,,\n" +
		"是,15000001111,李,M-Zone,2001,0,,Beijing\n"
	d, err := directory.Parse(strings.NewReader(in), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 {
		t.Fatalf("%d customers, want 2 (the empty row skipped)", d.Len())
	}
	c, _ := d.Lookup("13900001111")
	if !c.VIP || c.Name != "Wang, Jr." || c.Stars != 0 || c.TenureMonths != 13 || c.Extra["region"] != "Shanghai" {
		t.Fatalf("customer %+v", c)
	}
	c.Extra["region"] = "changed"
	if c2, _ := d.Lookup("13900001111"); c2.Extra["region"] != "Shanghai" {
		t.Fatal("Lookup returned shared Extra")
	}
	c, _ = d.Lookup("15000001111")
	if !c.VIP || c.AccountManager != "2001" || (directory.Policy{}).Tier(c) != "vip" {
		t.Fatalf("customer %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	const header = "number,name,value_score,tenure_months,brand,vip,account_manager,stars\n"
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"x.csv:1:1: the file is empty"}},
		{"missing column", "number,name,brand,vip\n", []string{
			`x.csv:1:1: the header has no "value_score" column`, `no "tenure_months"`, `no "account_manager"`, "(the header must name"}},
		{"duplicate column", "number,name,value_score,tenure_months,brand,vip,account_manager,Name\n",
			[]string{`x.csv:1:65: column "name" appears twice in the header (delete or rename one of them)`}},
		{"bad vip", header + "13800000001,A,1,1,GoTone,maybe,,1\n",
			[]string{`x.csv:2:26: column vip: "maybe" is not a yes/no value (write one of true/false, yes/no, Y/N, 1/0`}},
		{"bad stars", header + "13800000001,A,1,1,GoTone,no,,6\n",
			[]string{`x.csv:2:30: column stars: "6" is not a star grade (write 1 (one-star) to 5`}},
		{"bad number", header + "1380000000a,A,1,1,GoTone,no,,1\n",
			[]string{`x.csv:2:1: column number: "1380000000a" is not a phone number (write the number with digits only`}},
		{"bad score and tenure", header + "13800000001,A,-3,x,GoTone,no,,1\n",
			[]string{`x.csv:2:15: column value_score: "-3" is not a score`, `x.csv:2:18: column tenure_months: "x" is not a number of months`}},
		{"duplicate number", header + "13800000001,A,1,1,GoTone,no,,1\n+86 138 0000 0001,B,1,1,GoTone,no,,1\n",
			[]string{`x.csv:3:1: column number: number 13800000001 is already on line 2`}},
		{"cell count", header + "13800000001,A,1,1,GoTone,no\n",
			[]string{`x.csv:2:1: the row has 6 cells but the header has 8 columns`}},
		{"quotes", header + "13800000001,\"A,1,1,GoTone,no,,1\n",
			[]string{`x.csv:2:`, `extraneous or missing " in quoted-field (check the quotes`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := directory.Parse(strings.NewReader(tc.in), "x.csv")
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
			var de *directory.Error
			if !errors.As(err, &de) || de.File != "x.csv" || de.Line == 0 {
				t.Errorf("error %v is not a *directory.Error with a position", err)
			}
		})
	}
}

func TestParseStopsAfterManyErrors(t *testing.T) {
	in := "number,name,value_score,tenure_months,brand,vip,account_manager\n" + strings.Repeat("x,A,1,1,GoTone,no,\n", 100)
	_, err := directory.Parse(strings.NewReader(in), "x.csv")
	if got := strings.Count(err.Error(), "is not a phone number"); got != 20 {
		t.Fatalf("%d errors reported, want 20", got)
	}
	if !strings.Contains(err.Error(), "stopped after 20 errors") {
		t.Fatalf("error does not say it stopped: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := directory.Load(filepath.Join(t.TempDir(), "nope.csv")); err == nil || !strings.Contains(err.Error(), "nope.csv") {
		t.Fatalf("Load of a missing file: %v", err)
	}
}

func TestTierFor(t *testing.T) {
	boosts := routing.DefaultTiers()
	std, boosted := directory.Policy{}, directory.Policy{Boosts: boosts}
	for _, tc := range []struct {
		c          directory.Customer
		tier, best string
	}{
		{directory.Customer{}, "default", "default"},
		{directory.Customer{Stars: 3}, "three_star", "three_star"},
		{directory.Customer{Stars: 4, AccountManager: "1001"}, "key_account", "key_account"},
		{directory.Customer{Stars: 5, VIP: true, AccountManager: "1001"}, "vip", "vip"},
		{directory.Customer{Stars: 1}, "one_star", "one_star"},
		{directory.Customer{Stars: 9}, "default", "default"},
	} {
		if got := std.Tier(tc.c); got != tc.tier {
			t.Errorf("standard Tier(%+v) = %s, want %s", tc.c, got, tc.tier)
		}
		if got := boosted.Tier(tc.c); got != tc.best {
			t.Errorf("TierFor(%+v) = %s, want %s", tc.c, got, tc.best)
		}
	}
	// Boosts decide: a five-star customer with a key account manager gets
	// whichever tier is boosted more.
	c := directory.Customer{Stars: 5, AccountManager: "1001"}
	boosts["five_star"] = 180 * time.Second
	if got := boosted.Tier(c); got != "five_star" {
		t.Errorf("TierFor with five_star boosted most = %s", got)
	}
	// Tiers without a boost are not chosen; nothing known → default.
	if got := (directory.Policy{Boosts: map[string]time.Duration{"five_star": time.Minute}}).Tier(directory.Customer{VIP: true}); got != "default" {
		t.Errorf("TierFor with vip not configured = %s, want default", got)
	}
}
