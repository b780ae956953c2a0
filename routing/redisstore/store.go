// Package redisstore is the shared routing.Store on Redis: several Kefu nodes
// pointing at one Redis (6 or later, or a Redis Cluster) route one set of
// queues and agents.
//
// Every method that changes state is one Lua script (sent with EVALSHA, and
// with EVAL when the server answers NOSCRIPT, as go-redis's Script.Run does),
// so taking a call, taking an agent and recording the offer happen at once
// for every node. Listings are read by a script too, so they are a
// consistent snapshot. Times are passed in by the caller and never read from
// Redis, so the store behaves like memstore under a fake clock; storetest.Run
// holds both to the same results.
//
// # Keys
//
// Every key starts with "kefu:{<prefix>}:", the prefix given to New, so all
// keys of a store share one hash tag and one Cluster slot (scripts name the
// token counter in KEYS for routing and derive the rest from the prefix):
//
//	call:<id>        hash: one call (times as 20-digit strings, see below;
//	                 wrap-up and lease as integer nanoseconds; steps as a
//	                 JSON array of {at, skill, min_level}, at a 20-digit
//	                 time, "" for nil and "[]" for empty)
//	calls            zset: every call by (key, seq), for Calls
//	q:<queue>        zset: the queued calls of a queue; score = key in ms
//	                 since the epoch, member = 6-digit ns remainder, 20-digit
//	                 seq, call id (equal scores order by member); its ZCARD
//	                 is Enqueue's MaxQueued check
//	qs:<skill>       hash: queue → number of its queued calls having skill
//	                 among their steps' skills (the matching pass's sources)
//	pref:<agent>     zset: queued calls preferring agent, as q:<queue>
//	deadline         zset: queued calls with a deadline, by (deadline, seq)
//	preferuntil      zset: queued calls waiting for their preferred agent,
//	                 by (prefer-until, seq)
//	stepat           zset: the explicit steps of queued calls by step time
//	                 (Match's Next)
//	lease            zset: offered calls with a lease, by (lease-until, seq)
//	nodecalls:<node> set: ids of the calls whose Node is node
//	node:<id>        hash: a node's heartbeat (until, lost state)
//	nodes            zset: node ids by heartbeat until, in ms
//	agent:<id>       hash: one agent; skills:<id> hash: its skill → level
//	agents           zset (score 0): every agent id, in id order
//	ready            zset (score 0): ready agent ids
//	ready:<skill>    zset (score 0): ready agents best first, member =
//	                 (5 − level) digit, idle-since, id
//	online:<skill>   set: logged-in agents with the skill (Enqueue's check)
//	wrap             zset: agents with a timer — in wrap-up, or not_ready
//	                 after a missed offer until WrapUntil — by (until, id)
//	seq, token       counters (INCR): enqueue sequence, fencing token
//	events           stream: the router's queue events (Store.EventLog)
//
// lua/common.lua describes each index and keeps them in step with the
// records. The Bus (Store.Bus) publishes on the channels
// "kefu:{<prefix>}:node:<node>".
//
// Times are stored as UnixNano with the sign bit flipped, in 20 zero-padded
// digits: exact to the nanosecond (a Lua number is a double, which is not),
// compared in Lua as two exact numbers. Sorted-set scores are whole
// milliseconds (exact in a double); the remainder and the sequence number go
// in the member, so the order is exactly memstore's (key, seq).
package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
)

var (
	//go:embed lua/common.lua
	luaCommon string
	//go:embed lua/put_agents.lua
	luaPutAgents string
	//go:embed lua/enqueue.lua
	luaEnqueue string
	//go:embed lua/match.lua
	luaMatch string
	//go:embed lua/answer.lua
	luaAnswer string
	//go:embed lua/no_answer.lua
	luaNoAnswer string
	//go:embed lua/finish.lua
	luaFinish string
	//go:embed lua/leave.lua
	luaLeave string
	//go:embed lua/callback.lua
	luaCallback string
	//go:embed lua/set_agent_state.lua
	luaSetAgentState string
	//go:embed lua/read_all.lua
	luaReadAll string
	//go:embed lua/modify.lua
	luaModify string
	//go:embed lua/heartbeat.lua
	luaHeartbeat string
)

