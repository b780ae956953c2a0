package directory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options configure a Service.
type Options struct {
	// File is the customer CSV. Empty: no directory, every caller is
	// unknown (the caller history still works).
	File string
	// Customers keeps the loaded directory; History the callers' last
	// contacts. Default: one Memory for both.
	Customers Customers
	History   History
	// Policy turns customers into routing tiers.
	Policy Policy
	// RepeatWithin is how recent a caller's last contact must be for the
	// caller to count as a repeat caller. Default 24 h.
	RepeatWithin time.Duration
	// Prepare, when set, is run on every directory read from File before it
	// is put in place: it grades the customers the file leaves ungraded.
	// An error rejects the file like a parse error.
	Prepare func(*Directory) error
	// Decode, when set, turns the file's bytes into UTF-8 (customer files
	// exported in GB18030 by back-office systems). Errors reject the file.
	Decode func(data []byte, name string) ([]byte, error)
	// Debounce is how long Watch waits after the last change before it
	// reloads. Default 250 ms.
	Debounce time.Duration
	Logger   *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Service is the customer directory as calls use it: the customers (loaded
// from a CSV file, reloaded atomically when it changes), the caller history,
// and the tier policy. It is safe for concurrent use.
type Service struct {
	opts Options
	log  *slog.Logger

	loading sync.Mutex // one load at a time
	mu      sync.Mutex // guards status
	status  Status
}

// Status says what the directory has loaded.
type Status struct {
	// File is the customer file; Version names the content in place (a
	// hash of the file), Customers how many customers it has.
	File      string    `json:"file,omitempty"`
	Version   string    `json:"version,omitempty"`
	Customers int       `json:"customers"`
	LoadedAt  time.Time `json:"loaded_at,omitzero"`
	// LastError is the problem of the last load that failed after the
	// last good one (the good one keeps serving); empty when the last load
	// succeeded.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Loads and Failures count loads since the start.
	Loads    int `json:"loads"`
	Failures int `json:"failures"`
}

// NewService returns a Service; call Load before taking calls.
func NewService(opts Options) *Service {
	if opts.Customers == nil || opts.History == nil {
		m := NewMemory(0)
		if opts.Customers == nil {
			opts.Customers = m
		}
		if opts.History == nil {
			opts.History = m
		}
	}
	if opts.RepeatWithin <= 0 {
		opts.RepeatWithin = 24 * time.Hour
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 250 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts, log: opts.Logger, status: Status{File: opts.File}}
}

// Policy returns the tier policy.
func (s *Service) Policy() Policy { return s.opts.Policy }

// RepeatWithin returns the repeat-caller window.
func (s *Service) RepeatWithin() time.Duration { return s.opts.RepeatWithin }

// Status returns what is loaded.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Load reads the file and puts it in place. On error the directory in
// place (if any) keeps serving; the error names the file, line and column.
func (s *Service) Load(ctx context.Context) error {
	if s.opts.File == "" {
		return nil
	}
	s.loading.Lock()
	defer s.loading.Unlock()
	n, version, err := s.load(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Loads++
	if err != nil {
		s.status.Failures++
		s.status.LastError, s.status.LastErrorAt = err.Error(), s.opts.Now()
		return err
	}
	s.status.Version, s.status.Customers, s.status.LoadedAt = version, n, s.opts.Now()
	s.status.LastError, s.status.LastErrorAt = "", time.Time{}
	return nil
}

func (s *Service) load(ctx context.Context) (int, string, error) {
	data, err := os.ReadFile(s.opts.File)
	if err != nil {
		return 0, "", fmt.Errorf("customers: %w", err)
	}
	sum := sha256.Sum256(data)
	version := hex.EncodeToString(sum[:8])
	if s.opts.Decode != nil {
		if data, err = s.opts.Decode(data, s.opts.File); err != nil {
			return 0, "", fmt.Errorf("customers: %w", err)
		}
	}
	d, err := Parse(bytes.NewReader(data), s.opts.File)
	if err != nil {
		return 0, "", fmt.Errorf("customers: %w", err)
	}
	if s.opts.Prepare != nil {
		if err := s.opts.Prepare(d); err != nil {
			return 0, "", fmt.Errorf("customers: %s: %w", s.opts.File, err)
		}
	}
	if err := s.opts.Customers.Replace(ctx, d, version); err != nil {
		return 0, "", fmt.Errorf("customers: put %s in place: %w", s.opts.File, err)
	}
	return d.Len(), version, nil
}

// Reload loads the file again, logging the outcome: on error the last good
// directory keeps serving.
func (s *Service) Reload(ctx context.Context, reason string) error {
	start := time.Now()
	err := s.Load(ctx)
	st := s.Status()
	if err != nil {
		s.log.Error("customer directory not reloaded: the last good version keeps serving; fix the file and save it again",
			"file", s.opts.File, "reason", reason, "version", st.Version, "err", err)
		return err
	}
	s.log.Info("customer directory loaded", "file", s.opts.File, "reason", reason,
		"version", st.Version, "customers", st.Customers, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Watch reloads the file whenever it changes (written in place, or
// replaced by rename as editors and copy tools do), debounced, until ctx
// ends. It returns an error only when it cannot start watching.
func (s *Service) Watch(ctx context.Context) error {
	if s.opts.File == "" {
		<-ctx.Done()
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("customers: watch %s: %w (SIGHUP still reloads)", s.opts.File, err)
	}
	defer w.Close()
	dir, base := filepath.Split(filepath.Clean(s.opts.File))
	if dir == "" {
		dir = "."
	}
	// The directory, not the file: a rename over the file replaces its
	// inode, and a watch on the old one would go quiet.
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("customers: watch %s: %w (check the directory exists; SIGHUP still reloads)", dir, err)
	}
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Base(ev.Name) != base || ev.Op == fsnotify.Chmod {
				continue
			}
			timer = time.After(s.opts.Debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			s.log.Warn("customer file watch", "err", err)
		case <-timer:
			timer = nil
			if _, err := os.Stat(s.opts.File); errors.Is(err, os.ErrNotExist) {
				continue // removed: keep serving, wait for it to come back
			}
			_ = s.Reload(ctx, "file changed")
		}
	}
}

// Caller is what Kefu knows of a calling number: the customer, the tier the
// router will use, and the caller's last contact.
type Caller struct {
	// Number is the normalised number, or the caller id as received when
	// it is no usable number (then Anonymous is set).
	Number    string `json:"number"`
	Anonymous bool   `json:"anonymous"`
	// Found is set when the directory has the customer.
	Found    bool      `json:"found"`
	Customer *Customer `json:"customer,omitempty"`
	// Tier is the routing tier, HeadStart its head start.
	Tier      string        `json:"tier"`
	HeadStart time.Duration `json:"-"`
	// Last is the caller's last contact, if one is kept; Repeat is set when
	// it is within the repeat window.
	Last   *Contact `json:"last_contact,omitempty"`
	Repeat bool     `json:"repeat"`
}

// Caller looks number up. An error from the customer store leaves the
// caller unknown (with the unknown tier) and is returned; an error reading
// the history is returned too, with the customer filled in.
func (s *Service) Caller(ctx context.Context, number string) (Caller, error) {
	p := s.opts.Policy
	norm, ok := Normalize(number)
	if !ok {
		t := p.AnonymousTier()
		return Caller{Number: number, Anonymous: true, Tier: t, HeadStart: p.HeadStart(t)}, nil
	}
	c := Caller{Number: norm, Tier: p.UnknownTier()}
	var errs []error
	cu, found, err := s.opts.Customers.Lookup(ctx, norm)
	if err != nil {
		errs = append(errs, err)
	} else if found {
		c.Found, c.Customer, c.Tier = true, &cu, p.Tier(cu)
	}
	c.HeadStart = p.HeadStart(c.Tier)
	last, found, err := s.opts.History.LastContact(ctx, norm)
	if err != nil {
		errs = append(errs, err)
	} else if found {
		c.Last = &last
		c.Repeat = last.Within(s.opts.RepeatWithin, s.opts.Now())
	}
	return c, errors.Join(errs...)
}

// Record stores a finished call as its caller's last contact. Calls
// without a usable number are not recorded.
func (s *Service) Record(ctx context.Context, c Contact) error {
	norm, ok := Normalize(c.Number)
	if !ok {
		return nil
	}
	c.Number = norm
	if c.At.IsZero() {
		c.At = s.opts.Now()
	}
	return s.opts.History.Record(ctx, c)
}
