package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"kefu/cmd/kefu/internal/api"
	"kefu/cmd/kefu/internal/config"
	"kefu/ivr"
	"kefu/routing"
	"kefu/routing/directory"
	"kefu/routing/memstore"
	"kefu/sip"
	"kefu/sip/media"
)

// app is one running Kefu: every part, wired together.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	prompts *media.Catalog
	flows   *flowSet
	dir     *callerDirectory
	router  *routing.Router
	sip     *sip.Server
	http    *http.Server

	draining atomic.Bool
	httpLn   net.Listener
	wg       sync.WaitGroup
	sipErr   chan error
	cancel   context.CancelFunc
}

// newApp loads the configuration, prompts, flows and customers and builds the
// server; nothing listens yet.
func newApp(o serveOptions, logOut io.Writer) (*app, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level %q: use debug, info, warn or error", o.logLevel)
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: lvl}))

	var cfg *config.Config
	var err error
	if o.config == "" {
		cfg, err = config.Parse(config.SampleName, config.Sample)
	} else {
		cfg, err = config.Load(o.config)
	}
	if err != nil {
		return nil, err
	}
	if o.sip != "" {
		cfg.SIP.Listen = o.sip
	}
	if o.rtpPorts != "" {
		cfg.SIP.RTPPorts = o.rtpPorts
	}
	if o.redis != "" {
		return nil, errors.New("-redis: the shared Redis store is not available in this version; run without -redis to use the embedded store")
	}
	listen, err := netip.ParseAddrPort(cfg.SIP.Listen)
	if err != nil {
		return nil, fmt.Errorf("-sip %q: want IP:port, like 0.0.0.0:5060", cfg.SIP.Listen)
	}
	lo, hi, err := config.ParsePortRange(cfg.SIP.RTPPorts)
	if err != nil {
		return nil, err
	}

	promptDir := cfg.Resolve(cfg.Prompts)
	if promptDir == "" {
		promptDir = filepath.Join(o.flows, "prompts")
	}
	prompts, err := media.LoadCatalog(promptDir)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	queues := map[string]bool{}
	for _, q := range cfg.Queues {
		queues[q.Name] = true
	}
	set, err := ivr.Load(o.flows, ivr.LoadOptions{Prompts: prompts, Queues: nameSet(queues)})
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	flows := &flowSet{set: set, log: log}
	var missing []string
	for _, name := range cfg.FlowNames() {
		if !flows.HasFlow(name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: access_numbers name flows %q that are not in %s (flows there: %s)",
			cfg.Path, missing, o.flows, strings.Join(set.Names(), ", "))
	}

	tiers := map[string]time.Duration{}
	for name, d := range cfg.Tiers {
		tiers[name] = d.D()
	}
	if len(tiers) == 0 {
		tiers = nil // the router's standard tiers
	}
	dir := &callerDirectory{boosts: tiers, log: log}
	if cfg.Customers != "" {
		path := cfg.Resolve(cfg.Customers)
		d, err := directory.Load(path)
		switch {
		case err == nil:
			dir.dir = d
			log.Info("customer directory loaded", "file", path, "customers", d.Len())
		case errors.Is(err, os.ErrNotExist) && o.config == "":
			log.Warn("sample customer directory not found: every caller gets the default tier", "file", path)
		default:
			return nil, fmt.Errorf("customers: %w", err)
		}
	}

	rcfg := routing.Config{Tiers: tiers, Logger: log.With("part", "router")}
	for _, q := range cfg.Queues {
		rcfg.Queues = append(rcfg.Queues, routing.QueueConfig{
			Name: q.Name, Skill: q.Skill, ServiceLevel: q.ServiceLevel.D(), MaxWait: q.MaxWait.D(),
			RingTimeout: q.RingTimeout.D(), WrapUp: q.WrapUp.D(), PreferWait: q.AccountManagerWait.D(),
		})
	}
	passwords := map[string]string{}
	for _, a := range cfg.Agents {
		rcfg.Agents = append(rcfg.Agents, routing.AgentConfig{ID: a.ID, Skills: a.Skills})
		passwords[a.ID] = a.Password
	}
	router, err := routing.NewRouter(rcfg, memstore.New())
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	dir.boosts = router.Tiers()

	a := &app{cfg: cfg, log: log, prompts: prompts, flows: flows, dir: dir, router: router, sipErr: make(chan error, 1)}
	scfg := sip.Config{
		Listen:         listen,
		RTPLow:         lo,
		RTPHigh:        hi,
		MediaTimeout:   cfg.SIP.MediaTimeout.D(),
		AccessNumbers:  cfg.AccessNumbers,
		DefaultFlow:    cfg.DefaultFlow,
		Agents:         passwords,
		Realm:          cfg.SIP.Realm,
		RegisterExpiry: cfg.SIP.RegisterExpiry.D(),
		UserAgent:      cfg.SIP.UserAgent,
		Logger:         log.With("part", "sip"),
	}
	if cfg.SIP.Advertise != "" {
		scfg.Advertise = netip.MustParseAddr(cfg.SIP.Advertise) // validated by config
	}
	for _, t := range cfg.Trunks {
		scfg.Trunks = append(scfg.Trunks, sip.Trunk{Name: t.Name, Networks: t.Prefixes})
	}
	a.sip, err = sip.New(scfg, sip.Deps{
		Flows: flows, Router: router, Directory: dir, Prompts: prompts,
		OnRegistration: a.onRegistration,
	})
	if err != nil {
		router.Close()
		return nil, err
	}
	a.http = &http.Server{
		Handler:           api.New(router, a.sip, a, log.With("part", "http")),
		ReadHeaderTimeout: api.ReadHeaderTimeout,
		IdleTimeout:       api.IdleTimeout,
	}
	log.Info("kefu configured", "config", cfg.Path, "flows", strings.Join(set.Names(), ","),
		"prompts", prompts.Len(), "agents", len(cfg.Agents), "queues", len(cfg.Queues))
	return a, nil
}