// Store is the Redis implementation of routing.Store. It is safe for
// concurrent use by any number of goroutines and processes. The zero value is
// not usable; call New.
type Store struct {
	rdb    redis.UniversalClient
	owned  bool     // made by Dial: Close closes rdb
	base   string   // "kefu:{prefix}:"
	keys   []string // KEYS for every script: one key of the store, for slot routing
	script struct {
		putAgents, enqueue, match, answer, noAnswer, finish, leave, callback, setAgentState, readAll *redis.Script
		modify, heartbeat                                                                            *redis.Script
	}
}

var _ routing.Store = (*Store)(nil)

// New returns a Store keeping its state in client's Redis under keys
// "kefu:{prefix}:…". client is a *redis.Client (one server, or a primary
// with replicas) or a *redis.ClusterClient: all keys of the store hash to one
// slot, and the scripts name one of them, so the cluster client sends each
// script to the node owning that slot. Stores with different prefixes are
// independent. prefix
// must be non-empty and must not contain '{' or '}' (it is the hash tag). The
// caller keeps ownership of client. New does not contact Redis; the scripts
// are loaded into Redis's script cache by their first use.
func New(client redis.UniversalClient, prefix string) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: New: client is nil; pass a client from redis.NewClient or redis.NewClusterClient")
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	s := &Store{rdb: client, base: "kefu:{" + prefix + "}:"}
	s.keys = []string{s.base + "token"}
	mk := func(body string) *redis.Script { return redis.NewScript(luaCommon + "\n" + body) }
	sc := &s.script
	sc.putAgents, sc.enqueue, sc.match = mk(luaPutAgents), mk(luaEnqueue), mk(luaMatch)
	sc.answer, sc.noAnswer, sc.finish = mk(luaAnswer), mk(luaNoAnswer), mk(luaFinish)
	sc.leave, sc.callback = mk(luaLeave), mk(luaCallback)
	sc.setAgentState, sc.readAll = mk(luaSetAgentState), mk(luaReadAll)
	sc.modify, sc.heartbeat = mk(luaModify), mk(luaHeartbeat)
	return s, nil
}

// checkPrefix refuses prefixes that would break the hash tag.
func checkPrefix(prefix string) error {
	if prefix == "" || strings.ContainsAny(prefix, "{}") {
		return fmt.Errorf("redisstore: prefix %q must be non-empty and free of '{' and '}'; choose another", prefix)
	}
	return nil
}

// run runs script with the store's prefix as ARGV[1] followed by args and
// returns its reply.
func (s *Store) run(ctx context.Context, op string, script *redis.Script, args ...any) (any, error) {
	res, err := script.Run(ctx, s.rdb, s.keys, append([]any{s.base}, args...)...).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: %w (check that Redis is reachable and is version 6 or later)", op, err)
	}
	return res, nil
}

// status splits a {code, details…} script reply.
func status(op string, res any) (string, []any, error) {
	list, ok := res.([]any)
	if !ok || len(list) == 0 {
		return "", nil, fmt.Errorf("redisstore: %s: unexpected script reply %v (a Kefu version mismatch between nodes?)", op, res)
	}
	code, ok := list[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("redisstore: %s: unexpected script reply %v (a Kefu version mismatch between nodes?)", op, res)
	}
	return code, list[1:], nil
}

func detail(rest []any) string {
	if len(rest) == 0 {
		return ""
	}
	s, _ := rest[0].(string)
	return s
}

