package memstore

import (
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
)

// Indexes. Conditional ones hold only the rows they say.
const (
	indexID = "id"

	// calls
	indexOrder           = "order"            // every call by (Key, Seq)
	indexQueuedSkill     = "queued_skill"     // queued calls by (Skill, Key, Seq)
	indexQueuedPreferred = "queued_preferred" // queued calls with a preferred agent by (agent, Key, Seq)
	indexDeadline        = "deadline"         // queued calls with a Deadline by (Deadline, Seq)
	indexPreferUntil     = "prefer_until"     // queued calls with a preferred agent and PreferUntil by (PreferUntil, Seq)

	// agents
	indexState       = "state"        // every agent by (State, ID)
	indexReadySkill  = "ready_skill"  // ready agents under each skill, best first: (skill, 5−level, IdleSince, ID)
	indexOnlineSkill = "online_skill" // logged-in agents under each skill: (skill, ID)
	indexWrap        = "wrap"         // agents in wrap-up by (WrapUntil, ID)
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
		&memdb.IndexSchema{Name: indexQueuedSkill, Unique: true, AllowMissing: true, Indexer: rowIndex[callRow]{
			key: func(c callRow) (keyOf, bool) {
				return keyOf{}.str(c.Skill).time(c.Key).u64(c.Seq), queued(c)
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
				return keyOf{}.time(a.WrapUntil).str(a.ID), a.State == routing.AgentWrapUp
			},
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

// byPreferred prefixes queued_preferred.
func byPreferred(agentID string) keyOf { return keyOf{}.str(agentID) }

// byState prefixes state.
func byState(s routing.AgentState) keyOf { return keyOf{}.str(string(s)) }

// after is the lowest time-leading key strictly after t (for LowerBound).
func after(t time.Time) keyOf { return keyOf{}.time(t.Add(1)) }
