package directory

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy turns what the directory knows of a caller into the routing tier
// the router queues them with. Tier names and their head starts come from the
// configuration; the star grade decides the tier, and the VIP flag, a
// key-account manager or the brand can lift it: among every tier the caller
// qualifies for, the one with the largest head start wins (equal head starts
// go by the order VIP, key account, brand, stars).
//
// The zero Policy is the standard one: vip, key_account, five_star …
// one_star, default, with the head starts in Boosts.
type Policy struct {
	// Stars maps a grade (1–5) to its tier. Default: 5 five_star, 4
	// four_star, 3 three_star, 2 two_star, 1 one_star.
	Stars map[int]string
	// VIP is the tier of customers with the VIP flag. Default vip; "-" none.
	VIP string
	// KeyAccount is the tier of customers with an account manager. Default
	// key_account; "-" none.
	KeyAccount string
	// Brands maps a brand (as written in the file, matched without regard to
	// case) to a tier. Default: none.
	Brands map[string]string
	// Unknown is the tier of callers the directory does not know. Default
	// "default".
	Unknown string
	// Anonymous is the tier of callers whose number is withheld or unusable.
	// Default: Unknown.
	Anonymous string
	// Boosts are the router's head starts by tier (routing.Config.Tiers).
	Boosts map[string]time.Duration
}

// standardStars is the grade → tier mapping of the zero Policy.
var standardStars = [6]string{"", TierOneStar, TierTwoStar, TierThreeStar, TierFourStar, TierFiveStar}

func (p Policy) starTier(stars int) string {
	if stars < 1 || stars > 5 {
		return ""
	}
	if p.Stars != nil {
		return p.Stars[stars]
	}
	return standardStars[stars]
}

func orDefault(v, def string) string {
	switch v {
	case "":
		return def
	case "-":
		return ""
	}
	return v
}

// Candidates returns the tiers c qualifies for, in precedence order, ending
// with the unknown-caller tier.
func (p Policy) Candidates(c Customer) []string {
	var tiers []string
	add := func(t string) {
		if t != "" && !slices.Contains(tiers, t) {
			tiers = append(tiers, t)
		}
	}
	if c.VIP {
		add(orDefault(p.VIP, TierVIP))
	}
	if c.AccountManager != "" {
		add(orDefault(p.KeyAccount, TierKeyAccount))
	}
	for brand, tier := range p.Brands {
		if c.Brand != "" && strings.EqualFold(brand, c.Brand) {
			add(tier)
		}
	}
	add(p.starTier(c.Stars))
	add(p.UnknownTier())
	return tiers
}

// UnknownTier is the tier of callers the directory does not know.
func (p Policy) UnknownTier() string { return orDefault(p.Unknown, TierDefault) }

// AnonymousTier is the tier of callers without a usable number.
func (p Policy) AnonymousTier() string { return orDefault(p.Anonymous, p.UnknownTier()) }

// Tier returns the tier c is queued with: the candidate with the largest
// head start; with no head starts configured (Boosts nil), the first
// candidate. A candidate without a head start in Boosts is passed over,
// except the unknown-caller tier, which is always possible.
func (p Policy) Tier(c Customer) string {
	cands := p.Candidates(c)
	if p.Boosts == nil {
		return cands[0]
	}
	best, bestBoost := p.UnknownTier(), time.Duration(-1)
	for _, t := range cands {
		if b, ok := p.Boosts[t]; ok && b > bestBoost {
			best, bestBoost = t, b
		}
	}
	return best
}

// HeadStart returns the head start of tier (0 when it has none).
func (p Policy) HeadStart(tier string) time.Duration { return p.Boosts[tier] }

// Check reports tiers the configuration names (stars, VIP, key-account,
// brand, unknown and anonymous tiers set in Policy) that have no head start
// in Boosts: almost always a typing mistake. The standard tier names may go
// without one (they then get none). It returns nil when Boosts is nil (the
// router's standard tiers).
func (p Policy) Check() error {
	if p.Boosts == nil {
		return nil
	}
	var missing []string
	check := func(what, tier string) {
		if tier == "" || tier == "-" || tier == TierDefault {
			return
		}
		if _, ok := p.Boosts[tier]; !ok {
			missing = append(missing, fmt.Sprintf("%s tier %q", what, tier))
		}
	}
	for s := 1; s <= 5 && p.Stars != nil; s++ { // the standard star tiers may go without a head start
		check(fmt.Sprintf("%d-star", s), p.starTier(s))
	}
	if p.VIP != "" {
		check("VIP", p.VIP)
	}
	if p.KeyAccount != "" {
		check("key-account", p.KeyAccount)
	}
	for b, t := range p.Brands {
		check("brand "+b, t)
	}
	check("unknown-caller", p.Unknown)
	check("anonymous-caller", p.Anonymous)
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("%s not under tiers: give each a head start there (0s for none) or fix the name", strings.Join(missing, ", "))
	}
	return nil
}