// PutAgents implements routing.Store.
func (s *Store) PutAgents(ctx context.Context, agents []routing.AgentConfig, now time.Time) error {
	type agentJSON struct {
		ID     string         `json:"id"`
		Skills map[string]int `json:"skills"`
	}
	list := make([]agentJSON, 0, len(agents))
	for _, cfg := range agents {
		if cfg.ID == "" {
			return errors.New("redisstore: agent with an empty id; give every agent an id")
		}
		sk := make(map[string]int, len(cfg.Skills))
		for skill, level := range cfg.Skills {
			if level < 1 || level > 5 {
				return fmt.Errorf("redisstore: agent %q skill %q: level %d is not 1-5", cfg.ID, skill, level)
			}
			sk[skill] = level
		}
		list = append(list, agentJSON{ID: cfg.ID, Skills: sk})
	}
	if len(list) == 0 {
		return ctx.Err()
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("redisstore: PutAgents: %w", err)
	}
	res, err := s.run(ctx, "PutAgents", s.script.putAgents, encTime(now), string(raw))
	if err != nil {
		return err
	}
	_, _, err = status("PutAgents", res)
	return err
}

// Enqueue implements routing.Store.
func (s *Store) Enqueue(ctx context.Context, call routing.Call, opts routing.EnqueueOptions) (routing.Call, error) {
	switch {
	case call.ID == "":
		return routing.Call{}, errors.New("call has an empty id")
	case call.Skill == "" || call.Queue == "":
		return routing.Call{}, fmt.Errorf("call %q: queue and skill are required", call.ID)
	}
	steps, err := encodeSteps(call.Steps)
	if err != nil {
		return routing.Call{}, fmt.Errorf("redisstore: Enqueue: call %q: %w", call.ID, err)
	}
	joinEmpty := "0"
	if opts.JoinEmpty {
		joinEmpty = "1"
	}
	res, err := s.run(ctx, "Enqueue", s.script.enqueue,
		call.ID, call.Caller, call.Queue, call.Skill, call.Tier, encTime(call.EnqueuedAt), encTime(call.Key),
		call.PreferredAgent, encTime(call.PreferUntil), encTime(call.Deadline), strconv.FormatInt(int64(call.WrapUp), 10),
		strconv.Itoa(call.Misses), call.Callback, call.Node, strconv.FormatInt(int64(call.Lease), 10), steps,
		strconv.Itoa(max(opts.MaxQueued, 0)), joinEmpty)
	if err != nil {
		return routing.Call{}, err
	}
	code, rest, err := status("Enqueue", res)
	if err != nil {
		return routing.Call{}, err
	}
	switch code {
	case "OK":
	case "DUPLICATE":
		return routing.Call{}, fmt.Errorf("call %q: %w", call.ID, routing.ErrDuplicateCall)
	case "NO_AGENTS":
		return routing.Call{}, fmt.Errorf("skills of call %q: %w", call.ID, routing.ErrNoAgents)
	case "QUEUE_FULL":
		return routing.Call{}, fmt.Errorf("queue %q holds %s queued calls: %w", call.Queue, detail(rest), routing.ErrQueueFull)
	default:
		return routing.Call{}, unexpected("Enqueue", code)
	}
	if call.Seq, err = strconv.ParseUint(detail(rest), 10, 64); err != nil {
		return routing.Call{}, fmt.Errorf("redisstore: Enqueue: sequence %v: %w", rest, err)
	}
	call.State = routing.CallQueued
	call.AgentID, call.Token, call.OfferedAt, call.AnsweredAt = "", 0, time.Time{}, time.Time{}
	call.LeaseUntil = time.Time{}
	return call.Clone(), nil
}

func unexpected(op, code string) error {
	return fmt.Errorf("redisstore: %s: unexpected script status %q (a Kefu version mismatch between nodes?)", op, code)
}

