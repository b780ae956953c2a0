package ivr_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// noNetwork is an HTTP transport that refuses every request, so webhook
// lookups in fuzzed flows never leave the machine.
type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("fuzz: no network")
}

// FuzzLoad feeds arbitrary bytes to the loader as a flow file. It must
// return a flow or a *LoadError with at least one error, never panic; a flow
// that loads must then run to an end against a scripted caller, never
// taking an exit the loader let it leave unwired, with one step per node
// entered. The seed corpus is testdata/fuzz/FuzzLoad (samples of every
// node type) plus the sample and broken flows.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"../flows/*.yaml", "testdata/broken/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	opts := ivr.LoadOptions{
		Prompts: ivr.Names{"welcome", "main_menu", "invalid", "no_input", "please_hold", "sorry_busy", "thanks", "goodbye", "hold_music"},
		Queues:  ivr.Names{"billing", "data", "complaints"},
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		flow, err := ivr.LoadBytes("fuzz.yaml", src, opts)
		if (flow == nil) == (err == nil) {
			t.Fatalf("LoadBytes returned flow %v and error %v", flow, err)
		}
		if err != nil {
			var le *ivr.LoadError
			if !errors.As(err, &le) || len(le.Errors()) == 0 {
				t.Fatalf("error %v is not a *LoadError with errors", err)
			}
			for _, is := range le.Issues {
				if is.File != "fuzz.yaml" || is.Msg == "" || is.Line < 0 || is.Col < 0 {
					t.Fatalf("malformed issue %+v", is)
				}
			}
			return
		}
		if flow.Subflow {
			return // a subflow takes no calls; Run refuses it
		}
		call := ivrtest.NewScriptedCall("1", "5", "-", "2", "~9", "queue:max_wait", "*", "#", "3", "1234#", "record:no_audio", "transfer:busy", "queue:callback", "2")
		svc := ivr.Services{
			Now:       func() time.Time { return time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC) },
			Directory: fuzzDirectory{},
			HTTP:      &http.Client{Transport: noNetwork{}},
		}
		res, err := ivr.Run(context.Background(), flow, call, ivr.RunOptions{MaxSteps: 50, Services: svc})
		switch res.End {
		case ivr.EndHangup, ivr.EndCallerHangup, ivr.EndTransfer:
			if err != nil {
				t.Fatalf("run ended %s with error %v", res.End, err)
			}
		case ivr.EndStepBudget:
			if !errors.Is(err, ivr.ErrStepBudget) {
				t.Fatalf("step budget without ErrStepBudget: %v", err)
			}
		case ivr.EndError:
			// A flow may fail (a transfer to a computed target that is
			// no number, an expression dividing by zero), but never by
			// taking an exit the loader let it leave unwired.
			if err == nil || strings.Contains(err.Error(), ": no exit ") || strings.Contains(err.Error(), "is not loaded") {
				t.Fatalf("run ended %s: %v", res.End, err)
			}
		default:
			t.Fatalf("run ended %s: %v", res.End, err)
		}
		if len(res.Steps) != len(res.Path) {
			t.Fatalf("%d steps for %d nodes entered", len(res.Steps), len(res.Path))
		}
		for i, s := range res.Steps {
			if s.Node != res.Path[i] {
				t.Fatalf("step %d is %q, path %v", i, s.Node, res.Path)
			}
		}
		if !slices.Contains(res.Path, res.Node) && res.End != ivr.EndStepBudget && res.End != ivr.EndCallerHangup {
			t.Fatalf("the run ended in %q, which it never entered (path %v)", res.Node, res.Path)
		}
	})
}

// fuzzDirectory finds every caller: a five-star VIP with a manager.
type fuzzDirectory struct{}

func (fuzzDirectory) Lookup(context.Context, string) (ivr.Customer, bool, error) {
	return ivr.Customer{Tier: "vip", Stars: 5, VIP: true, Manager: "m1", Extra: map[string]string{"plan": "x"}}, true, nil
}
