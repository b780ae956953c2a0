package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"kefu/ivr"
	"kefu/sip/media"
)

// flowsCommand runs "kefu flows check DIR": the same load and validation the
// server runs at start, printing one problem per line as file:line:col.
func flowsCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: kefu flows check [-prompts DIR] DIR")
		return 2
	}
	fs := flag.NewFlagSet("kefu flows check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	promptDir := fs.String("prompts", "", "prompt directory (default DIR/prompts)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: kefu flows check [-prompts DIR] DIR")
		return 2
	}
	dir := fs.Arg(0)
	if *promptDir == "" {
		*promptDir = filepath.Join(dir, "prompts")
	}
	prompts, err := media.LoadCatalog(*promptDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	set, err := ivr.Load(dir, ivr.LoadOptions{Prompts: prompts})
	if err != nil {
		var le *ivr.LoadError
		if errors.As(err, &le) {
			for _, is := range le.Issues {
				fmt.Fprintln(stdout, is.String())
			}
		} else {
			fmt.Fprintln(stdout, err)
		}
		return 1
	}
	for _, w := range set.Warnings() {
		fmt.Fprintln(stdout, w.String())
	}
	fmt.Fprintf(stdout, "%d flows ok: %v\n", len(set.Names()), set.Names())
	return 0
}