// offerOp runs one of the scripts that act on a current offer (answer,
// no_answer, finish), maps its status to the routing errors and returns the
// details of an OK reply.
func (s *Store) offerOp(ctx context.Context, op string, script *redis.Script, o routing.Offer, want routing.CallState, args ...any) ([]any, error) {
	res, err := s.run(ctx, op, script, append([]any{o.CallID, o.AgentID, strconv.FormatUint(o.Token, 10)}, args...)...)
	if err != nil {
		return nil, err
	}
	code, rest, err := status(op, res)
	if err != nil {
		return nil, err
	}
	switch code {
	case "OK":
		return rest, nil
	case "UNKNOWN_AGENT":
		return nil, fmt.Errorf("agent %q: %w", o.AgentID, routing.ErrUnknownAgent)
	case "GONE":
		return nil, fmt.Errorf("call %q has gone: %w: %w", o.CallID, routing.ErrStaleOffer, routing.ErrUnknownCall)
	case "STALE":
		return nil, fmt.Errorf("call %q is not offered to agent %q with token %d (current token %s): %w",
			o.CallID, o.AgentID, o.Token, detail(rest), routing.ErrStaleOffer)
	case "WRONG_STATE":
		return nil, fmt.Errorf("call %q is %s, not %s: %w", o.CallID, detail(rest), want, routing.ErrStaleOffer)
	}
	return nil, unexpected(op, code)
}

// Answer implements routing.Store.
func (s *Store) Answer(ctx context.Context, offer routing.Offer, now time.Time) (routing.Call, error) {
	rest, err := s.offerOp(ctx, "Answer", s.script.answer, offer, routing.CallOffered, encTime(now))
	if err != nil {
		return routing.Call{}, err
	}
	return oneCall("Answer", rest)
}

// NoAnswer implements routing.Store.
func (s *Store) NoAnswer(ctx context.Context, offer routing.Offer, miss routing.Miss, now time.Time) error {
	if miss.Reason == "" {
		miss.Reason = routing.ReasonNoAnswer
	}
	_, err := s.offerOp(ctx, "NoAnswer", s.script.noAnswer, offer, routing.CallOffered,
		miss.Reason, encTime(miss.Until), strconv.Itoa(max(miss.MaxMisses, 0)), encTime(now))
	return err
}

// Finish implements routing.Store.
func (s *Store) Finish(ctx context.Context, offer routing.Offer, now time.Time) (routing.Call, error) {
	rest, err := s.offerOp(ctx, "Finish", s.script.finish, offer, routing.CallTalking, encTime(now))
	if err != nil {
		return routing.Call{}, err
	}
	return oneCall("Finish", rest)
}

// Leave implements routing.Store.
func (s *Store) Leave(ctx context.Context, callID string, now time.Time) (routing.Call, error) {
	res, err := s.run(ctx, "Leave", s.script.leave, callID, encTime(now))
	if err != nil {
		return routing.Call{}, err
	}
	code, rest, err := status("Leave", res)
	if err != nil {
		return routing.Call{}, err
	}
	switch code {
	case "OK":
	case "UNKNOWN_CALL":
		return routing.Call{}, fmt.Errorf("call %q: %w", callID, routing.ErrUnknownCall)
	default:
		return routing.Call{}, unexpected("Leave", code)
	}
	return oneCall("Leave", rest)
}

func oneCall(op string, rest []any) (routing.Call, error) {
	if len(rest) != 1 {
		return routing.Call{}, unexpected(op, fmt.Sprint(rest))
	}
	c, err := decodeCall(rest[0])
	if err != nil {
		return routing.Call{}, fmt.Errorf("redisstore: %s: %w (a Kefu version mismatch between nodes?)", op, err)
	}
	return c, nil
}

// Callback implements routing.Store.
func (s *Store) Callback(ctx context.Context, callID, number string, now time.Time) (routing.Call, error) {
	if number == "" {
		return routing.Call{}, fmt.Errorf("call %q: callback number is empty", callID)
	}
	res, err := s.run(ctx, "Callback", s.script.callback, callID, number, encTime(now))
	if err != nil {
		return routing.Call{}, err
	}
	code, rest, err := status("Callback", res)
	if err != nil {
		return routing.Call{}, err
	}
	switch code {
	case "OK":
	case "UNKNOWN_CALL":
		return routing.Call{}, fmt.Errorf("call %q: %w", callID, routing.ErrUnknownCall)
	case "NOT_WAITING":
		return routing.Call{}, fmt.Errorf("call %q is talking to agent %q: %w", callID, detail(rest), routing.ErrNotWaiting)
	default:
		return routing.Call{}, unexpected("Callback", code)
	}
	return oneCall("Callback", rest)
}

