package ivr

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// transferKind: send the call to another number or SIP address.
//
//	to_partner:
//	  type: transfer
//	  to: "sip:desk@pbx.example.com"   # a SIP URI or a number; "= expression" computes it
//	  mode: bridge                     # bridge (default): Kefu stays in the call, the flow
//	                                   # goes on when the target hangs up; blind: SIP REFER
//	  timeout: 30s                     # how long a bridged transfer rings (default 30s)
//	  exits:
//	    after_agent: survey            # bridge only: the target hung up, the caller is still here
//	    failed: sorry                  # the target refused or could not be reached
//	    busy: sorry                    # optional (bridge): as failed when not wired
//	    no_answer: sorry               # optional (bridge): as failed when not wired
//
// A blind transfer that succeeds ends the call in Kefu: nothing after it
// runs, so after_agent is only for bridged transfers.
func transferKind() *kind {
	return &kind{
		name:   "transfer",
		fields: []string{"to", "mode", "timeout"},
		exits:  []string{string(TransferFailed)},
		optional: map[string]string{
			string(TransferAfterAgent): "",
			string(TransferBusy):       string(TransferFailed),
			string(TransferNoAnswer):   string(TransferFailed),
		},
		compile: func(c *nodeCompiler) behaviour {
			t := &transfer{mode: TransferBridge, timeout: c.duration("timeout", 30*time.Second, 5*time.Second, 5*time.Minute)}
			if e, ok := c.field("mode"); ok {
				if m, ok := c.scope.text("mode", e); ok {
					switch TransferMode(m) {
					case TransferBlind, TransferBridge:
						t.mode = TransferMode(m)
					default:
						c.errorf(e.valPos(), "mode %q is not known; use bridge or blind", m)
					}
				}
			}
			if t.mode == TransferBridge {
				c.require(string(TransferAfterAgent))
			}
			e, ok := c.field("to")
			if !ok {
				c.missing("to", "to: a SIP URI (sip:desk@pbx.example.com) or a number")
				return t
			}
			t.to = c.valueField("to", e, &varDecl{name: "to", typ: typeString})
			if t.to != nil && t.to.lit != nil {
				if why := badTarget(t.to.lit.(string)); why != "" {
					c.errorf(e.valPos(), "to %q %s", t.to.lit, why)
				}
			}
			return t
		},
	}
}

// badTarget says what is wrong with a transfer target, or "".
func badTarget(to string) string {
	if strings.HasPrefix(to, "sip:") || strings.HasPrefix(to, "sips:") {
		u, err := url.Parse(to)
		if err != nil || u.Opaque == "" || !strings.Contains(u.Opaque, "@") && !strings.Contains(u.Opaque, ".") {
			return "is not a SIP URI; write sip:user@host"
		}
		return ""
	}
	num := strings.TrimPrefix(to, "+")
	if isDigits(num) && len(num) >= 3 && len(num) <= 20 {
		return ""
	}
	return "is neither a SIP URI (sip:user@host) nor a number (digits, optionally starting with +)"
}

type transfer struct {
	to      *value
	mode    TransferMode
	timeout time.Duration
}

// terminal: a blind transfer ends the call in Kefu.
func (t *transfer) terminal() bool { return t.mode == TransferBlind }

func (t *transfer) run(ctx context.Context, v *visit) (string, error) {
	if t.to == nil {
		return "", fmt.Errorf("transfer without a valid target")
	}
	x, err := t.to.get(v.env())
	if err != nil {
		return "", err
	}
	to := fmt.Sprint(x)
	if why := badTarget(to); why != "" {
		return "", fmt.Errorf("transfer target %q %s", to, why)
	}
	v.r.trace("transfer", v.node.Name, fmt.Sprintf("%s transfer to %s", t.mode, to))
	res, err := v.call.Transfer(ctx, TransferRequest{To: to, Mode: t.mode, Timeout: t.timeout})
	if err != nil {
		return "", err
	}
	v.r.trace("transfer", v.node.Name, fmt.Sprintf("%s (status %d)", res.Outcome, res.Status))
	switch res.Outcome {
	case TransferDone:
		v.ended, v.hangupReason = EndTransfer, "transferred"
		return "", nil
	case TransferAfterAgent, TransferBusy, TransferNoAnswer, TransferFailed:
		return string(res.Outcome), nil
	}
	return "", fmt.Errorf("transfer: unknown outcome %q", res.Outcome)
}
