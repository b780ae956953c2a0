// Package media carries the RTP audio of one call leg for Kefu, on pion/rtp:
// G.711 μ-law/A-law coding, WAV prompts pre-encoded once and shared by all
// calls, an even-port RTP port pool, and a Session per leg that sends paced
// 20 ms frames (prompts or silence), receives RFC 4733 DTMF, merges SIP INFO
// digits, and relays audio between two legs (Bridge).
//
// The package does not know SIP: the SIP layer negotiates with kefu/sip/sdp
// and passes the resulting sdp.Codec and telephone-event payload type here.
//
// Lifecycle: PortPool.Listen -> NewSession -> Start -> (Play | Bridge)* ->
// Close. Close is idempotent, stops and waits for the session's goroutines,
// closes the socket and returns its port to the pool.
//
// No-RTP watchdog: the SIP layer polls Session.LastReceived (zero until the
// first packet from the peer) and ends the call when it is older than the
// configured media timeout.
package media
