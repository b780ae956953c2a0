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
//   - otherwise, for each skill step the call has reached (in order), the
//     ready agent with the step's skill at the highest level, ties to the
//     longest idle (ready since, or end of wrap-up), then the lowest id —
//     taken if their level is at least the step's minimum. The first step
//     with such an agent chooses.
//
// Skill steps (QueueConfig.Steps) widen a queue while a call waits without
// it losing its place: e.g. level 4+ from the start, any level after 30 s,
// a second skill after 60 s. A step reached is a timed transition like any
// other (Match reports it as Next). Without steps a queue has one: its
// skill at any level.
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
// and reports Answered (talking), NoAnswer (call back in its place; a call
// that missed its account manager stops waiting for them; the agent: see
// Agent states), then Finished (wrap-up for the queue's WrapUp, then
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
// Every offer also carries a lease, RingTimeout + LeaseGrace: an offer still
// unanswered when it passes (its node lost the event, or never got it) is
// withdrawn by Match — the call goes back in line, the agent back to ready
// with its idle time intact — so no agent stays "reserved" for a call
// nobody is ringing.
//
// # Several nodes
//
// Kefu nodes sharing one Redis share one store; each is named
// (Config.Node) and marks the calls it queues as its own (Call.Node), since
// their SIP dialogs live there. Any node's matching pass may offer any call;
// an offer for another node's call travels on the Bus (Redis pub/sub) to
// that node, which hands it to the Ticket. Router.Run heartbeats every
// NodeTTL/4. When a node's heartbeat lapses, the next Match on any node
// recovers it: its calls leave the store (the callers were on that node's
// dialogs), agents ringing for them are ready again, agents talking on them
// become not_ready with ReasonNodeLost (or, by Config.LostAgentState, go
// through wrap-up to ready). A node restarts under a new name, so a
// restarted node is never mistaken for the lost one.
//
// Store operations that fail because the store cannot be reached (not
// because the routing state refuses them) are kept and retried by Run:
// Finished, NoAnswer and Leave after a Redis outage still happen, so no
// agent stays talking on a call that ended during the outage. Calls already
// connected never depend on the store: their media and signalling are the
// SIP layer's.
//
// # Supervisor operations
//
// Reprioritize gives a waiting call a new tier and an extra priority (its
// key becomes enqueued_at − boost − priority, at once); Move sends it to
// another queue keeping its key; MoveToAgent sends it to a named agent, who
// is offered it first and waited for; ForceAgentState is SetAgentState that
// may also end a wrap-up. These are the only changes to a key after enqueue.
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
// wrap-up, which is enforced across all queues (an agent has one state, not
// one per queue). not_ready and logged_out end a wrap-up at once. An agent
// has at most one call at a time.
//
// An agent who misses an offer is not ready for a delay that depends on how
// (Config.Misses: ring timeout 10 s, busy 5 s, rejected 5 s, anything else
// 10 s by default), then ready again by itself; the delay is never zero, so
// the call just missed is never offered again at once to the same agent.
// After MaxInRow misses in a row (3) the agent stays not_ready with
// ReasonNotResponding until it asks to be ready. A pending not_ready or
// logout takes precedence. The SIP layer logs an agent in (not ready) when
// its phone registers and out when the registration ends or expires, so an
// agent whose registration expired is never offered a call.
//
// # Joining and leaving
//
// A call can join a queue only if an agent with one of its skills is logged
// in (any state but logged_out), unless the queue has JoinEmpty; otherwise
// Enqueue fails with ErrNoAgents. A queue with MaxQueued refuses callers
// beyond that many waiting with ErrQueueFull. A LeaveWhenEmpty queue sends
// its waiting callers an overflow (reason "empty") when its last agent logs
// out.
//
// # Time
//
// The clock is injected (Config.Now). Timed transitions — wrap-up end,
// max-wait overflow, preferred-agent wait expiry — are applied by
// Store.Match at the time it is given, which also reports the next time one
// is due; the Router keeps one time.AfterFunc timer for that moment (tests
// run it under testing/synctest) and exposes Tick for tests that move an
// injected clock by hand. Close stops the timer and waits for a pass in
// progress. The only goroutine is the caller's Run.
//
// # Event log
//
// With Config.Events set, the Router appends a QueueEvent for everything it
// does, named as in Asterisk's queue_log: ENTERQUEUE, CALLBACK, EXITEMPTY,
// FULL, MOVE and REPRIORITIZE (supervisor operations),
// AGENTCALLED (an offer; AMI's name), RINGNOANSWER, CONNECT, COMPLETE (from
// Finished) or COMPLETECALLER (Leave of a talking call), ABANDON,
// EXITWITHTIMEOUT, WRAPUP, and for agents ADDMEMBER, REMOVEMEMBER, PAUSE
// and UNPAUSE. Appends happen after the change, in the calling goroutine; an
// error is logged and never returned. Changes the store makes on its own
// are not logged: the end of a wrap-up, a pending not_ready or logout taking
// effect when a call ends, and the not_ready that follows RINGNOANSWER
// (whose Reason says why).
package routing
