// Package stats computes contact-centre figures — service level, average
// speed of answer, abandon rate, average handle time, occupancy and the
// counts behind them — per queue, per tier and per queue and tier, over
// sliding windows, from the router's queue events (routing.QueueEvent).
//
// *Stats is a routing.EventLog: the router appends its events to it. It
// counts into a Backend: Memory for a single node, or Redis for several
// Kefu nodes sharing one Redis, whose figures are then global. Both give
// identical figures for the same events: Stats decides what an event counts
// as; a backend only adds counters.
//
// # What each event counts as
//
// An event is counted under its Queue and its Tier ("default" when empty);
// an event without a queue is not counted.
//
//   - ENTERQUEUE: entered.
//   - CALLBACK: callbacks; also entered when WaitMS is 0 — a new callback
//     request. A waiting call that became a callback (WaitMS > 0, its wait
//     so far) was counted as entered by its ENTERQUEUE.
//   - CONNECT: answered; WaitMS (enqueue to answer) adds to the answered
//     wait and to the longest answered wait; answered_in_sl when WaitMS ≤
//     the queue's service-level threshold (QueueConfig.ServiceLevel,
//     default 20s).
//   - COMPLETE, COMPLETECALLER, COMPLETEAGENT: completed; the handle time
//     is TalkMS plus the queue's configured wrap-up (QueueConfig.WrapUp),
//     the time the router keeps the agent in wrap_up after the call.
//   - ABANDON: abandoned; short_abandoned too when WaitMS < ShortAbandon
//     (default 5s).
//   - EXITWITHTIMEOUT: overflowed.
//   - RINGNOANSWER: ring_no_answer.
//   - EXITEMPTY: exit_empty (refused, or sent out of the queue, because no
//     agent with its skill was logged in); FULL: full (refused because the
//     queue was full). Neither is in the service level or abandon rate.
//
// Other events (AGENTCALLED, MOVE, REPRIORITIZE, WRAPUP, PAUSE, …) count
// for nothing. A call a supervisor MOVEs to another queue is entered in
// the first queue and has its outcome in the second; totals and tiers are
// unaffected. An event counts in the window its Time falls in, not the window
// of the call's other events: a call entered at 09:59 and answered at 10:01
// is entered in one 1-minute window and answered in the next.
//
// # Formulas
//
// With resolved = answered + abandoned − short_abandoned + overflowed (the
// calls whose wait ended in the window, short abandons left out — they hung
// up before anyone could have answered):
//
//	service_level = answered_in_sl / resolved
//	abandon_rate  = (abandoned − short_abandoned) / resolved
//	asa_s         = Σ CONNECT WaitMS / answered / 1000
//	aht_s         = Σ (TalkMS + wrap-up) / completed / 1000
//	longest_wait_answered_s = max CONNECT WaitMS / 1000
//	occupancy     = busy_s / staffed_s
//
// This is the usual service level in which abandons count against the
// queue: Asterisk's SL2 denominator (answered + abandoned), except that an
// abandon never counts as met (SL2 counts one within the threshold as met),
// short abandons are left out (the common short-abandon threshold), and
// overflowed calls count against it because the queue did not answer them.
// A call still waiting at the end of the window does not count yet.
// Asterisk's plain SL, answered_in_sl / answered, follows from the counts.
// A ratio or average whose denominator is 0 is null (nil), never NaN.
//
// Per tier figures sum every queue; per queue figures sum every tier; the
// total sums everything. Maxima take the largest.
//
// # Occupancy
//
// Occupancy comes from samples of the agents' states, not from events.
// Time is divided into slots of SampleInterval (default 15s). The first
// Sample in a slot — on any node sharing the backend: in Redis a SET NX on
// the slot's key decides — counts every agent for the whole slot: staffed
// when ready, offered, talking or wrap_up (logged in and not on a break),
// busy when offered, talking or wrap_up. Overall, and per configured queue
// for the agents having its skill (an agent with several skills counts in
// each of their queues; busy on a call of any of them). Run samples
// periodically. A node that claims a slot and fails to write it loses that
// slot's sample.
//
// # Windows and precision
//
// Each window (default 5m, 15m, 1h, 24h) is divided into Buckets buckets
// (default 60) aligned on the Unix epoch: 5s buckets for 5 minutes, 15s for
// 15 minutes, 1m for an hour, 24m for a day. An event is added to the
// bucket holding its time in every window. A window read at time now sums
// the bucket holding now and the Buckets buckets before it, so it covers
// from the start of its oldest bucket to now: between the window's length
// and the length plus one bucket (5m to 5m5s, 24h to 24h24m). (An event
// dated ahead of the clock, by another node's clock, counts once its
// bucket is the current one.) An event older than that is no longer
// counted anywhere; Append skips events already out of every window.
//
// Memory keeps at most Buckets+1 buckets per window (plus any dated up to a
// minute ahead, for clock skew between nodes). Redis keeps one hash (and,
// for the longest wait, one sorted set) per bucket and window, expiring a
// minute after the bucket has left its window; an event is one MULTI/EXEC
// of HINCRBY, ZADD GT and PEXPIRE, and a snapshot one pipeline of HGETALL
// and ZRANGE, for (Buckets+1)·len(Windows) buckets.
//
// The clock (Config.Now) decides what is still in a window; events carry
// their own time. Nodes sharing Redis should have synchronised clocks.
package stats