// SetAgentState implements routing.Store.
func (s *Store) SetAgentState(ctx context.Context, agentID string, state routing.AgentState, reason string, force bool, now time.Time) (routing.Agent, error) {
	f := "0"
	if force {
		f = "1"
	}
	res, err := s.run(ctx, "SetAgentState", s.script.setAgentState, agentID, string(state), reason, f, encTime(now))
	if err != nil {
		return routing.Agent{}, err
	}
	code, rest, err := status("SetAgentState", res)
	if err != nil {
		return routing.Agent{}, err
	}
	switch code {
	case "OK":
	case "UNKNOWN_AGENT":
		return routing.Agent{}, fmt.Errorf("agent %q: %w", agentID, routing.ErrUnknownAgent)
	case "BUSY":
		return routing.Agent{}, fmt.Errorf("agent %q is %s: %w", agentID, detail(rest), routing.ErrAgentBusy)
	case "INVALID_STATE":
		return routing.Agent{}, fmt.Errorf("agent %q: state %q: %w", agentID, state, routing.ErrInvalidState)
	default:
		return routing.Agent{}, unexpected("SetAgentState", code)
	}
	if len(rest) != 1 {
		return routing.Agent{}, unexpected("SetAgentState", fmt.Sprint(rest))
	}
	a, err := decodeAgent(rest[0])
	if err != nil {
		return routing.Agent{}, fmt.Errorf("redisstore: SetAgentState: %w (a Kefu version mismatch between nodes?)", err)
	}
	return a, nil
}

// Match implements routing.Store.
func (s *Store) Match(ctx context.Context, now time.Time) (routing.MatchResult, error) {
	res, err := s.run(ctx, "Match", s.script.match, encTime(now))
	if err != nil {
		return routing.MatchResult{}, err
	}
	out, err := decodeMatch(res)
	if err != nil {
		return routing.MatchResult{}, fmt.Errorf("redisstore: Match: %w (a Kefu version mismatch between nodes?)", err)
	}
	return out, nil
}

// Modify implements routing.Store.
func (s *Store) Modify(ctx context.Context, callID string, change routing.CallChange, now time.Time) (routing.Call, error) {
	hasSteps, steps := "0", ""
	if change.Steps != nil {
		var err error
		if steps, err = encodeSteps(change.Steps); err != nil {
			return routing.Call{}, fmt.Errorf("redisstore: Modify: call %q: %w", callID, err)
		}
		hasSteps = "1"
	}
	res, err := s.run(ctx, "Modify", s.script.modify, callID, change.Tier, encTime(change.Key), change.Queue, change.Skill,
		hasSteps, steps, strconv.FormatInt(int64(change.WrapUp), 10), strconv.FormatInt(int64(change.Lease), 10),
		change.PreferredAgent, encTime(change.PreferUntil), encTime(now))
	if err != nil {
		return routing.Call{}, err
	}
	code, rest, err := status("Modify", res)
	if err != nil {
		return routing.Call{}, err
	}
	switch code {
	case "OK":
	case "UNKNOWN_CALL":
		return routing.Call{}, fmt.Errorf("call %q: %w", callID, routing.ErrUnknownCall)
	case "NOT_WAITING":
		return routing.Call{}, fmt.Errorf("call %q is %s: %w", callID, detail(rest), routing.ErrNotWaiting)
	default:
		return routing.Call{}, unexpected("Modify", code)
	}
	return oneCall("Modify", rest)
}

