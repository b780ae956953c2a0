package directory

// Tier names of the standard Policy, the keys of the router's tier boosts
// (routing.Config.Tiers).
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
