package memstore

import (
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/go-memdb"

	"kefu/routing"
)

// Tables.
const (
	tableCalls    = "calls"
	tableAgents   = "agents"
	tableCounters = "counters"
	tableNodes    = "nodes"
)

// Indexes. Conditional ones hold only the rows they say.
const (
	indexID = "id"

	// calls
	indexOrder           = "order"            // every call by (Key, Seq)
	indexQueuedSkill     = "queued_skill"     // queued calls under each skill of their steps by (skill, Key, Seq)
	indexQueuedQueue     = "queued_queue"     // queued calls by (Queue, Key, Seq)
	indexNode            = "node"             // calls owned by a node by (Node, Key, Seq)
	indexLease           = "lease"            // offered calls with a lease by (LeaseUntil, Seq)
	indexStepAt          = "step_at"          // queued calls under each step time by (At, Seq)
	indexQueuedPreferred = "queued_preferred" // queued calls with a preferred agent by (agent, Key, Seq)
	indexDeadline        = "deadline"         // queued calls with a Deadline by (Deadline, Seq)
	indexPreferUntil     = "prefer_until"     // queued calls with a preferred agent and PreferUntil by (PreferUntil, Seq)

	// agents
	indexState       = "state"        // every agent by (State, ID)
	indexReadySkill  = "ready_skill"  // ready agents under each skill, best first: (skill, 5−level, IdleSince, ID)
	indexOnlineSkill = "online_skill" // logged-in agents under each skill: (skill, ID)
	indexWrap        = "wrap"         // agents in wrap-up or in a miss delay by (WrapUntil, ID)

	// nodes
	indexUntil = "until" // every node by (Until, ID)
)

// Counter names.
const (
	counterSeq   = "seq"   // enqueue sequence
	counterToken = "token" // offer fencing token
)

// schema returns the database schema: one function per table.
func schema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableCalls:    callsTableSchema(),
		tableAgents:   agentsTableSchema(),
		tableCounters: countersTableSchema(),
		tableNodes:    nodesTableSchema(),
	}}
}

func tableSchema(name string, indexes ...*memdb.IndexSchema) *memdb.TableSchema {
	t := &memdb.TableSchema{Name: name, Indexes: map[string]*memdb.IndexSchema{}}
	for _, ix := range indexes {
		t.Indexes[ix.Name] = ix
	}
	return t
}

type callRow = *routing.Call

func callsTableSchema() *memdb.TableSchema {
	queued := func(c callRow) bool { return c.State == routing.CallQueued }
	return tableSchema(tableCalls,
		&memdb.IndexSchema{Name: indexID, Unique: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) { return callByID(c.ID), true },
		}},
		&memdb.IndexSchema{Name: indexOrder, Unique: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) { return keyOf{}.time(c.Key).u64(c.Seq), true },
		}},
		&memdb.IndexSchema{Name: indexQueuedSkill, Unique: true, AllowMissing: true, Indexer: rowMultiIndex[callRow]{
			keys: func(c callRow) []keyOf {
				if !queued(c) {
					return nil
				}
				var keys []keyOf
				for _, skill := range stepSkills(c) {
					keys = append(keys, keyOf{}.str(skill).time(c.Key).u64(c.Seq))
				}
				return keys
			},
		}},
		&memdb.IndexSchema{Name: indexQueuedQueue, Unique: true, AllowMissing: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) {
				return keyOf{}.str(c.Queue).time(c.Key).u64(c.Seq), queued(c)
			},
		}},
		&memdb.IndexSchema{Name: indexNode, Unique: true, AllowMissing: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) {
				return keyOf{}.str(c.Node).time(c.Key).u64(c.Seq), c.Node != ""
			},
		}},
		&memdb.IndexSchema{Name: indexLease, Unique: true, AllowMissing: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) {
				return keyOf{}.time(c.LeaseUntil).u64(c.Seq), c.State == routing.CallOffered && !c.LeaseUntil.IsZero()
			},
		}},
		&memdb.IndexSchema{Name: indexStepAt, Unique: true, AllowMissing: true, Indexer: rowMultiIndex[callRow]{
			keys: func(c callRow) []keyOf {
				if !queued(c) {
					return nil
				}
				var keys []keyOf
				for i, st := range c.Steps {
					keys = append(keys, keyOf{}.time(st.At).u64(c.Seq).u64(uint64(i)))
				}
				return keys
			},
		}},
		&memdb.IndexSchema{Name: indexQueuedPreferred, Unique: true, AllowMissing: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) {
				return keyOf{}.str(c.PreferredAgent).time(c.Key).u64(c.Seq), queued(c) && c.PreferredAgent != ""
			},
		}},
		&memdb.IndexSchema{Name: indexDeadline, Unique: true, AllowMissing: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) {
				return keyOf{}.time(c.Deadline).u64(c.Seq), queued(c) && !c.Deadline.IsZero()
			},
		}},
		&memdb.IndexSchema{Name: indexPreferUntil, Unique: true, AllowMissing: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) {
				return keyOf{}.time(c.PreferUntil).u64(c.Seq), queued(c) && c.PreferredAgent != "" && !c.PreferUntil.IsZero()
			},
		}},
	)
}

