package redisstore

import "github.com/redis/go-redis/v9"

// Client returns the store's Redis client, for other parts of Kefu that keep
// shared state next to the routing state (the queue figures). Closing the
// store closes it when the store made it (Dial).
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// KeyPrefix returns the prefix of every key of the store, "kefu:{name}:".
// Keys made with it share the store's hash slot on Redis Cluster.
func (s *Store) KeyPrefix() string { return s.base }
