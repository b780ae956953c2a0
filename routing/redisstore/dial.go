package redisstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix Dial uses when the URL does not give one.
const DefaultPrefix = "kefu"

// Dial connects to the Redis at url (redis://[user:password@]host:port[/db]
// or rediss:// for TLS; add ?prefix=NAME to keep several Kefu deployments
// apart on one Redis), checks it answers within ctx, and returns a Store
// that owns the connection: Close it when done.
func Dial(ctx context.Context, url string) (*Store, error) {
	prefix := DefaultPrefix
	opts, err := redis.ParseURL(stripPrefix(url, &prefix))
	if err == nil {
		err = checkPrefix(prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: -redis %q: %w (write redis://host:port/0)", url, err)
	}
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redisstore: Redis at %s does not answer: %w (start it, or run without -redis for the embedded store)", opts.Addr, err)
	}
	s, err := New(client, prefix)
	if err != nil {
		client.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// stripPrefix takes a prefix=NAME query parameter out of url (go-redis
// refuses parameters it does not know) and stores it in prefix.
func stripPrefix(url string, prefix *string) string {
	base, query, ok := strings.Cut(url, "?")
	if !ok {
		return url
	}
	var kept []string
	for _, kv := range strings.Split(query, "&") {
		if v, found := strings.CutPrefix(kv, "prefix="); found {
			*prefix = v
			continue
		}
		kept = append(kept, kv)
	}
	if len(kept) == 0 {
		return base
	}
	return base + "?" + strings.Join(kept, "&")
}

// Close closes the connection a Store made by Dial owns; for a Store made
// by New it does nothing (the caller owns the client).
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.rdb.Close()
}
