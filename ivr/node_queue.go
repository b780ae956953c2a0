package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Limits of queue fields.
const (
	maxQueueWait    = 2 * time.Hour
	minAnnounceGap  = 10 * time.Second
	maxPreferWait   = 10 * time.Minute
	defaultAnnounce = 45 * time.Second
)

// queueKind: put the call in a queue and go on by how it left.
//
//	billing:
//	  type: queue
//	  queue: billing              # a queue name from the server configuration
//	  music: hold_music           # optional prompt looped while waiting
//	  tier: "= customer.vip ? 'vip' : ''"   # optional: override the caller's tier ("" keeps it)
//	  preferred_agent: "= customer.manager" # optional: offer to this agent first…
//	  preferred_wait: 30s                   # …waiting this long for them (default: the queue's)
//	  max_wait: 5m                # optional: overrides the queue's maximum wait
//	  announce:                   # optional: position and estimated wait
//	    every: 45s
//	    prompt: queue_position    # a prompt whose text uses ${queue.position}, ${queue.wait_minutes}
//	  callback:                   # optional: offer a call back instead of waiting
//	    key: "1"
//	    after: 60s                # first offer after this long in the queue
//	    min_wait: 2m              # only when the estimated wait is at least this
//	    prompt: callback_offer
//	  exits:
//	    after_agent: survey       # the agent hung up; the caller is still on the line
//	    max_wait: sorry           # the maximum wait passed
//	    no_agents: sorry          # nobody is logged in who could take the call
//	    queue_full: sorry         # optional: the queue holds its max_queued callers (default: no_agents)
//	    callback: callback_ok     # required with callback: the caller asked for a call back
func queueKind() *kind {
	return &kind{
		name:     "queue",
		fields:   []string{"queue", "music", "tier", "preferred_agent", "preferred_wait", "max_wait", "announce", "callback"},
		exits:    []string{string(QueueAnswered), string(QueueMaxWait), string(QueueNoAgents)},
		optional: map[string]string{string(QueueCallback): "", string(QueueFull): string(QueueNoAgents)},
		waits:    true,
		compile: func(c *nodeCompiler) behaviour {
			q := &queue{
				queue:         c.queue("queue", "queue: <name> naming a queue from the server configuration"),
				music:         c.prompt("music"),
				tier:          c.textValue("tier"),
				preferred:     c.textValue("preferred_agent"),
				preferredWait: c.duration("preferred_wait", 0, 0, maxPreferWait),
				maxWait:       c.duration("max_wait", 0, 10*time.Second, maxQueueWait),
			}
			if e, ok := c.field("announce"); ok {
				q.announce = compileQueueAnnounce(c, e)
			}
			if e, ok := c.field("callback"); ok {
				q.callback = compileQueueCallback(c, e)
				c.require(string(QueueCallback))
			}
			return q
		},
	}
}

type queueAnnounce struct {
	every  time.Duration
	prompt []string
}

type queueCallback struct {
	key     rune
	after   time.Duration
	minWait time.Duration
	prompt  []string
}

func subFields(c *nodeCompiler, e entry, what string, allowed []string) (nodeCompiler, bool) {
	entries, ok := c.mapEntries(e.val, e.keyPos, what, dupField)
	if !ok {
		return nodeCompiler{}, false
	}
	sub := *c
	sub.scope = scope{issues: c.issues, prefix: c.prefix + what + ": "}
	sub.fields = sub.scope.fields(entries, allowed, what)
	return sub, true
}

func compileQueueAnnounce(c *nodeCompiler, e entry) *queueAnnounce {
	sub, ok := subFields(c, e, "announce", []string{"every", "prompt"})
	if !ok {
		return nil
	}
	return &queueAnnounce{
		every:  sub.duration("every", defaultAnnounce, minAnnounceGap, 10*time.Minute),
		prompt: sub.prompts("prompt", true, "prompt: a prompt saying the position, e.g. with ${queue.position}"),
	}
}

