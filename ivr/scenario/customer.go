package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"kefu/ivr"
)

// ParseCustomer reads a customer written on one line, for the command
// line: "stars=5,vip=true,tier=five_star,manager=1001,brand=GoTone". Keys
// are number, tier, stars (0-5), brand, vip (true or false), manager and
// extra.<column> for the directory's other columns; each may be given
// once.
func ParseCustomer(s string) (ivr.Customer, error) {
	var c ivr.Customer
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return ivr.Customer{}, fmt.Errorf("customer %q: %q is not key=value; write for example stars=5,vip=true,tier=five_star", s, part)
		}
		if seen[k] {
			return ivr.Customer{}, fmt.Errorf("customer %q: %s is given twice; keep one", s, k)
		}
		seen[k] = true
		switch {
		case k == "number":
			c.Number = v
		case k == "tier":
			c.Tier = v
		case k == "brand":
			c.Brand = v
		case k == "manager":
			c.Manager = v
		case k == "stars":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 5 {
				return ivr.Customer{}, fmt.Errorf("customer %q: stars=%s must be a grade 0 to 5", s, v)
			}
			c.Stars = n
		case k == "vip":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return ivr.Customer{}, fmt.Errorf("customer %q: vip=%s must be true or false", s, v)
			}
			c.VIP = b
		case k == "repeat":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return ivr.Customer{}, fmt.Errorf("customer %q: repeat=%s must be true or false", s, v)
			}
			c.Repeat = b
		case strings.HasPrefix(k, "extra.") && len(k) > len("extra."):
			if c.Extra == nil {
				c.Extra = map[string]string{}
			}
			c.Extra[strings.TrimPrefix(k, "extra.")] = v
		default:
			return ivr.Customer{}, fmt.Errorf("customer %q: unknown key %q; keys are number, tier, stars, brand, vip, manager, repeat and extra.<column>", s, k)
		}
	}
	return c, nil
}
