package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kefu/cmd/kefu/internal/api"
	"kefu/cmd/kefu/internal/config"
	"kefu/cmd/kefu/internal/web"
	"kefu/ivr"
	"kefu/ivr/ivrmetrics"
	"kefu/ivr/reload"
	"kefu/ivr/switchboard"
	"kefu/routing"
	"kefu/routing/eventlog"
	"kefu/routing/memstore"
	"kefu/routing/redisstore"
	"kefu/routing/report"
	"kefu/routing/stats"
	"kefu/sip"
	"kefu/sip/media"
	"kefu/sip/tts"
)

// app is one running Kefu: every part, wired together.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	prompts *media.Catalog
	flows   *reload.Reloader
	metrics *prometheus.Registry // the app's own, served at /metrics
	dir     *callers
	records *recorder
	router  *routing.Router
	// figures keeps the queue figures over sliding windows.
	figures *stats.Stats
	// closeStore closes the router's store (the Redis connection) and its
	// event log (the JSONL file); call it after the router is closed.
	closeStore func() error
	warm       *warmer
	sip        *sip.Server
	http       *http.Server

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
	prompts := &media.Catalog{} // loadFlows fills it
	dataDir := o.data
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w (choose another with -data)", err)
	}
	ttsCache := o.ttsCache
	if ttsCache == "" {
		ttsCache = filepath.Join(dataDir, "tts-cache")
	}
	speech, err := tts.New(tts.Config{CacheDir: ttsCache, Catalog: prompts, Logger: log.With("part", "tts")})
	if err != nil {
		return nil, fmt.Errorf("speech engine: %w", err)
	}
	warm := newWarmer(speech, log.With("part", "tts"))
	// undo releases, last first, what was built when a later step fails.
	undo := []func(){warm.close}
	built := false
	defer func() {
		if !built {
			for _, f := range slices.Backward(undo) {
				f()
			}
		}
	}()
	switches, err := switchboard.Open(filepath.Join(dataDir, "switches.json"))
	if err != nil {
		return nil, fmt.Errorf("switches: %w", err)
	}
	queues := map[string]bool{}
	for _, q := range cfg.Queues {
		queues[q.Name] = true
	}

	// The app's own registry: nothing global.
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	ivrMetrics, err := ivrmetrics.New(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	flows, err := reload.New(reload.Config{
		Dir: o.flows,
		Load: func() (*ivr.Set, error) {
			return loadFlows(cfg, o.flows, promptDir, prompts, nameSet(queues))
		},
		Logger: log.With("part", "flows"),
		OnActivate: func(set *ivr.Set) {
			ivrMetrics.FlowSetActive(set.Version())
			warm.activate(set)
		},
		OnReload: func(st reload.Status) {
			ivrMetrics.FlowReload(string(st.LastReload.Result), st.LastReload.At)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	ivrMetrics.FlowsLoaded(flows.Status().LoadedAt)

	tiers := map[string]time.Duration{}
	for name, d := range cfg.Tiers {
		tiers[name] = d.D()
	}
	if len(tiers) == 0 {
		tiers = nil // the router's standard tiers
	}
	rc := cfg.Routing
	rcfg := routing.Config{Tiers: tiers, Logger: log.With("part", "router"),
		NodeTTL: rc.NodeTTL.D(), LostAgentState: routing.AgentState(rc.LostAgentState),
		Misses: routing.MissRules{NoAnswer: rc.Misses.NoAnswer.D(), Rejected: rc.Misses.Rejected.D(),
			Busy: rc.Misses.Busy.D(), Other: rc.Misses.Other.D(), MaxInRow: rc.Misses.MaxInRow}}
	for _, q := range cfg.Queues {
		qc := routing.QueueConfig{
			Name: q.Name, Skill: q.Skill, ServiceLevel: q.ServiceLevel.D(), MaxWait: q.MaxWait.D(),
			RingTimeout: q.RingTimeout.D(), WrapUp: q.WrapUp.D(), PreferWait: q.AccountManagerWait.D(),
			MaxQueued: q.MaxQueued, JoinEmpty: q.JoinEmpty, LeaveWhenEmpty: q.LeaveWhenEmpty,
		}
		for _, st := range q.Steps {
			qc.Steps = append(qc.Steps, routing.SkillStep{After: st.After.D(), Skill: st.Skill, MinLevel: st.MinLevel})
		}
		rcfg.Queues = append(rcfg.Queues, qc)
	}
	passwords := map[string]string{}
	for _, a := range cfg.Agents {
		rcfg.Agents = append(rcfg.Agents, routing.AgentConfig{ID: a.ID, Skills: a.Skills})
		passwords[a.ID] = a.Password
	}
	var store routing.Store = memstore.New()
	var closeStore func() error
	if o.redis != "" {
		rs, err := redisstore.Dial(context.Background(), o.redis)
		if err != nil {
			return nil, fmt.Errorf("-redis: %w", err)
		}
		store, closeStore = rs, rs.Close
		rcfg.Events = rs.EventLog(100000)
		rcfg.Node, rcfg.Bus = o.node, rs.Bus()
		if rcfg.Node == "" {
			rcfg.Node = newNodeID()
		}
		log.Info("routing state kept in Redis", "redis", redactURL(o.redis), "node", rcfg.Node)
	} else {
		events, err := eventlog.NewJSONL(filepath.Join(dataDir, "events.jsonl"))
		if err != nil {
			return nil, fmt.Errorf("event log: %w", err)
		}
		rcfg.Events, closeStore = events, events.Close
	}
	undo = append(undo, func() { closeStore() })
	figures, err := stats.New(stats.Config{Queues: rcfg.Queues, Logger: log.With("part", "figures")}, figuresBackend(store))
	if err != nil {
		return nil, fmt.Errorf("figures: %w", err)
	}
	calls := newTrails()
	rcfg.Events = routing.EventLogs(rcfg.Events, figures, calls)
	router, err := routing.NewRouter(rcfg, store)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	undo = append(undo, func() { router.Close() })
	dir, err := newDirectory(cfg, o, store, router.Tiers(), log.With("part", "customers"))
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { dir.close() })

	a := &app{cfg: cfg, log: log, prompts: prompts, flows: flows, metrics: reg, dir: dir, router: router, figures: figures, closeStore: closeStore, warm: warm, sipErr: make(chan error, 1)}
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
		VoicemailDir:   filepath.Join(dataDir, "voicemail"),
		Logger:         log.With("part", "sip"),
	}
	if cfg.SIP.Advertise != "" {
		scfg.Advertise = netip.MustParseAddr(cfg.SIP.Advertise) // validated by config
	}
	for _, t := range cfg.Trunks {
		scfg.Trunks = append(scfg.Trunks, sip.Trunk{Name: t.Name, Networks: t.Prefixes})
	}
	records, err := openRecords(cfg, o, store, dataDir, rcfg.Node, log.With("part", "records"))
	if err != nil {
		return nil, err
	}
	a.records = records
	undo = append(undo, func() { records.Close(time.Second) })
	runner := &flowSet{
		flows:    flows,
		callers:  dir,
		records:  records,
		log:      log.With("part", "ivr"),
		trails:   calls,
		services: ivr.Services{Observer: observers{ivrMetrics, calls}, Directory: dir, Speaker: speech, Switches: switches},
	}
	a.sip, err = sip.New(scfg, sip.Deps{
		Flows: runner, Router: router, Directory: dir, Prompts: prompts,
		OnRegistration: a.onRegistration,
	})
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { a.sip.Close() })
	if err := registerMetrics(reg, metricsSources{
		SIP: a.sip, Router: router, Tiers: slices.Sorted(maps.Keys(router.Tiers())),
		Figures: figures, Customers: dir.svc, Store: store, Log: log.With("part", "metrics"),
	}); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	reporter := &report.Reporter{Read: records.Read, Defaults: report.Query{Location: time.Local, ServiceLevel: serviceLevels(cfg)}}
	apiHandler := api.New(api.Deps{
		Router: router, Front: a.sip, Health: a, Flows: flows, Switches: switches, Supervisor: router, Figures: figures, Customers: dir,
		Reports: reporter, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
	}, log.With("part", "http"))
	token, err := supervisorToken(cfg, dataDir, log)
	if err != nil {
		return nil, err
	}
	streamsDone := make(chan struct{})
	front, err := web.New(web.Deps{API: apiHandler, Agents: newAgentLogins(cfg.Agents), SupervisorToken: token,
		Live:   &live{router: router, figures: figures, trails: calls, callers: dir, reports: reporter},
		Logger: log.With("part", "web"), Done: streamsDone})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	a.http = &http.Server{
		Handler:           front,
		ReadHeaderTimeout: api.ReadHeaderTimeout,
		IdleTimeout:       api.IdleTimeout,
	}
	a.http.RegisterOnShutdown(func() { close(streamsDone) })
	log.Info("kefu configured", "config", cfg.Path, "flows", strings.Join(flows.Current().Names(), ","),
		"prompts", prompts.Len(), "agents", len(cfg.Agents), "queues", len(cfg.Queues))
	built = true
	return a, nil
}

