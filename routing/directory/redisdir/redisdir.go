// Package redisdir keeps the customer directory and the caller history in
// Redis, shared by every Kefu node using the same Redis.
//
// Keys, under the prefix P given to New (the router's "kefu:{name}:"):
//
//	P cust:version            the version in place (a hash of the file)
//	P cust:versions           set of versions with keys in Redis
//	P cust:lock               held by the node loading a version
//	P cust:<version>:<number> hash per customer: number, name, value_score,
//	                          tenure_months, stars, brand, vip,
//	                          account_manager, and x:<column> per extra column
//	P hist:<number>           hash: the caller's last contact (at, queue,
//	                          agent, outcome, survey), expiring after Keep
//
// A new version is written beside the old one, then the version key is
// switched with one SET: every node sees either the old directory or the new
// one, never a mixture. Nodes cache the version key for up to a second; the
// old version's keys are deleted Grace (10 s, and never before twice the
// version cache time plus a second) after the switch. Nodes loading
// the same file compute the same version, and the second finds it in place
// and does nothing; while one node loads, the others wait for it.
package redisdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing/directory"
)

// Store is the Redis directory and history. It implements
// directory.Customers and directory.History.
type Store struct {
	rdb    redis.UniversalClient
	prefix string

	// Keep is how long a last contact is kept (default 30 days); Grace how
	// long an old version's keys outlive the switch (default 10 s);
	// VersionTTL how long a node trusts its cached version (default 1 s).
	// Set them before use.
	Keep       time.Duration
	Grace      time.Duration
	VersionTTL time.Duration

	ver atomic.Pointer[cachedVersion]

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

type cachedVersion struct {
	v  string
	at time.Time
}

// New returns a Store keeping its keys under prefix (like "kefu:{name}:").
func New(client redis.UniversalClient, prefix string) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisdir: New: client is nil; pass a connected go-redis client")
	}
	if prefix == "" {
		return nil, errors.New(`redisdir: New: prefix is empty; use the router's, like "kefu:{name}:"`)
	}
	return &Store{rdb: client, prefix: prefix, Keep: directory.DefaultKeep, Grace: 10 * time.Second,
		VersionTTL: time.Second, stop: make(chan struct{})}, nil
}

// Close stops the deletion of old versions still waiting for their grace
// time (they are deleted by the next load instead).
func (s *Store) Close() error {
	s.once.Do(func() { close(s.stop) })
	s.wg.Wait()
	return nil
}

func (s *Store) versionKey() string  { return s.prefix + "cust:version" }
func (s *Store) versionsKey() string { return s.prefix + "cust:versions" }
func (s *Store) lockKey() string     { return s.prefix + "cust:lock" }
func (s *Store) customerKey(version, number string) string {
	return s.prefix + "cust:" + version + ":" + number
}
func (s *Store) contactKey(number string) string { return s.prefix + "hist:" + number }

// Version implements directory.Customers.
func (s *Store) Version(ctx context.Context) (string, error) {
	v, err := s.rdb.Get(ctx, s.versionKey()).Result()
	if errors.Is(err, redis.Nil) {
		v, err = "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redisdir: version: %w", err)
	}
	s.ver.Store(&cachedVersion{v: v, at: time.Now()})
	return v, nil
}

func (s *Store) current(ctx context.Context) (string, error) {
	if c := s.ver.Load(); c != nil && time.Since(c.at) < s.VersionTTL {
		return c.v, nil
	}
	return s.Version(ctx)
}

// Lookup implements directory.Customers.
func (s *Store) Lookup(ctx context.Context, number string) (directory.Customer, bool, error) {
	v, err := s.current(ctx)
	if err != nil || v == "" {
		return directory.Customer{}, false, err
	}
	h, err := s.rdb.HGetAll(ctx, s.customerKey(v, number)).Result()
	if err != nil {
		return directory.Customer{}, false, fmt.Errorf("redisdir: lookup %s: %w", number, err)
	}
	if len(h) == 0 {
		return directory.Customer{}, false, nil
	}
	c, err := decodeCustomer(h)
	if err != nil {
		return directory.Customer{}, false, fmt.Errorf("redisdir: customer %s: %w", number, err)
	}
	return c, true, nil
}

// batch is how many customers one pipeline writes.
const batch = 1000

