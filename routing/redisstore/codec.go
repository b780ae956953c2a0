package redisstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"kefu/routing"
)

// zeroTime is how the zero time.Time is stored.
const zeroTime = "00000000000000000000"

// encTime encodes t as the scripts store times: UnixNano with the sign bit
// flipped, as 20 zero-padded decimal digits, so that the encoding is exact and
// orders like the times (the zero time is all zeros and sorts first, as in
// memstore).
func encTime(t time.Time) string {
	if t.IsZero() {
		return zeroTime
	}
	return fmt.Sprintf("%020d", uint64(t.UnixNano())^(1<<63))
}

// decTime decodes encTime's form.
func decTime(s string) (time.Time, error) {
	if s == zeroTime || s == "" {
		return time.Time{}, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return time.Unix(0, int64(v^(1<<63))).UTC(), nil
}

// fields is one record's field/value pairs as a script returns them.
type fields map[string]string

// toFields converts a flat [field, value, …] script reply.
func toFields(v any) (fields, error) {
	list, ok := v.([]any)
	if !ok || len(list)%2 != 0 {
		return nil, fmt.Errorf("malformed record %v", v)
	}
	f := make(fields, len(list)/2)
	for i := 0; i < len(list); i += 2 {
		k, ok1 := list[i].(string)
		val, ok2 := list[i+1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("malformed record field %v", list[i])
		}
		f[k] = val
	}
	return f, nil
}

// fieldReader decodes typed fields and keeps the first error.
type fieldReader struct {
	f   fields
	err error
}

func (r *fieldReader) str(name string) string { return r.f[name] }

func (r *fieldReader) time(name string) time.Time {
	t, err := decTime(r.f[name])
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("field %s: %w", name, err)
	}
	return t
}

func (r *fieldReader) u64(name string) uint64 {
	s := r.f[name]
	if s == "" {
		return 0
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("field %s: %w", name, err)
	}
	return v
}

func (r *fieldReader) i64(name string) int64 {
	s := r.f[name]
	if s == "" {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("field %s: %w", name, err)
	}
	return v
}

// decodeCall converts a call record (the scripts' CALL_FIELDS).
func decodeCall(v any) (routing.Call, error) {
	f, err := toFields(v)
	if err != nil {
		return routing.Call{}, err
	}
	r := fieldReader{f: f}
	c := routing.Call{
		ID:             r.str("id"),
		Caller:         r.str("caller"),
		Queue:          r.str("queue"),
		Skill:          r.str("skill"),
		Tier:           r.str("tier"),
		State:          routing.CallState(r.str("state")),
		EnqueuedAt:     r.time("enq"),
		Key:            r.time("key"),
		Seq:            r.u64("seq"),
		PreferredAgent: r.str("pa"),
		PreferUntil:    r.time("pu"),
		Deadline:       r.time("dl"),
		WrapUp:         time.Duration(r.i64("wrap")),
		AgentID:        r.str("agent"),
		Token:          r.u64("token"),
		OfferedAt:      r.time("offered"),
		AnsweredAt:     r.time("answered"),
		Misses:         int(r.i64("misses")),
		Callback:       r.str("cb"),
		Node:           r.str("node"),
		Lease:          time.Duration(r.i64("lease")),
		LeaseUntil:     r.time("lease_until"),
	}
	if r.err == nil {
		c.Steps, r.err = decodeSteps(r.str("steps"))
	}
	if r.err != nil {
		return routing.Call{}, fmt.Errorf("call %q: %w", c.ID, r.err)
	}
	return c, nil
}

// decodeAgent converts an agent reply: {AGENT_FIELDS pairs, skill/level pairs}.
func decodeAgent(v any) (routing.Agent, error) {
	pair, ok := v.([]any)
	if !ok || len(pair) != 2 {
		return routing.Agent{}, fmt.Errorf("malformed agent %v", v)
	}
	f, err := toFields(pair[0])
	if err != nil {
		return routing.Agent{}, err
	}
	sk, err := toFields(pair[1])
	if err != nil {
		return routing.Agent{}, err
	}
	r := fieldReader{f: f}
	a := routing.Agent{
		ID:            r.str("id"),
		Skills:        make(map[string]int, len(sk)),
		State:         routing.AgentState(r.str("state")),
		Reason:        r.str("reason"),
		Since:         r.time("since"),
		IdleSince:     r.time("idle"),
		CallID:        r.str("call"),
		Queue:         r.str("queue"),
		Token:         r.u64("token"),
		WrapUntil:     r.time("wrap"),
		Misses:        int(r.i64("misses")),
		Pending:       routing.AgentState(r.str("pending")),
		PendingReason: r.str("preason"),
	}
	for skill, level := range sk {
		l, err := strconv.Atoi(level)
		if err != nil {
			return routing.Agent{}, fmt.Errorf("agent %q skill %q: %w", a.ID, skill, err)
		}
		a.Skills[skill] = l
	}
	if r.err != nil {
		return routing.Agent{}, fmt.Errorf("agent %q: %w", a.ID, r.err)
	}
	return a, nil
}

// stepJSON is one step as stored in a call's steps field: a JSON array,
// At in encTime's form so that it is exact and the scripts compare it as
// they compare every time.
type stepJSON struct {
	At       string `json:"at"`
	Skill    string `json:"skill"`
	MinLevel int    `json:"min_level"`
}

// encodeSteps encodes steps for the steps field: "" for nil, else a JSON
// array ("[]" for an empty one, so that nil and empty survive the round
// trip).
func encodeSteps(steps []routing.Step) (string, error) {
	if steps == nil {
		return "", nil
	}
	list := make([]stepJSON, len(steps))
	for i, st := range steps {
		list[i] = stepJSON{At: encTime(st.At), Skill: st.Skill, MinLevel: st.MinLevel}
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return "", fmt.Errorf("steps: %w", err)
	}
	return string(raw), nil
}

// decodeSteps decodes encodeSteps's form.
func decodeSteps(s string) ([]routing.Step, error) {
	if s == "" {
		return nil, nil
	}
	var list []stepJSON
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("field steps: %w", err)
	}
	steps := make([]routing.Step, len(list))
	for i, st := range list {
		at, err := decTime(st.At)
		if err != nil {
			return nil, fmt.Errorf("field steps: %w", err)
		}
		steps[i] = routing.Step{At: at, Skill: st.Skill, MinLevel: st.MinLevel}
	}
	return steps, nil
}
