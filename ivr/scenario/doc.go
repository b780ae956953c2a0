// Package scenario runs scenario tests of IVR flows: YAML files that say
// who calls, when, what the caller presses and how the outside world
// answers (customer directory, CRM webhooks, operations switches, queues),
// and what must happen in the flow. Each case is one simulated call run
// in-process with the engine (ivr.Run) against an ivrtest.ScriptedCall: no
// SIP, no network, a fake clock. Run reports each case's failures and the
// node and exit coverage of the flows across all cases.
//
// A scenario file (flows/tests/*.yaml):
//
//	kind: test                      # optional
//	flow: main                      # the flow the cases call
//	description: main hotline       # optional
//	defaults:                       # optional: setup shared by every case
//	  caller: "13800000005"
//	  at: 2026-11-25T10:00:00+08:00
//	cases:
//	  - name: five-star caller goes to the VIP queue
//	    caller: "13800000005"       # quoted text (default 13800138000)
//	    called: "10086"             # optional (default 10086)
//	    at: 2026-11-25T10:00:00+08:00   # RFC 3339 with offset (default 2026-01-05T10:00:00+08:00, a Monday)
//	    customer: {stars: 5, vip: true, tier: five_star, manager: "1001", brand: GoTone}
//	                                # or {not_found: true}, {error: true}; none: not found
//	    webhooks:                   # by URL prefix, longest first; other URLs fail to connect
//	      "http://crm/": {status: 200, body: {balance: "42.50"}}
//	      "http://billing/": {error: true}
//	    switches: {announce.outage: true, emergency.hotline: false}
//	    keys: ["1", "-", "12345678#", hangup]   # ivrtest script tokens, or one quoted line
//	    queue: [max_wait, "after_agent:1001"]   # how successive queue nodes end
//	    max_steps: 50               # optional step budget
//	    expect:
//	      path: [welcome, main_menu]   # exact; or path_includes (in order),
//	                                   # path_ends_with, path_excludes
//	      end: hangup                  # hangup, caller_hangup, transferred, error, step_budget
//	      node: thanks                 # where the call ended
//	      reason: served               # the hangup node's reason
//	      error: "webhook"             # text the run's error contains
//	      prompts_include: [welcome]   # prompt ids played, in this order
//	      prompts_exclude: [outage_notice]
//	      says: ["42.50"]              # text the speech engine was asked to say
//	      queue: {name: vip, tier: five_star, preferred_agent: "1001", outcome: after_agent, agent: "1001"}
//	      queues: [billing, vip]       # every queue the call was put in, in order
//	      vars: {account_no: "****"}   # values as the call record shows them (masked)
//	      survey: {satisfaction: "5"}
//	      language: en
//	      milestones: [main_menu]      # exact
//	      transcript_include: ["transfer bridge"]   # text of the caller's side, in order
//
// Parsing is strict: unknown keys, duplicate keys and values of the wrong
// type are errors at file:line:col. A case also fails when the call ends
// before using all its keys or queue outcomes, when the run ends in an
// error no expectation asked for, or when an expectation names a node or
// prompt the flow does not have.
package scenario
