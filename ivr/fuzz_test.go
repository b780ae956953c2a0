package ivr_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// FuzzLoad feeds arbitrary bytes to the loader as a flow file. It must
// return a flow or a *LoadError with at least one error, never panic; a flow
// that loads must then run to an end against a scripted caller. The seed
// corpus is testdata/fuzz/FuzzLoad plus the sample and broken flows.
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
		call := ivrtest.NewScriptedCall("1", "5", "-", "2", "~9", "queue:max_wait", "*", "#", "3")
		res, err := ivr.Run(context.Background(), flow, call, ivr.RunOptions{MaxSteps: 50})
		switch res.End {
		case ivr.EndHangup, ivr.EndCallerHangup:
			if err != nil {
				t.Fatalf("run ended %s with error %v", res.End, err)
			}
		case ivr.EndStepBudget:
			if !errors.Is(err, ivr.ErrStepBudget) {
				t.Fatalf("step budget without ErrStepBudget: %v", err)
			}
		default:
			t.Fatalf("run ended %s: %v", res.End, err)
		}
	})
}
