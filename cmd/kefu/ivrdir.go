package main

import (
	"context"

	"kefu/ivr"
	"kefu/routing/directory"
)

// Lookup implements ivr.Directory for lookup nodes: the caller's grade,
// brand, VIP flag, account manager and the directory's extra columns, with
// the routing tier the router will use.
func (d *callerDirectory) Lookup(_ context.Context, number string) (ivr.Customer, bool, error) {
	norm, ok := directory.Normalize(number)
	if !ok {
		norm = number
	}
	if d.dir == nil {
		return ivr.Customer{Number: norm}, false, nil
	}
	c, found := d.dir.Lookup(number)
	if !found {
		return ivr.Customer{Number: norm}, false, nil
	}
	return ivr.Customer{
		Number:  c.Number,
		Tier:    directory.TierFor(c, d.boosts),
		Stars:   c.Stars,
		Brand:   c.Brand,
		VIP:     c.VIP,
		Manager: c.AccountManager,
		Extra:   c.Extra,
	}, true, nil
}