func compileQueueCallback(c *nodeCompiler, e entry) *queueCallback {
	sub, ok := subFields(c, e, "callback", []string{"key", "after", "min_wait", "prompt"})
	if !ok {
		return nil
	}
	cb := &queueCallback{
		key:     '1',
		after:   sub.duration("after", 30*time.Second, 0, maxQueueWait),
		minWait: sub.duration("min_wait", 0, 0, maxQueueWait),
		prompt:  sub.prompts("prompt", true, "prompt: the offer, e.g. \"to be called back, press 1\""),
	}
	if ke, ok := sub.field("key"); ok {
		if k, ok := sub.scope.text("key", ke); ok {
			if len(k) != 1 || !strings.Contains(menuKeys, k) {
				sub.errorf(ke.valPos(), "key %q is not a phone key; use one of 0-9 * #, quoted", k)
			} else if _, quoted := ke.val.(*ast.StringNode); quoted {
				cb.key = rune(k[0])
			}
		}
	}
	return cb
}

type queue struct {
	queue         string
	music         string
	tier          *value
	preferred     *value
	preferredWait time.Duration
	maxWait       time.Duration
	announce      *queueAnnounce
	callback      *queueCallback
}

func (q *queue) run(ctx context.Context, v *visit) (string, error) {
	env := v.env()
	req := QueueRequest{Queue: q.queue, PreferredWait: q.preferredWait, MaxWait: q.maxWait}
	if q.music != "" {
		if names := v.resolve(ctx, []string{q.music}); len(names) > 0 {
			req.Music = names[0]
		}
	}
	for _, f := range []struct {
		val *value
		dst *string
	}{{q.tier, &req.Tier}, {q.preferred, &req.PreferredAgent}} {
		if f.val == nil {
			continue
		}
		x, err := f.val.get(env)
		if err != nil {
			return "", err
		}
		*f.dst = fmt.Sprint(x)
	}
	flow, lang, speak := v.fr.flow, v.r.lang, v.r.speak
	statusEnv := func(st QueueStatus) map[string]any {
		e := make(map[string]any, len(env))
		for k, x := range env {
			e[k] = x
		}
		qv := QueueVars{Name: q.queue, Position: st.Position, WaitMinutes: int((st.EstimatedWait + time.Minute - 1) / time.Minute)}
		e["queue"] = qv
		return e
	}
	noTrace := func(string, string) {}
	if a := q.announce; a != nil {
		req.Announce = &QueueAnnounce{Every: a.every, Prompts: func(ctx context.Context, st QueueStatus) ([]string, error) {
			return flow.resolve(ctx, a.prompt, lang, statusEnv(st), speak, noTrace), nil
		}}
	}
	if cb := q.callback; cb != nil {
		req.Callback = &CallbackOffer{Key: cb.key, After: cb.after, MinWait: cb.minWait,
			Prompts: flow.resolve(ctx, cb.prompt, lang, env, speak, noTrace)}
	}
	v.r.trace("queue", v.node.Name, fmt.Sprintf("queue %s (tier %q, preferred agent %q)", q.queue, req.Tier, req.PreferredAgent))
	res, err := v.call.Queue(ctx, req)
	if err != nil {
		if errors.Is(err, ErrHangup) || ctx.Err() != nil {
			// The caller hung up in the queue (no outcome: abandoned) or
			// while talking to the agent (answered, with the agent).
			v.queued(q.queue, res)
		}
		return "", err
	}
	v.queued(q.queue, res)
	v.r.trace("queue", v.node.Name, fmt.Sprintf("left queue %s: %s %s", q.queue, res.Outcome, res.AgentID))
	switch res.Outcome {
	case QueueAnswered, QueueMaxWait, QueueNoAgents, QueueFull:
		return string(res.Outcome), nil
	case QueueCallback:
		if q.callback == nil {
			return "", fmt.Errorf("queue %q: a call back was asked for but the node offers none", q.queue)
		}
		return string(res.Outcome), nil
	}
	return "", fmt.Errorf("queue %q: unknown outcome %q", q.queue, res.Outcome)
}
