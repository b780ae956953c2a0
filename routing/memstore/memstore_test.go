package memstore_test

import (
	"testing"

	"kefu/routing"
	"kefu/routing/memstore"
	"kefu/routing/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) routing.Store { return memstore.New() })
}

func BenchmarkEnqueueMatch(b *testing.B) {
	storetest.BenchmarkEnqueueMatch(b, func(b *testing.B) routing.Store { return memstore.New() })
}
