// Command kefu is Kefu's single binary: the SIP IVR and call router (kefu
// serve, or plain kefu) and its tools (kefu flows check, simulate, test,
// graph).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const usage = `Kefu — IVR and skill-based call router for carrier hotlines.

Usage:
  kefu [serve] [flags]     run the SIP front end, IVR and router (default)
  kefu flows check DIR     validate every flow in DIR; exit 1 on any error
  kefu flows simulate FLOW run one call of a flow with a scripted caller
  kefu flows test [DIR]    run the scenario tests (flows/tests); exit 1 on a failure
  kefu flows graph FLOW    print a flow as a Mermaid flowchart
  kefu customers grade IN.csv [-o OUT.csv] [-thresholds FILE]
                           grade customers five-star … one-star by the carriers' method
  kefu report --from DATE --to DATE [--format text|csv]
                           statistics over the call records: per queue, tier, agent, hour

Run "kefu serve -h" for the server's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches subcommands; it returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		opts, err := parseServeFlags(args, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "kefu:", err)
			return 2
		}
		if err := serve(opts, stderr); err != nil {
			fmt.Fprintln(stderr, "kefu:", err)
			return 1
		}
		return 0
	case "flows":
		return flowsCommand(args, stdout, stderr)
	case "customers":
		return customersCommand(args, stdout, stderr)
	case "report":
		return reportCommand(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kefu: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// serveOptions are the server's flags.
type serveOptions struct {
	config   string
	sip      string
	http     string
	flows    string
	redis    string
	node     string
	rtpPorts string
	logLevel string
	data     string
	ttsCache string
}

// parseServeFlags reads flags, each defaulting to its KEFU_* environment
// variable and then to the built-in default.
func parseServeFlags(args []string, stderr io.Writer) (serveOptions, error) {
	var o serveOptions
	fs := flag.NewFlagSet("kefu serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	fs.StringVar(&o.config, "config", env("KEFU_CONFIG", ""), "configuration file (env KEFU_CONFIG); empty runs the built-in sample")
	fs.StringVar(&o.sip, "sip", env("KEFU_SIP", ""), "SIP address, UDP and TCP (env KEFU_SIP; default from config, else 0.0.0.0:5060)")
	fs.StringVar(&o.http, "http", env("KEFU_HTTP", "127.0.0.1:8080"), "HTTP API address (env KEFU_HTTP)")
	fs.StringVar(&o.flows, "flows", env("KEFU_FLOWS", "flows"), "directory of IVR flow files (env KEFU_FLOWS)")
	fs.StringVar(&o.redis, "redis", env("KEFU_REDIS", ""), "Redis URL for shared queues (env KEFU_REDIS); empty uses the embedded store")
	fs.StringVar(&o.node, "node", env("KEFU_NODE", ""), "this node's name among the Kefu nodes sharing -redis (env KEFU_NODE); default HOSTNAME-RANDOM, new at each start")
	fs.StringVar(&o.rtpPorts, "rtp-ports", env("KEFU_RTP_PORTS", ""), "RTP port range LO-HI (env KEFU_RTP_PORTS; default from config, else 20000-29999)")
	fs.StringVar(&o.logLevel, "log-level", env("KEFU_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env KEFU_LOG_LEVEL)")
	fs.StringVar(&o.data, "data", env("KEFU_DATA", defaultDataDir()), "directory for voicemail, switch states and the speech cache (env KEFU_DATA)")
	fs.StringVar(&o.ttsCache, "tts-cache", env("KEFU_TTS_CACHE", ""), "directory of rendered text prompts (env KEFU_TTS_CACHE; default DATA/tts-cache)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q: kefu serve takes only flags", fs.Args())
	}
	return o, nil
}

// defaultDataDir is where Kefu keeps what it writes: $XDG_STATE_HOME/kefu,
// else ~/.local/state/kefu, else kefu-data in the working directory.
func defaultDataDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "kefu")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "kefu")
	}
	return "kefu-data"
}
