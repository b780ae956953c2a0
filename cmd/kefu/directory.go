package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"kefu/cmd/kefu/internal/config"
	"kefu/routing"
	"kefu/routing/directory"
	"kefu/routing/directory/charset"
	"kefu/routing/directory/grade"
	"kefu/routing/directory/redisdir"
	"kefu/routing/redisstore"
)

// newDirectory builds the customer directory from the configuration: the
// tier policy, the store (Redis beside the router's state when the router
// uses Redis, embedded otherwise), the file's character set, grading of
// ungraded rows by a thresholds file; and loads the file.
func newDirectory(cfg *config.Config, o serveOptions, store routing.Store, boosts map[string]time.Duration, log *slog.Logger) (*callers, error) {
	cc := cfg.Customers
	policy := directory.Policy{Stars: cc.Stars, VIP: cc.VIPTier, KeyAccount: cc.KeyAccountTier, Brands: cc.Brands,
		Unknown: cc.UnknownTier, Anonymous: cc.AnonymousTier, Boosts: boosts}
	if err := policy.Check(); err != nil {
		return nil, fmt.Errorf("%s: customers: %w", cfg.Path, err)
	}
	opts := directory.Options{Policy: policy, RepeatWithin: cc.RepeatWithin.D(), Logger: log}
	closeDir := func() error { return nil }
	if rs, ok := store.(*redisstore.Store); ok {
		rd, err := redisdir.New(rs.Client(), rs.KeyPrefix())
		if err != nil {
			return nil, err
		}
		if cc.KeepHistory > 0 {
			rd.Keep = cc.KeepHistory.D()
		}
		opts.Customers, opts.History, closeDir = rd, rd, rd.Close
	} else {
		m := directory.NewMemory(cc.KeepHistory.D())
		opts.Customers, opts.History = m, m
	}
	if cc.File != "" {
		opts.File = cfg.Resolve(cc.File)
		enc := cc.Encoding
		opts.Decode = func(data []byte, name string) ([]byte, error) {
			r, _, err := charset.NewReader(bytes.NewReader(data), enc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out, err := io.ReadAll(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return out, nil
		}
	}
	if cc.Thresholds != "" {
		path := cfg.Resolve(cc.Thresholds)
		th, err := grade.LoadThresholds(path)
		if err != nil {
			return nil, fmt.Errorf("customers: thresholds: %w", err)
		}
		opts.Prepare = func(d *directory.Directory) error {
			var bad error
			n := d.GradeUngraded(func(c directory.Customer) int {
				v, err := grade.ParseValueScore(strconv.FormatFloat(c.ValueScore, 'f', -1, 64))
				if err != nil {
					bad = fmt.Errorf("customer %s: value_score %v: %w", c.Number, c.ValueScore, err)
					return 0
				}
				return th.Stars(grade.Composite(v, c.TenureMonths))
			})
			if n > 0 {
				log.Info("customers graded on load", "thresholds", path, "graded", n)
			}
			return bad
		}
	}
	svc := directory.NewService(opts)
	c := newCallers(svc, cfg.Queues, log)
	c.close = closeDir
	err := svc.Load(context.Background())
	switch {
	case err == nil && opts.File != "":
		st := svc.Status()
		log.Info("customer directory loaded", "file", opts.File, "customers", st.Customers, "version", st.Version)
	case errors.Is(err, os.ErrNotExist) && o.config == "":
		log.Warn("sample customer directory not found: every caller gets the unknown-caller tier", "file", opts.File)
	case err != nil:
		closeDir()
		return nil, err
	}
	return c, nil
}
