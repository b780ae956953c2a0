package nodetest

import (
	"testing"

	"kefu/routing/internal/redistest"
)

// redisServer is the test's own redis-server (see redistest).
type redisServer = redistest.Server

// startRedis starts a redis-server for tb; persist keeps an append-only file
// fsynced on every write, so a Stop and Start keep every acknowledged write.
func startRedis(tb testing.TB, persist bool) *redisServer {
	tb.Helper()
	return redistest.Launch(tb, redistest.Options{Persist: persist})
}
