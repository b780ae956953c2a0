package stats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisSlack is how much longer than needed Redis keeps a bucket or a claim,
// for clock differences between the nodes and Redis.
const redisSlack = time.Minute

// Redis is the Backend shared by the Kefu nodes on one Redis. Its keys,
// all under the caller's prefix (give it a hash tag, "kefu:{name}:", and
// every key lands in one Redis Cluster slot):
//
//	PREFIX stats:GRAN:IDX       hash of counters of one bucket (GRAN in seconds)
//	PREFIX stats:GRAN:IDX:max   sorted set of the bucket's maxima (ZADD GT)
//	PREFIX stats:sample:SLOT    occupancy slot claim (SET NX)
//
// Each key expires a minute after it has left its window. An event is one
// MULTI/EXEC (HINCRBY, ZADD GT, PEXPIRE per bucket); a snapshot is one
// pipeline (HGETALL and ZRANGE per bucket).
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ Backend = (*Redis)(nil)

// NewRedis returns a backend storing its keys under prefix in the Redis of
// client; the caller owns (and closes) the client. prefix must not be empty;
// "kefu:{name}:" keeps every key in one Redis Cluster slot.
func NewRedis(client redis.UniversalClient, prefix string) (*Redis, error) {
	if client == nil {
		return nil, errors.New("stats: NewRedis: client is nil; pass a connected go-redis client")
	}
	if prefix == "" {
		return nil, errors.New(`stats: NewRedis: prefix is empty; use one like "kefu:{name}:"`)
	}
	return &Redis{rdb: client, prefix: prefix}, nil
}

func (r *Redis) key(b bucketRef) string {
	return r.prefix + "stats:" + strconv.FormatInt(int64(b.gran/time.Second), 10) + ":" + strconv.FormatInt(b.idx, 10)
}

func (r *Redis) apply(ctx context.Context, u update) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, b := range u.buckets {
			k, ttl := r.key(b.bucketRef), b.expires.Sub(u.now)+redisSlack
			if len(u.incr) > 0 {
				for _, f := range u.incr {
					p.HIncrBy(ctx, k, f.field, f.n)
				}
				p.PExpire(ctx, k, ttl)
			}
			if len(u.max) > 0 {
				zs := make([]redis.Z, len(u.max))
				for i, m := range u.max {
					zs[i] = redis.Z{Score: float64(m.v), Member: m.member}
				}
				p.ZAddGT(ctx, k+":max", zs...)
				p.PExpire(ctx, k+":max", ttl)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("stats: writing to Redis under %q: %w (check that Redis is reachable)", r.prefix, err)
	}
	return nil
}

func (r *Redis) read(ctx context.Context, refs []bucketRef) ([]bucketData, error) {
	hashes := make([]*redis.MapStringStringCmd, len(refs))
	maxima := make([]*redis.ZSliceCmd, len(refs))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, b := range refs {
			k := r.key(b)
			hashes[i] = p.HGetAll(ctx, k)
			maxima[i] = p.ZRangeWithScores(ctx, k+":max", 0, -1)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: reading %d buckets from Redis under %q: %w (check that Redis is reachable)",
			len(refs), r.prefix, err)
	}
	out := make([]bucketData, len(refs))
	for i := range refs {
		h := hashes[i].Val()
		if len(h) > 0 {
			out[i].fields = make(map[string]int64, len(h))
			for f, v := range h {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("stats: Redis key %s field %q holds %q, not a counter: %w", r.key(refs[i]), f, v, err)
				}
				out[i].fields[f] = n
			}
		}
		if zs := maxima[i].Val(); len(zs) > 0 {
			out[i].max = make(map[string]int64, len(zs))
			for _, z := range zs {
				m, _ := z.Member.(string)
				out[i].max[m] = int64(z.Score)
			}
		}
	}
	return out, nil
}

func (r *Redis) claim(ctx context.Context, slot string, now, expires time.Time) (bool, error) {
	k := r.prefix + "stats:sample:" + slot
	ok, err := r.rdb.SetNX(ctx, k, now.UTC().Format(time.RFC3339Nano), expires.Sub(now)+redisSlack).Result()
	if err != nil {
		return false, fmt.Errorf("stats: claiming sampling slot %s: %w (check that Redis is reachable)", k, err)
	}
	return ok, nil
}
