// Package routing queues calls by skill and offers them to agents: the
// skill-based call router between the IVR and the agents' phones.
//
// It knows calls, agents, skills, tiers and time — nothing of SIP or flows.
// The Router is the API the SIP layer codes against; the state lives in a
// Store (memstore, embedded, or a shared Redis store), whose every method is
// one atomic domain operation. storetest holds the suite every Store passes.
//
// # Order in a queue
//
// A call's key is its virtual arrival time, enqueued_at − boost(tier); the
// lowest key is served first, ties going to the earlier enqueue (a store-wide
// sequence number). Hence: same tier, first come first served; a boosted
// caller goes ahead of lower tiers who arrived less than the difference in
// boost earlier. A call returned to the queue because the agent did not
// answer keeps its original key (and sequence, and deadline).
//
// No starvation: if call A arrived before call B − maxBoost, then
// keyA = tA − boostA ≤ tA < tB − maxBoost ≤ tB − boostB = keyB, so A is ahead of
// B, and (see matching) an agent who can take B would have taken A first. No
// caller waits more than the largest boost behind callers who came later. The
// one exception is a call waiting for its account manager (below).
//
// Unknown or empty tier names in a CallRequest are treated as "default"
// (logged), because the tier comes from customer data, which must not make a
// call fail.
//
// # Matching
//
// After every change of state (enqueue, agent ready, no-answer re-queue, end
// of wrap-up, expiry of a preferred-agent wait) the store runs one greedy pass
// in a single transaction: the waiting calls in global key order (all
// queues), each taking the best ready agent for it —
//
//   - its preferred agent (account manager), if ready, whatever their skills;
//   - otherwise, while now < enqueued_at + PreferWait and the preferred agent
//     is logged in, nobody: the call waits for them (it may still be passed
//     over by later calls);
//   - otherwise the ready agent with the queue's skill at the highest level,
//     ties to the longest idle (ready since, or end of wrap-up), then the
//     lowest id.
//
// Why this gives both rules: after each pass no waiting call can take any
// ready agent (each call it skipped had no candidate, and later calls only
// took agents away). So when one call arrives, every ready agent is free for
// it alone and it gets its best agent ("agent choice for a call"); when one
// agent becomes ready, the earlier calls that could take it come first in
// key order, so it gets the lowest-key call it can serve across all its
// queues ("call choice for an agent"). When several things change at once
// (a batch), callers are served in key order, each with its best agent.
// The pass only visits calls some ready agent could take (per-skill and
// per-preferred-agent indexes merged in key order), so its cost does not
// grow with callers waiting in queues nobody is free for.
//
// # Offer lifecycle
//
// A match marks call and agent offered under an Offer carrying a fencing
// token, strictly increasing across the store. The offer is delivered on the
// call's Ticket; the SIP layer rings the agent for the queue's RingTimeout
// and reports Answered (talking), NoAnswer (agent not_ready with the reason,
// call back in its place; a call that missed its account manager stops
// waiting for them), then Finished (wrap-up for the queue's WrapUp, then
// ready). Leave (the caller hung up) removes the call wherever it is; a
// ringing agent goes back to ready with its idle time intact, a talking one
// to wrap-up. An operation quoting an offer that is no longer current fails
// with ErrStaleOffer, so a late or repeated event can never give one agent
// two calls or one call two agents.
//
// A call whose queue has a MaxWait overflows when it has waited that long
// while queued: its Ticket gets EventOverflow and is closed. A call ringing an
// agent at its deadline is not pulled back; if it returns to the queue, it
// overflows at once.
//
// # Overrides, position and call-backs
//
// A CallRequest may override the queue's MaxWait for its call. Position
// tells a waiting call its place (1 + the waiting calls of its queue with a
// lower key) and a rough estimated wait (position × the queue's recent
// average handle time ÷ agents logged in; 0 without data), for
// announcements.
//
// A waiting caller may ask to be called back and hang up: Callback turns the
// call into a callback request (Call.Callback holds the number) that keeps
// its key, sequence and Ticket, and no longer overflows. It is matched like
// any call; the node holding the Ticket rings the agent, then calls the
// customer, and reports Answered and Finished as usual. A call-back the
// customer did not answer is queued again with CallRequest.Key set to the
// Ticket's Key, so it keeps its place.
//
// # Agent states
//
// Agents start logged_out and change state with SetAgentState: ready,
// not_ready (with a reason), logged_out. While ringing or talking, a request
// for not_ready or logged_out is kept pending and applied when the call ends
// (after wrap-up); "ready" then fails with ErrAgentBusy, as it does during
// wrap-up, which is enforced in this version. not_ready and logged_out end a
// wrap-up at once. A call can join a queue only if an agent with its skill is
// logged in (any state but logged_out); otherwise Enqueue fails with
// ErrNoAgents. An agent has at most one call at a time.
//
// # Time
//
// The clock is injected (Config.Now). Timed transitions — wrap-up end,
// max-wait overflow, preferred-agent wait expiry — are applied by
// Store.Match at the time it is given, which also reports the next time one
// is due; the Router keeps one time.AfterFunc timer for that moment (tests
// run it under testing/synctest) and exposes Tick for tests that move an
// injected clock by hand. Close stops the timer and waits for a pass in
// progress; the Router starts no other goroutines.
//
// # Event log
//
// With Config.Events set, the Router appends a QueueEvent for everything it
// does, named as in Asterisk's queue_log: ENTERQUEUE, CALLBACK, EXITEMPTY,
// AGENTCALLED (an offer; AMI's name), RINGNOANSWER, CONNECT, COMPLETE (from
// Finished) or COMPLETECALLER (Leave of a talking call), ABANDON,
// EXITWITHTIMEOUT, WRAPUP, and for agents ADDMEMBER, REMOVEMEMBER, PAUSE
// and UNPAUSE. Appends happen after the change, in the calling goroutine; an
// error is logged and never returned. Changes the store makes on its own
// are not logged: the end of a wrap-up, a pending not_ready or logout taking
// effect when a call ends, and the not_ready that follows RINGNOANSWER
// (whose Reason says why).
package routing
