package ivr

import "context"

// hangupKind: optionally play a last prompt, then end the call.
//
//	goodbye:
//	  type: hangup
//	  prompt: [goodbye]     # optional, played in full before hanging up
//	  reason: normal        # optional, default "normal"; kept in the call record
func hangupKind() *kind {
	return &kind{
		name:   "hangup",
		fields: []string{"prompt", "reason"},
		compile: func(c *nodeCompiler) behaviour {
			h := &hangup{
				prompts: c.prompts("prompt", false, ""),
				reason:  c.text("reason", false, ""),
			}
			if h.reason == "" {
				h.reason = "normal"
			}
			return h
		},
	}
}

type hangup struct {
	prompts []string
	reason  string
}

func (h *hangup) run(ctx context.Context, v *visit) (string, error) {
	if len(h.prompts) > 0 {
		if err := v.play(ctx, h.prompts, false); err != nil {
			return "", err
		}
	}
	v.hangupReason = h.reason
	v.ended = EndHangup
	if err := v.call.Hangup(ctx, h.reason); err != nil && !isHangup(ctx, err) {
		return "", err
	}
	return "", nil
}
