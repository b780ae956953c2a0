// Package nodetest runs several Kefu routers against one real Redis: the
// multi-node tests and benchmarks of issue 'Redis router'.
//
// Everything is in the package's tests: each test starts its own
// redis-server (Debian package redis-server; the tests fail without it) on a
// free port of 127.0.0.1, in a temporary directory, with an append-only file
// fsynced on every write, so that it can be stopped and started again with
// its state. Several routing.Router values, each with its own go-redis
// client and redisstore.Store on one key prefix, play the Kefu nodes; their
// offers for each other's calls travel on the store's Redis pub/sub bus.
//
//	go test -race ./routing/nodetest/
//	go test -run '^$' -bench . -benchtime 3s ./routing/nodetest/
package nodetest
