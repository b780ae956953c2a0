// Package callrecord provides Kefu's call records: one Record per call,
// written when the call ends, and the writers and readers that keep them —
// a JSON Lines file (JSONL) by default, a Redis Stream (Stream) when Kefu
// shares a Redis, and Fallback, which spools to a local file whenever Redis
// fails so that an outage loses no record.
//
// # Wire format
//
// A record is one JSON object on one line, with snake_case names and a
// version field "v": 1 first:
//
//	{"v":1,"call_id":"c1","node":"kefu-a","caller":"13800000001","called":"10086",
//	 "tier":"gold","stars":4,"flow":"main","flow_version":"3f2a…",
//	 "path":[{"node":"menu","exit":"1","digits":"1"}],"queue":"billing",
//	 "start":"2026-11-25T09:00:00+08:00","end":"2026-11-25T09:03:10+08:00",
//	 "enqueued":"…","offered":"…","answered":"…","agent_end":"…","agent":"1001",
//	 "ring_attempts":1,"wrap_up_s":10,"disposition":"answered",
//	 "survey":{"q1":"5"}}
//
// Times are RFC 3339 with nanoseconds; a time that did not happen (a call
// never queued has no "enqueued") is left out, as are empty fields.
// wrap_up_s is seconds as a number. Decoding is strict: an unknown field,
// another version, or a record that fails Validate is an error, and the
// readers name the file and line (or the stream entry) of a bad record.
//
// # Durability
//
// JSONL writes each record with a single write(2) on a file opened with
// O_APPEND, without buffering, so a record written is in the kernel even if
// the process is killed the next instant; Close fsyncs. Concurrent writes
// from one process are serialised by a mutex. Two processes must not
// share one file: give each Kefu node its own records file (the readers
// can read several).
//
// Stream appends with XADD key MAXLEN ~ maxLen * record <json>. The entry
// ID is Redis's clock at the XADD, a moment after the call's End, so
// ReadStream reads StreamSlack either side of the period and keeps the
// records whose End is in it.
package callrecord
