// Package ivr loads IVR flows from YAML files and runs them against a call.
//
// A flow is a graph of named nodes (play, menu, queue, hangup) written in
// one YAML file per flow; flows/README.md describes the format for the
// people who edit it. Loading goes decode → compile → validate: the decode
// is strict (unknown keys, wrong types and duplicate keys are errors), every
// reference is checked (nodes, prompts, queues) and the graph is checked
// (silent loops are errors; unreachable nodes and dead ends are warnings).
// Every problem is an Issue with file:line:col and a hint, all of a set
// reported at once in a *LoadError; a set with an error is never returned,
// so a bad edit cannot replace a working one.
//
// Run walks a loaded Flow for one call through the Call interface, which
// the SIP layer implements for real calls and ivrtest.ScriptedCall for
// tests and the simulator. The engine never waits on its own; a step
// budget ends a flow that loops.
//
// Node types are listed in one table (builtinKinds); each type is one file
// with its fields, exits, compile step and run step.
package ivr