type agentRow = *routing.Agent

func agentsTableSchema() *memdb.TableSchema {
	return tableSchema(tableAgents,
		&memdb.IndexSchema{Name: indexID, Unique: true, Indexer: rowIndex[agentRow]{
			key: func(a agentRow) (keyOf, bool) { return agentByID(a.ID), true },
		}},
		&memdb.IndexSchema{Name: indexState, Unique: true, Indexer: rowIndex[agentRow]{
			key: func(a agentRow) (keyOf, bool) { return keyOf{}.str(string(a.State)).str(a.ID), true },
		}},
		&memdb.IndexSchema{Name: indexReadySkill, Unique: true, AllowMissing: true, Indexer: rowMultiIndex[agentRow]{
			keys: func(a agentRow) []keyOf {
				if a.State != routing.AgentReady {
					return nil
				}
				return skillKeys(a, func(skill string, level int) keyOf {
					return keyOf{}.str(skill).level(level).time(a.IdleSince).str(a.ID)
				})
			},
		}},
		&memdb.IndexSchema{Name: indexOnlineSkill, Unique: true, AllowMissing: true, Indexer: rowMultiIndex[agentRow]{
			keys: func(a agentRow) []keyOf {
				if !a.State.LoggedIn() {
					return nil
				}
				return skillKeys(a, func(skill string, _ int) keyOf { return keyOf{}.str(skill).str(a.ID) })
			},
		}},
		&memdb.IndexSchema{Name: indexWrap, Unique: true, AllowMissing: true, Indexer: rowIndex[agentRow]{
			key: func(a agentRow) (keyOf, bool) {
				timed := a.State == routing.AgentWrapUp || (a.State == routing.AgentNotReady && !a.WrapUntil.IsZero())
				return keyOf{}.time(a.WrapUntil).str(a.ID), timed
			},
		}},
	)
}

// stepSkills returns the distinct skills of c's steps, in first-use order.
func stepSkills(c callRow) []string {
	if len(c.Steps) == 0 {
		return []string{c.Skill}
	}
	var out []string
	for _, st := range c.Steps {
		if !slices.Contains(out, st.Skill) {
			out = append(out, st.Skill)
		}
	}
	return out
}

type nodeRow = *routing.Node

func nodesTableSchema() *memdb.TableSchema {
	return tableSchema(tableNodes,
		&memdb.IndexSchema{Name: indexID, Unique: true, Indexer: rowIndex[nodeRow]{
			key: func(n nodeRow) (keyOf, bool) { return keyOf{}.str(n.ID), true },
		}},
		&memdb.IndexSchema{Name: indexUntil, Unique: true, Indexer: rowIndex[nodeRow]{
			key: func(n nodeRow) (keyOf, bool) { return keyOf{}.time(n.Until).str(n.ID), true },
		}},
	)
}

// skillKeys returns one key per skill of a, in skill order.
func skillKeys(a agentRow, key func(skill string, level int) keyOf) []keyOf {
	skills := make([]string, 0, len(a.Skills))
	for s := range a.Skills {
		skills = append(skills, s)
	}
	sort.Strings(skills)
	keys := make([]keyOf, len(skills))
	for i, s := range skills {
		keys[i] = key(s, a.Skills[s])
	}
	return keys
}

// counter is a named store-wide counter (enqueue sequence, offer token).
type counter struct {
	Name  string
	Value uint64
}

func countersTableSchema() *memdb.TableSchema {
	return tableSchema(tableCounters,
		&memdb.IndexSchema{Name: indexID, Unique: true, Indexer: rowIndex[*counter]{
			key: func(c *counter) (keyOf, bool) { return keyOf{}.str(c.Name), true },
		}},
	)
}

// Typed queries.

func callByID(id string) keyOf { return keyOf{}.str(id) }

func agentByID(id string) keyOf { return keyOf{}.str(id) }

func counterByName(name string) keyOf { return keyOf{}.str(name) }

// bySkill prefixes queued_skill, ready_skill and online_skill.
func bySkill(skill string) keyOf { return keyOf{}.str(skill) }

// byQueue prefixes queued_queue.
func byQueue(queue string) keyOf { return keyOf{}.str(queue) }

// byNode prefixes node.
func byNode(node string) keyOf { return keyOf{}.str(node) }

// byPreferred prefixes queued_preferred.
func byPreferred(agentID string) keyOf { return keyOf{}.str(agentID) }

// byState prefixes state.
func byState(s routing.AgentState) keyOf { return keyOf{}.str(string(s)) }

// after is the lowest time-leading key strictly after t (for LowerBound).
func after(t time.Time) keyOf { return keyOf{}.time(t.Add(1)) }