// Replace implements directory.Customers.
func (s *Store) Replace(ctx context.Context, d *directory.Directory, version string) error {
	if version == "" {
		return errors.New("redisdir: Replace: empty version")
	}
	token := strconv.FormatInt(time.Now().UnixNano(), 36)
	for {
		cur, err := s.Version(ctx)
		if err != nil {
			return err
		}
		if cur == version {
			return nil // in place already, loaded by this node or another
		}
		ok, err := s.rdb.SetNX(ctx, s.lockKey(), token, 5*time.Minute).Result()
		if err != nil {
			return fmt.Errorf("redisdir: lock: %w", err)
		}
		if ok {
			break
		}
		select { // another node is loading: see what it puts in place
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer s.unlock(token)

	if err := s.rdb.SAdd(ctx, s.versionsKey(), version).Err(); err != nil {
		return fmt.Errorf("redisdir: %w", err)
	}
	cs := d.Customers()
	for start := 0; start < len(cs); start += batch {
		end := min(start+batch, len(cs))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			key := s.customerKey(version, "")
			// A half-written earlier attempt at this version holds the
			// same content (the version is the content's hash): the
			// hashes are simply written again.
			for _, c := range cs[start:end] {
				p.HSet(ctx, key+c.Number, encodeCustomer(c)...)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("redisdir: write customers %d-%d: %w", start+1, end, err)
		}
	}
	if err := s.rdb.Set(ctx, s.versionKey(), version, 0).Err(); err != nil {
		return fmt.Errorf("redisdir: switch to version %s: %w", version, err)
	}
	s.ver.Store(&cachedVersion{v: version, at: time.Now()})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// Nodes trust a cached version for VersionTTL: the old version
		// must outlive that, with room for lookups in flight.
		select {
		case <-s.stop:
			return
		case <-time.After(max(s.Grace, 2*s.VersionTTL+time.Second)):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_ = s.dropOld(ctx)
	}()
	return nil
}

var unlockScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

func (s *Store) unlock(token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = unlockScript.Run(ctx, s.rdb, []string{s.lockKey()}, token).Err()
}

// dropOld deletes the keys of every version but the one in place.
func (s *Store) dropOld(ctx context.Context) error {
	cur, err := s.Version(ctx)
	if err != nil {
		return err
	}
	versions, err := s.rdb.SMembers(ctx, s.versionsKey()).Result()
	if err != nil {
		return fmt.Errorf("redisdir: versions: %w", err)
	}
	for _, v := range versions {
		if v == cur {
			continue
		}
		iter := s.rdb.Scan(ctx, 0, s.customerKey(v, "*"), 1000).Iterator()
		var keys []string
		flush := func() error {
			if len(keys) == 0 {
				return nil
			}
			err := s.rdb.Unlink(ctx, keys...).Err()
			keys = keys[:0]
			return err
		}
		for iter.Next(ctx) {
			if keys = append(keys, iter.Val()); len(keys) >= batch {
				if err := flush(); err != nil {
					return fmt.Errorf("redisdir: drop version %s: %w", v, err)
				}
			}
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("redisdir: drop version %s: %w", v, err)
		}
		if err := flush(); err != nil {
			return fmt.Errorf("redisdir: drop version %s: %w", v, err)
		}
		s.rdb.SRem(ctx, s.versionsKey(), v)
	}
	return nil
}

// Customer hash fields.
const (
	fNumber, fName, fValue, fTenure = "number", "name", "value_score", "tenure_months"
	fStars, fBrand, fVIP, fManager  = "stars", "brand", "vip", "account_manager"
	extraPrefix                     = "x:"
)

// encodeCustomer returns the field, value pairs of c's hash.
func encodeCustomer(c directory.Customer) []any {
	h := make([]any, 0, 16+2*len(c.Extra))
	h = append(h, fNumber, c.Number, fName, c.Name, fValue, strconv.FormatFloat(c.ValueScore, 'f', -1, 64),
		fTenure, strconv.Itoa(c.TenureMonths), fStars, strconv.Itoa(c.Stars), fBrand, c.Brand, fVIP, boolString(c.VIP),
		fManager, c.AccountManager)
	for k, v := range c.Extra {
		h = append(h, extraPrefix+k, v)
	}
	return h
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func decodeCustomer(h map[string]string) (directory.Customer, error) {
	c := directory.Customer{Number: h[fNumber], Name: h[fName], Brand: h[fBrand], VIP: h[fVIP] == "1", AccountManager: h[fManager]}
	var err error
	if c.ValueScore, err = strconv.ParseFloat(h[fValue], 64); err != nil {
		return c, fmt.Errorf("field %s: %w", fValue, err)
	}
	if c.TenureMonths, err = strconv.Atoi(h[fTenure]); err != nil {
		return c, fmt.Errorf("field %s: %w", fTenure, err)
	}
	if c.Stars, err = strconv.Atoi(h[fStars]); err != nil {
		return c, fmt.Errorf("field %s: %w", fStars, err)
	}
	for k, v := range h {
		if name, ok := strings.CutPrefix(k, extraPrefix); ok {
			if c.Extra == nil {
				c.Extra = map[string]string{}
			}
			c.Extra[name] = v
		}
	}
	return c, nil
}

// Contact hash fields.
const fAt, fQueue, fAgent, fOutcome, fSurvey = "at", "queue", "agent", "outcome", "survey"

// LastContact implements directory.History.
func (s *Store) LastContact(ctx context.Context, number string) (directory.Contact, bool, error) {
	h, err := s.rdb.HGetAll(ctx, s.contactKey(number)).Result()
	if err != nil {
		return directory.Contact{}, false, fmt.Errorf("redisdir: last contact of %s: %w", number, err)
	}
	if len(h) == 0 {
		return directory.Contact{}, false, nil
	}
	ms, err := strconv.ParseInt(h[fAt], 10, 64)
	if err != nil {
		return directory.Contact{}, false, fmt.Errorf("redisdir: last contact of %s: field at: %w", number, err)
	}
	c := directory.Contact{Number: number, At: time.UnixMilli(ms), Queue: h[fQueue], Agent: h[fAgent], Outcome: h[fOutcome]}
	if raw := h[fSurvey]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &c.Survey); err != nil {
			return directory.Contact{}, false, fmt.Errorf("redisdir: last contact of %s: field survey: %w", number, err)
		}
	}
	return c, true, nil
}

// Record implements directory.History.
func (s *Store) Record(ctx context.Context, c directory.Contact) error {
	if c.Number == "" {
		return errors.New("redisdir: record a contact without a number")
	}
	h := map[string]any{fAt: c.At.UnixMilli(), fQueue: c.Queue, fAgent: c.Agent, fOutcome: c.Outcome}
	if len(c.Survey) > 0 {
		raw, err := json.Marshal(c.Survey)
		if err != nil {
			return fmt.Errorf("redisdir: survey: %w", err)
		}
		h[fSurvey] = string(raw)
	}
	key := s.contactKey(c.Number)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, h)
		p.PExpire(ctx, key, s.Keep)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisdir: record contact of %s: %w", c.Number, err)
	}
	return nil
}
