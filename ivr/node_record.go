package ivr

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// recordKind: record a message (voicemail).
//
//	voicemail:
//	  type: record
//	  prompt: leave_message          # optional, played first
//	  mailbox: complaints            # where the message goes (default: the flow's name)
//	  beep: true                     # default true
//	  max_length: 120s               # default 60s
//	  silence: 5s                    # end after this much silence (default 5s; 0s: never)
//	  finish_keys: "#"               # default "#"
//	  exits:
//	    ok: thanks
//	    no_audio: goodbye            # optional: as ok when not wired
func recordKind() *kind {
	return &kind{
		name:     "record",
		fields:   []string{"prompt", "mailbox", "beep", "max_length", "silence", "finish_keys"},
		exits:    []string{string(RecordOK)},
		optional: map[string]string{string(RecordNoAudio): string(RecordOK)},
		waits:    true,
		compile: func(c *nodeCompiler) behaviour {
			r := &record{
				prompt: c.prompts("prompt", false, ""),
				req: RecordRequest{
					Mailbox:    c.text("mailbox", false, ""),
					Beep:       c.boolean("beep", true),
					MaxLength:  c.duration("max_length", time.Minute, time.Second, 10*time.Minute),
					SilenceEnd: c.duration("silence", 5*time.Second, 0, time.Minute),
					FinishKeys: "#",
				},
			}
			if r.req.Mailbox == "" {
				r.req.Mailbox = c.flow.Name
			} else if e, _ := c.field("mailbox"); !validName(r.req.Mailbox) {
				c.errorf(e.valPos(), "mailbox %q is not valid: %s", r.req.Mailbox, nameRule)
			}
			if e, ok := c.field("finish_keys"); ok {
				if k, ok := c.scope.text("finish_keys", e); ok {
					for _, ch := range k {
						if !strings.ContainsRune(menuKeys, ch) {
							c.errorf(e.valPos(), "finish_keys %q: %q is not a phone key", k, ch)
						}
					}
					r.req.FinishKeys = k
				}
			}
			return r
		},
	}
}

type record struct {
	prompt []string
	req    RecordRequest
}

func (r *record) run(ctx context.Context, v *visit) (string, error) {
	if err := v.play(ctx, r.prompt, false); err != nil {
		return "", err
	}
	v.flush() // keys pressed during the prompt must not end the recording at once
	res, err := v.call.Record(ctx, r.req)
	if err != nil {
		return "", err
	}
	if res.File != "" {
		v.res.Recordings = append(v.res.Recordings, res.File)
	}
	v.r.trace("record", v.node.Name, fmt.Sprintf("%s %s (%s)", res.Outcome, res.File, res.Length.Round(time.Millisecond)))
	switch res.Outcome {
	case RecordOK, RecordNoAudio:
		return string(res.Outcome), nil
	}
	return "", fmt.Errorf("record: unknown outcome %q", res.Outcome)
}
