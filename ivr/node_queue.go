package ivr

import (
	"context"
	"fmt"
)

// queueKind: put the call in a queue and go on by how it left.
//
//	billing:
//	  type: queue
//	  queue: billing        # a queue name from the server configuration
//	  music: hold_music     # optional prompt looped while waiting
//	  exits:
//	    after_agent: thanks # the agent hung up; the caller is still on the line
//	    max_wait: sorry     # the queue's maximum wait passed
//	    no_agents: sorry    # nobody is logged in who could take the call
func queueKind() *kind {
	return &kind{
		name:   "queue",
		fields: []string{"queue", "music"},
		exits:  []string{string(QueueAnswered), string(QueueMaxWait), string(QueueNoAgents)},
		waits:  true,
		compile: func(c *nodeCompiler) behaviour {
			return &queue{
				queue: c.queue("queue", "queue: <name> naming a queue from the server configuration"),
				music: c.prompt("music"),
			}
		},
	}
}

type queue struct {
	queue string
	music string
}

func (q *queue) run(ctx context.Context, v *visit) (string, error) {
	res, err := v.call.Queue(ctx, QueueRequest{Queue: q.queue, Music: q.music})
	if err != nil {
		return "", err
	}
	v.queued(q.queue, res)
	switch res.Outcome {
	case QueueAnswered, QueueMaxWait, QueueNoAgents:
		return string(res.Outcome), nil
	}
	return "", fmt.Errorf("queue %q: unknown outcome %q", q.queue, res.Outcome)
}
