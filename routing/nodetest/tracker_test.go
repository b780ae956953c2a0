package nodetest

import (
	"strings"
	"testing"
	"time"

	"kefu/routing"
)

// TestDoubleOfferDetector shows the double-offer check of the multi-node
// tests can fail: it flags overlapping holds of one agent, a hold still open
// when the agent is offered again, and a token delivered twice, and lets
// back-to-back holds, holds of different agents and offers read after their
// call left pass.
func TestDoubleOfferDetector(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	rec := func(agent, call string, token uint64, recv, end time.Time) *offerRecord {
		return &offerRecord{offer: routing.Offer{CallID: call, AgentID: agent, Token: token}, node: "n1", recv: recv, end: end}
	}
	for _, tc := range []struct {
		name string
		recs []*offerRecord
		want []string // substrings of the problems, in any order; none: clean
	}{
		{"back to back", []*offerRecord{rec("a", "c1", 1, at(0), at(10)), rec("a", "c2", 2, at(10), at(20))}, nil},
		{"other agents", []*offerRecord{rec("a", "c1", 1, at(0), at(10)), rec("b", "c2", 2, at(5), at(20))}, nil},
		{"read after leave", []*offerRecord{rec("a", "c1", 1, at(0), at(10)), rec("a", "c2", 2, at(5), at(5))}, nil},
		{"overlap", []*offerRecord{rec("a", "c1", 1, at(0), at(10)), rec("a", "c2", 2, at(5), at(20))},
			[]string{`agent a offered call "c2"`}},
		{"nested", []*offerRecord{rec("a", "c1", 1, at(0), at(30)), rec("a", "c2", 2, at(5), at(10)), rec("a", "c3", 3, at(20), at(40))},
			[]string{`offered call "c2"`, `offered call "c3"`}},
		{"still held", []*offerRecord{rec("a", "c1", 1, at(0), time.Time{}), rec("a", "c2", 2, at(50), at(60))},
			[]string{`offered call "c2"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			tr.offers = tc.recs
			got := tr.doubleOffers()
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for _, w := range tc.want {
				found := false
				for _, p := range got {
					found = found || strings.Contains(p, w)
				}
				if !found {
					t.Errorf("no problem mentions %q: %q", w, got)
				}
			}
		})
	}

	tr := newTracker()
	tr.add(routing.Offer{CallID: "c1", AgentID: "a", Token: 7}, "n1")
	tr.add(routing.Offer{CallID: "c2", AgentID: "b", Token: 7}, "n2")
	if got := tr.doubleOffers(); len(got) != 1 || !strings.Contains(got[0], "token 7 delivered twice") {
		t.Errorf("a token delivered twice: problems %q", got)
	}
}
