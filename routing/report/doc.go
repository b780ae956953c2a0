// Package report computes contact-centre figures over call records
// (callrecord.Record) for a period — in total, per queue, per tier, per
// agent and per hour — and writes them as an aligned text table or as CSV.
// It is "kefu report" and GET /api/reports.
//
// # Definitions
//
// They are those of the live figures (package routing/stats), so that
// live and historical figures agree:
//
//   - calls: every record whose End is in [From, To), IVR-only calls
//     (abandoned_ivr, completed) included.
//   - offered: calls that entered a queue — Enqueued set — and callback
//     requests made for a queue without waiting in it (stats' "entered").
//   - answered: Answered set (disposition answered).
//   - abandoned: disposition abandoned_queue; short abandons are those whose
//     wait (End − Enqueued) is shorter than ShortAbandon (default 5 s).
//   - overflowed: calls that left their queue by overflow (OverflowReason
//     set: max_wait, no_agents, queue_full), whatever the flow did next.
//   - callbacks: disposition callback; voicemails: disposition voicemail;
//     abandoned_ivr: disposition abandoned_ivr.
//   - service level = answered within the queue's threshold (Answered −
//     Enqueued ≤ ServiceLevel[queue], default 20 s) ÷ (answered + abandoned
//     − short abandons + overflowed by max_wait). As in stats, a call refused
//     for no agents or a full queue, and a waiting call that became a
//     callback, count in neither; no value when the denominator is 0.
//   - abandon rate = (abandoned − short abandons) ÷ the same denominator.
//   - ASA = mean(Answered − Enqueued) over answered calls.
//   - AHT = mean((AgentEnd − Answered) + WrapUp) over answered calls
//     (End stands in for a missing AgentEnd).
//   - survey: per question, the mean of the answers that are numbers, and
//     how many there were; other answers (labels) are not averaged.
//
// Waits are compared in whole milliseconds, as the router's events carry
// them.
//
// # Groups
//
// Total is every call. ByQueue: calls with a queue, by their (last) queue.
// ByTier: every call by its tier ("default" when empty). ByAgent: the
// answered calls of each agent who answered — so an agent's offered equals
// answered, and its service level is the share answered within the
// threshold; ring attempts are not attributed to agents. ByHour: every call
// by the hour of its Enqueued time (else its Start) in Query.Location.
// Groups are sorted by key; hours in time order.
package report
