package ivr

import "context"

// playKind: play prompts, then go on.
//
//	welcome:
//	  type: play
//	  prompt: [welcome]     # one name or a list, played in order
//	  barge_in: false       # true: a key press stops the prompt (default false)
//	  next: main_menu
func playKind() *kind {
	return &kind{
		name:   "play",
		fields: []string{"prompt", "barge_in"},
		next:   true,
		compile: func(c *nodeCompiler) behaviour {
			return &play{
				prompts: c.prompts("prompt", true, "prompt: [name, ...] saying what to play"),
				bargeIn: c.boolean("barge_in", false),
			}
		},
	}
}

type play struct {
	prompts []string
	bargeIn bool
}

// run plays the prompts. Keys pressed meanwhile stay buffered for the next
// menu (type-ahead); with barge-in they also cut the prompt short.
func (p *play) run(ctx context.Context, v *visit) (string, error) {
	if err := v.play(ctx, p.prompts, p.bargeIn); err != nil {
		return "", err
	}
	return "next", nil
}
