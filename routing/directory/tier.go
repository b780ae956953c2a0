package directory

import "time"

// Tier names, the keys of the router's tier boosts (routing.Config.Tiers).
const (
	TierVIP        = "vip"
	TierKeyAccount = "key_account"
	TierFiveStar   = "five_star"
	TierFourStar   = "four_star"
	TierThreeStar  = "three_star"
	TierTwoStar    = "two_star"
	TierOneStar    = "one_star"
	TierDefault    = "default"
)

// starTier returns the tier of a star grade, or "" for 0 (not graded).
func starTier(stars int) string {
	switch stars {
	case 1:
		return TierOneStar
	case 2:
		return TierTwoStar
	case 3:
		return TierThreeStar
	case 4:
		return TierFourStar
	case 5:
		return TierFiveStar
	}
	return ""
}

// Tiers returns the tiers c qualifies for, best first by the standard
// precedence: vip (VIP), key_account (has an account manager), the star tier
// (stars 1-5), and always default last.
func (c Customer) Tiers() []string {
	var tiers []string
	if c.VIP {
		tiers = append(tiers, TierVIP)
	}
	if c.AccountManager != "" {
		tiers = append(tiers, TierKeyAccount)
	}
	if t := starTier(c.Stars); t != "" {
		tiers = append(tiers, t)
	}
	return append(tiers, TierDefault)
}

// Tier returns the best tier c qualifies for by the standard precedence
// (vip, key_account, five_star … one_star, default). Use TierFor when the
// router's boosts are known: they decide what "best" means.
func (c Customer) Tier() string { return c.Tiers()[0] }

// TierFor returns, among the tiers c qualifies for that have a boost in
// boosts, the one with the largest boost; equal boosts go by the standard
// precedence. With none of them in boosts it returns "default", which the
// router treats as its default tier.
func TierFor(c Customer, boosts map[string]time.Duration) string {
	best, bestBoost := TierDefault, time.Duration(-1)
	for _, t := range c.Tiers() {
		if b, ok := boosts[t]; ok && b > bestBoost {
			best, bestBoost = t, b
		}
	}
	return best
}