// figuresBackend keeps the figures next to the routing state: in Redis,
// shared by every node, when the store is Redis; in memory otherwise.
func figuresBackend(store routing.Store) stats.Backend {
	if rs, ok := store.(*redisstore.Store); ok {
		if b, err := stats.NewRedis(rs.Client(), rs.KeyPrefix()); err == nil {
			return b
		}
	}
	return stats.NewMemory()
}

// newNodeID names this process among the nodes sharing a Redis: the host
// name and a random suffix, new at every start, so that a restarted node is
// never mistaken for the one that was lost.
func newNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "kefu"
	}
	return host + "-" + rand.Text()[:8]
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

// start binds SIP and HTTP and serves them in the background, and watches
// the flows directory.
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
	a.wg.Go(func() { a.figures.Run(ctx, 0, a.router.Agents) }) // occupancy samples
	a.wg.Go(func() {
		// Heartbeats, offers from other nodes, retries after a store outage.
		if err := a.router.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("router node loop stopped", "err", err)
		}
	})
	a.wg.Go(func() {
		// Without the watcher, SIGHUP still reloads the customer file.
		if err := a.dir.svc.Watch(ctx); err != nil {
			a.log.Error("customer file is not watched: reload with SIGHUP", "err", err)
		}
	})
	a.wg.Go(func() {
		// Without the watcher, SIGHUP and POST /api/flows/reload still work.
		if err := a.flows.Watch(ctx); err != nil {
			a.log.Error("flow files are not watched: reload with SIGHUP or POST /api/flows/reload", "err", err)
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
	if err := a.records.Close(10 * time.Second); err != nil {
		a.log.Error("call records", "err", err)
	}
	a.router.Close()
	_ = a.dir.close()
	_ = a.closeStore()
	a.warm.close()
}

// serve runs Kefu until a signal: SIGTERM drains (new calls get 503, calls in
// progress finish), SIGINT hangs up every call and stops; a second SIGTERM
// or SIGINT during a drain stops at once. SIGHUP reloads the flows and the
// customer file at any time (calls in progress keep the flow they started
// with and the tier they were queued with).
func serve(o serveOptions, logOut io.Writer) error {
	a, err := newApp(o, logOut)
	if err != nil {
		return err
	}
	// Process-wide, so only here in the program's own run, not in newApp.
	sip.SetStackLogger(a.log.With("part", "sipgo"))
	// Signals are caught before anything listens: a SIGHUP sent as soon as
	// /healthz answers must reload, not kill the process.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := a.start(o.http); err != nil {
		a.sip.Close()
		a.router.Close()
		_ = a.closeStore()
		return err
	}
	// stopSignal waits for SIGTERM or SIGINT, reloading on each SIGHUP.
	stopSignal := func(done <-chan error) (os.Signal, error) {
		for {
			select {
			case sig := <-sigs:
				if sig != syscall.SIGHUP {
					return sig, nil
				}
				a.flows.Reload("SIGHUP")
				go a.dir.svc.Reload(context.Background(), "SIGHUP")
			case err := <-done:
				return nil, err
			}
		}
	}

	sig, err := stopSignal(a.sipErr)
	if sig == nil {
		a.shutdown()
		return fmt.Errorf("sip stopped: %w", err)
	}
	if sig == syscall.SIGTERM {
		a.draining.Store(true)
		a.sip.Drain()
		a.log.Info("SIGTERM: draining; calls in progress will finish (send SIGINT to end them now)", "calls", len(a.sip.Calls()))
		idle := make(chan error, 1)
		go func() { idle <- a.sip.WaitIdle(context.Background()) }()
		if sig, _ = stopSignal(idle); sig != nil {
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

// loadFlows loads the flows directory as one set, the way the server runs
// it: prompts and queues checked, and every flow the configuration names
// present (a set without them would turn callers away). It first loads the
// prompt files again and adds them to the catalogue, new and changed ones,
// so that a recording dropped into the prompt directory goes live with the
// flow that plays it. The reloader calls it at start and on every reload.
func loadFlows(cfg *config.Config, dir, promptDir string, prompts *media.Catalog, queues ivr.Registry) (*ivr.Set, error) {
	fresh, err := media.LoadCatalog(promptDir)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	for _, name := range fresh.Names() {
		if p, ok := fresh.Get(name); ok {
			prompts.Add(p)
		}
	}
	set, err := ivr.Load(dir, ivr.LoadOptions{Prompts: prompts, Queues: queues})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, name := range cfg.FlowNames() {
		if _, ok := set.Flow(name); !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: access_numbers name flows %q that are not in %s (flows there: %s); add them or change the configuration",
			cfg.Path, missing, dir, strings.Join(set.Names(), ", "))
	}
	return set, nil
}

// flowSet runs flows for the SIP front end from the reloader's active set.
// Each call takes the set that is active when its flow starts and keeps
// that *ivr.Flow to the end, whatever is reloaded meanwhile.
type flowSet struct {
	flows *reload.Reloader
	// callers keeps each caller's last contact, recorded when a flow ends.
	callers *callers
	// trails follows each call for screen pops and its call record;
	// records writes that record.
	trails   *trails
	records  *recorder
	log      *slog.Logger
	services ivr.Services
}

// HasFlow reports whether the active set has the flow.
func (f *flowSet) HasFlow(name string) bool {
	_, ok := f.flows.Current().Flow(name)
	return ok
}

// RunFlow runs the named flow of the active set on call.
func (f *flowSet) RunFlow(ctx context.Context, name string, call ivr.Call) error {
	set := f.flows.Current()
	flow, ok := set.Flow(name)
	if !ok {
		return fmt.Errorf("flow %q is not in the active flow set %s (flows: %s): check the flows directory and GET /api/flows",
			name, set.Version(), strings.Join(set.Names(), ", "))
	}
	f.trails.begin(call.ID())
	f.records.begin()
	res, err := ivr.Run(ctx, flow, call, ivr.RunOptions{Logger: f.log, Services: f.services})
	tr, _ := f.trails.end(call.ID())
	who := f.callers.finished(ctx, call.Caller(), &res)
	f.records.finish(ctx, call, &res, tr, who)
	return err
}

// nameSet answers Has for a set of names.
type nameSet map[string]bool

func (n nameSet) Has(name string) bool { return n[name] }

// redactURL hides the password of a Redis URL for the log.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