// Heartbeat implements routing.Store.
func (s *Store) Heartbeat(ctx context.Context, node routing.Node) error {
	if node.ID == "" {
		return errors.New("redisstore: heartbeat of a node with an empty id")
	}
	res, err := s.run(ctx, "Heartbeat", s.script.heartbeat, node.ID, encTime(node.Until), string(node.LostState))
	if err != nil {
		return err
	}
	code, _, err := status("Heartbeat", res)
	if err != nil {
		return err
	}
	if code != "OK" {
		return unexpected("Heartbeat", code)
	}
	return nil
}

// decodeMatch converts match.lua's reply {offers, overflowed, wrap_ended,
// next, lost, lost_nodes, expired}.
func decodeMatch(res any) (routing.MatchResult, error) {
	var out routing.MatchResult
	parts, ok := res.([]any)
	if !ok || len(parts) != 7 {
		return out, fmt.Errorf("unexpected reply %v", res)
	}
	next, ok := parts[3].(string)
	if !ok {
		return out, fmt.Errorf("unexpected next %v", parts[3])
	}
	var err error
	if out.Offers, err = decodeOffers(parts[0]); err != nil {
		return out, err
	}
	if out.Overflowed, err = decodeCalls(parts[1]); err != nil {
		return out, err
	}
	if out.WrapEnded, err = decodeStrings(parts[2]); err != nil {
		return out, err
	}
	if out.Lost, err = decodeCalls(parts[4]); err != nil {
		return out, err
	}
	if out.LostNodes, err = decodeStrings(parts[5]); err != nil {
		return out, err
	}
	if out.Expired, err = decodeOffers(parts[6]); err != nil {
		return out, err
	}
	if out.Next, err = decTime(next); err != nil {
		return out, fmt.Errorf("next: %w", err)
	}
	return out, nil
}

// decodeOffers converts flat (call, agent, queue, token, at, node) sextuples.
func decodeOffers(v any) ([]routing.Offer, error) {
	list, err := decodeStrings(v)
	if err != nil || len(list)%6 != 0 {
		return nil, fmt.Errorf("unexpected offers %v", v)
	}
	var out []routing.Offer
	for i := 0; i < len(list); i += 6 {
		o := routing.Offer{CallID: list[i], AgentID: list[i+1], Queue: list[i+2], Node: list[i+5]}
		if o.Token, err = strconv.ParseUint(list[i+3], 10, 64); err != nil {
			return nil, fmt.Errorf("offer token %q: %w", list[i+3], err)
		}
		if o.At, err = decTime(list[i+4]); err != nil {
			return nil, fmt.Errorf("offer of %q: %w", o.CallID, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// decodeCalls converts an array of call field lists.
func decodeCalls(v any) ([]routing.Call, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("unexpected calls %v", v)
	}
	var out []routing.Call
	for _, raw := range list {
		c, err := decodeCall(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// decodeStrings converts an array of strings.
func decodeStrings(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("unexpected list %v", v)
	}
	var out []string
	for _, raw := range list {
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected list element %v", raw)
		}
		out = append(out, s)
	}
	return out, nil
}

// Calls implements routing.Store.
func (s *Store) Calls(ctx context.Context) ([]routing.Call, error) {
	return readList(ctx, s, "Calls", "calls", decodeCall)
}

// Agents implements routing.Store.
func (s *Store) Agents(ctx context.Context) ([]routing.Agent, error) {
	return readList(ctx, s, "Agents", "agents", decodeAgent)
}

// readList reads every call or agent in one script (a consistent snapshot)
// and decodes each.
func readList[T any](ctx context.Context, s *Store, op, what string, decode func(any) (T, error)) ([]T, error) {
	res, err := s.run(ctx, op, s.script.readAll, what)
	if err != nil {
		return nil, err
	}
	list, ok := res.([]any)
	if !ok {
		return nil, unexpected(op, fmt.Sprint(res))
	}
	var out []T
	for _, raw := range list {
		v, err := decode(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: %s: %w (a Kefu version mismatch between nodes?)", op, err)
		}
		out = append(out, v)
	}
	return out, nil
}