// Draining reports whether the server has stopped taking calls.
func (a *app) Draining() bool { return a.draining.Load() }

// onRegistration logs an agent in (not ready) when the phone registers and
// out when its registration ends.
func (a *app) onRegistration(agentID string, registered bool) {
	ctx := context.Background()
	if registered {
		agents, err := a.router.Agents(ctx)
		if err != nil {
			return
		}
		for _, ag := range agents {
			if ag.ID == agentID && ag.State == routing.AgentLoggedOut {
				if err := a.router.SetAgentState(ctx, agentID, routing.AgentNotReady, "registered"); err != nil {
					a.log.Warn("log agent in", "agent", agentID, "err", err)
				}
			}
		}
		return
	}
	if err := a.router.SetAgentState(ctx, agentID, routing.AgentLoggedOut, "unregistered"); err != nil {
		a.log.Warn("log agent out", "agent", agentID, "err", err)
	}
}

// start binds SIP and HTTP and serves them in the background.
func (a *app) start(httpAddr string) error {
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("http: listen %s: %w (choose another address with -http)", httpAddr, err)
	}
	a.httpLn = ln
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	ready := make(chan struct{})
	a.wg.Go(func() {
		err := a.sip.Serve(ctx, func(udp, tcp net.Addr) { close(ready) })
		a.sipErr <- err
	})
	select {
	case <-ready:
	case err := <-a.sipErr:
		cancel()
		ln.Close()
		if err == nil {
			err = errors.New("sip stopped")
		}
		return err
	}
	a.wg.Go(func() {
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "err", err)
		}
	})
	a.log.Info("http listening", "addr", ln.Addr().String())
	return nil
}

// shutdown stops listening and releases everything; calls should have ended.
func (a *app) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.http.Shutdown(ctx)
	a.cancel()
	a.wg.Wait()
	a.sip.Close()
	a.router.Close()
}

// serve runs Kefu until a signal: SIGTERM drains (new calls get 503, calls in
// progress finish), SIGINT hangs up every call and stops; a second signal
// during a drain stops at once.
func serve(o serveOptions, logOut io.Writer) error {
	a, err := newApp(o, logOut)
	if err != nil {
		return err
	}
	// Process-wide, so only here in the program's own run, not in newApp.
	sip.SetStackLogger(a.log.With("part", "sipgo"))
	if err := a.start(o.http); err != nil {
		a.sip.Close()
		a.router.Close()
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	var sig os.Signal
	select {
	case sig = <-sigs:
	case err := <-a.sipErr:
		a.shutdown()
		return fmt.Errorf("sip stopped: %w", err)
	}
	if sig == syscall.SIGTERM {
		a.draining.Store(true)
		a.sip.Drain()
		a.log.Info("SIGTERM: draining; calls in progress will finish (send SIGINT to end them now)", "calls", len(a.sip.Calls()))
		idle := make(chan error, 1)
		go func() { idle <- a.sip.WaitIdle(context.Background()) }()
		select {
		case <-idle:
		case sig = <-sigs:
			a.log.Info("second signal: ending calls now", "signal", sig.String())
			a.hangupAll()
		}
	} else {
		a.log.Info("SIGINT: ending calls now", "calls", len(a.sip.Calls()))
		a.draining.Store(true)
		a.sip.Drain()
		a.hangupAll()
	}
	a.shutdown()
	a.log.Info("kefu stopped")
	return nil
}

// hangupAll ends every call and waits a little for the BYEs to be answered.
func (a *app) hangupAll() {
	a.sip.HangupAll()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.sip.WaitIdle(ctx); err != nil {
		a.log.Warn("calls still ending at exit", "calls", len(a.sip.Calls()))
	}
}

// flowSet runs flows from the loaded set for the SIP front end.
type flowSet struct {
	set *ivr.Set
	log *slog.Logger
}

func (f *flowSet) HasFlow(name string) bool {
	_, ok := f.set.Flow(name)
	return ok
}

func (f *flowSet) RunFlow(ctx context.Context, name string, call ivr.Call) error {
	flow, ok := f.set.Flow(name)
	if !ok {
		return fmt.Errorf("flow %q is not loaded", name)
	}
	_, err := ivr.Run(ctx, flow, call, ivr.RunOptions{Logger: f.log.With("part", "ivr")})
	return err
}

// callerDirectory gives the router's view of a caller from the customer
// directory: tier (the best the customer qualifies for) and account manager.
type callerDirectory struct {
	dir    *directory.Directory
	boosts map[string]time.Duration
	log    *slog.Logger
}

func (d *callerDirectory) Caller(number string) (tier, preferredAgent string) {
	if d.dir == nil {
		return routing.TierDefault, ""
	}
	c, ok := d.dir.Lookup(number)
	if !ok {
		return routing.TierDefault, ""
	}
	return directory.TierFor(c, d.boosts), c.AccountManager
}

// nameSet answers Has for a set of names.
type nameSet map[string]bool

func (n nameSet) Has(name string) bool { return n[name] }
