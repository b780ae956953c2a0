package media

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// tev is one telephone-event packet of a test script.
type tev struct {
	seq      uint16
	ts       uint32
	ssrc     uint32
	marker   bool
	code     uint8
	end      bool
	duration uint16
	at       int // ms since the script start
}

func tevPayload(code uint8, end bool, volume uint8, duration uint16) []byte {
	p := []byte{code, volume & 0x3F, 0, 0}
	if end {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], duration)
	return p
}

// pressScript returns the packets of one key press: progress packets every
// 20 ms with duration += step, then three end packets (same seq if
// sameSeq, as in sipp's pcap, else increasing).
func pressScript(code uint8, ts, ssrc uint32, seq uint16, at, progress int, step uint16, sameSeq bool) []tev {
	var out []tev
	for i := range progress {
		out = append(out, tev{seq: seq, ts: ts, ssrc: ssrc, marker: i == 0, code: code, duration: uint16(i) * step, at: at + 20*i})
		seq++
	}
	d := uint16(progress) * step
	for i := range 3 {
		out = append(out, tev{seq: seq, ts: ts, ssrc: ssrc, code: code, end: true, duration: d, at: at + 20*progress + 5*i})
		if !sameSeq {
			seq++
		}
	}
	return out
}

func runScript(d *DTMFDecoder, pt uint8, script []tev, t0 time.Time) string {
	var got []rune
	for _, p := range script {
		hdr := rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc, Marker: p.marker}
		now := t0.Add(time.Duration(p.at) * time.Millisecond)
		got = append(got, d.Feed(hdr, tevPayload(p.code, p.end, 10, p.duration), now)...)
		got = append(got, d.Expire(now)...)
	}
	return string(got)
}

func concat(scripts ...[]tev) []tev {
	var out []tev
	for _, s := range scripts {
		out = append(out, s...)
	}
	return out
}

func TestDTMFDecoder(t *testing.T) {
	const ssrc = 0x0e05384e
	noMarker := pressScript(5, 1000, ssrc, 1, 0, 5, 160, false)
	for i := range noMarker {
		noMarker[i].marker = false
	}
	reordered := pressScript(7, 1000, ssrc, 1, 0, 5, 160, false)
	reordered[2], reordered[6] = reordered[6], reordered[2] // an end packet overtakes progress
	lostEnd := pressScript(3, 1000, ssrc, 1, 0, 5, 160, false)[:5]
	lostEndThenNext := concat(lostEnd, pressScript(4, 3000, ssrc, 20, 120, 5, 160, false))
	onlyEnds := pressScript(9, 1000, ssrc, 1, 0, 5, 160, false)[5:]
	ssrcChange := concat(pressScript(1, 1000, 1, 1, 0, 4, 160, false), pressScript(2, 1000, 2, 1, 200, 4, 160, false))
	late := concat(pressScript(1, 1000, ssrc, 1, 0, 4, 160, false), pressScript(2, 5000, ssrc, 20, 200, 4, 160, false),
		[]tev{{seq: 3, ts: 1000, ssrc: ssrc, code: 1, duration: 320, at: 400}})
	longPress := concat(
		[]tev{{seq: 1, ts: 1000, ssrc: ssrc, marker: true, code: 8, duration: 0, at: 0}, {seq: 2, ts: 1000, ssrc: ssrc, code: 8, duration: 0xFFFF, at: 20}},
		pressScript(8, 1000+0xFFFF, ssrc, 3, 40, 3, 160, false),
	)
	tests := []struct {
		name   string
		pt     uint8
		script []tev
		want   string
	}{
		{"sipp pcap: PT 101, +320 steps, 3 identical end packets", 101, pressScript(1, 13280, ssrc, 100, 0, 7, 320, true), "1"},
		{"PT 96 increasing seq end packets", 96, pressScript(11, 400, 7, 1, 0, 10, 160, false), "#"},
		{"no marker", 101, noMarker, "5"},
		{"two quick presses of the same key", 101, concat(pressScript(2, 1000, ssrc, 1, 0, 3, 160, false), pressScript(2, 1400, ssrc, 7, 80, 3, 160, false)), "22"},
		{"play_dtmf 12#*9", 96, concat(
			pressScript(1, 0, ssrc, 1, 0, 10, 160, false), pressScript(2, 400, ssrc, 20, 400, 10, 160, false),
			pressScript(11, 800, ssrc, 40, 800, 10, 160, false), pressScript(10, 1200, ssrc, 60, 1200, 10, 160, false),
			pressScript(9, 1600, ssrc, 80, 1600, 10, 160, false)), "12#*9"},
		{"reordered end before progress", 101, reordered, "7"},
		{"all end packets lost: expiry", 101, concat(lostEnd, []tev{{seq: 50, ts: 99, ssrc: 99, code: 200, at: 400}}), "3"},
		{"lost end, next press starts: older first", 101, lostEndThenNext, "34"},
		{"only end packets", 101, onlyEnds, "9"},
		{"SSRC change, same ts", 101, ssrcChange, "12"},
		{"late progress of an old event", 101, late, "12"},
		{"long press rolls over the duration", 101, longPress, "8"},
		{"event codes above 15 ignored", 101, pressScript(16, 1000, ssrc, 1, 0, 3, 160, false), ""},
		{"all 16 keys", 101, func() []tev {
			var s []tev
			for c := range uint8(16) {
				s = append(s, pressScript(c, 1000+uint32(c)*800, ssrc, uint16(c)*10, int(c)*100, 3, 160, false)...)
			}
			return s
		}(), "0123456789*#ABCD"},
	}
	t0 := time.Unix(1000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d DTMFDecoder
			if got := runScript(&d, tt.pt, tt.script, t0); got != tt.want {
				t.Errorf("keys = %q, want %q", got, tt.want)
			}
			// Nothing is left to expire afterwards.
			if got := d.Expire(t0.Add(time.Hour)); len(got) != 0 {
				t.Errorf("left over after the script: %q", string(got))
			}
			if len(d.events) != 0 {
				t.Errorf("%d events remembered after an hour", len(d.events))
			}
		})
	}
}

func TestDTMFDecoderMalformed(t *testing.T) {
	var d DTMFDecoder
	now := time.Unix(0, 0)
	hdr := rtp.Header{Version: 2, PayloadType: 101, Timestamp: 1, SSRC: 1}
	for _, p := range [][]byte{nil, {}, {1}, {1, 0x80}, {1, 0x80, 0}} {
		if keys := d.Feed(hdr, p, now); len(keys) != 0 {
			t.Errorf("Feed(%x) = %q", p, string(keys))
		}
	}
	if keys := d.Expire(now.Add(time.Second)); len(keys) != 0 {
		t.Errorf("Expire = %q", string(keys))
	}
	// A longer payload (RFC 2198-style trailing data) uses the first block.
	if keys := d.Feed(hdr, append(tevPayload(6, true, 0, 800), 1, 2, 3), now); string(keys) != "6" {
		t.Errorf("long payload: %q", string(keys))
	}
}

func TestDTMFDecoderBounded(t *testing.T) {
	var d DTMFDecoder
	now := time.Unix(0, 0)
	for i := range 1000 {
		hdr := rtp.Header{Timestamp: uint32(i) * 10000, SSRC: uint32(i % 3)}
		d.Feed(hdr, tevPayload(1, i%2 == 0, 0, 0), now)
	}
	if len(d.events) > dtmfMaxEvents {
		t.Fatalf("%d events kept", len(d.events))
	}
}

func FuzzDTMFDecoder(f *testing.F) {
	f.Add([]byte{101, 0, 0, 0, 0, 0, 1, 1, 10, 0, 0, 1, 1, 138, 1, 64})
	f.Add([]byte{96, 1, 2, 3, 4, 5, 6, 11, 128, 3, 32, 11, 128, 3, 32})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each 7-byte record: ssrc low byte, ts (2 bytes), step ms, payload
		// (event, flags, duration high byte); the rest is one raw payload.
		var d DTMFDecoder
		now := time.Unix(0, 0)
		reported := 0
		for len(data) >= 7 {
			hdr := rtp.Header{Version: 2, PayloadType: 101, SSRC: uint32(data[0]), Timestamp: uint32(binary.BigEndian.Uint16(data[1:3]))}
			now = now.Add(time.Duration(data[3]) * time.Millisecond)
			keys := d.Feed(hdr, []byte{data[4], data[5], data[6], 0}, now)
			keys = append(keys, d.Expire(now)...)
			for _, k := range keys {
				if _, ok := DTMFKey(uint8(indexKey(k))); !ok {
					t.Fatalf("bad key %q", k)
				}
			}
			reported += len(keys)
			data = data[7:]
			if len(d.events) > dtmfMaxEvents {
				t.Fatalf("%d events", len(d.events))
			}
		}
		d.Feed(rtp.Header{}, data, now)
		d.Expire(now.Add(time.Hour))
		if len(d.events) != 0 {
			t.Fatal("events survive an hour")
		}
		_ = reported
	})
}

func indexKey(k rune) int {
	for i, c := range dtmfKeys {
		if c == k {
			return i
		}
	}
	return 99
}

func BenchmarkDTMFFeed(b *testing.B) {
	script := pressScript(1, 13280, 1, 100, 0, 7, 320, true)
	payloads := make([][]byte, len(script))
	for i, p := range script {
		payloads[i] = tevPayload(p.code, p.end, 10, p.duration)
	}
	var d DTMFDecoder
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := script[i%len(script)]
		ts := p.ts + uint32(i/len(script))*1000
		now = now.Add(20 * time.Millisecond)
		d.Feed(rtp.Header{SequenceNumber: p.seq, Timestamp: ts, SSRC: p.ssrc}, payloads[i%len(script)], now)
	}
}

func TestParseDTMFInfo(t *testing.T) {
	tests := []struct {
		ct, body string
		want     rune
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true},
		{"application/dtmf-relay", "Signal=5\nDuration=160", '5', true},
		{"Application/DTMF-Relay; charset=utf-8", "  signal = # \r\n duration= 250", '#', true},
		{"application/dtmf-relay", "Duration=160\r\nSIGNAL=*\r\n", '*', true},
		{"application/dtmf-relay", "Signal=10\r\nDuration=160", '*', true},
		{"application/dtmf-relay", "Signal=11\r\nDuration=160", '#', true},
		{"application/dtmf-relay", "Signal: 7\r\n", '7', true},
		{"application/dtmf-relay", "Signal=d\r\n", 'D', true},
		{"application/dtmf-relay", "Signal=0", '0', true},
		{"application/dtmf", "9", '9', true},
		{"application/dtmf", "  #\r\n", '#', true},
		{"application/dtmf", "10", '*', true},
		{"application/dtmf", "11", '#', true},
		{"application/dtmf", "15", 'D', true},
		{"application/dtmf-relay", "Duration=160\r\n", 0, false},
		{"application/dtmf-relay", "Signal=\r\n", 0, false},
		{"application/dtmf-relay", "Signal=16\r\n", 0, false},
		{"application/dtmf-relay", "Signal=E\r\n", 0, false},
		{"application/dtmf-relay", "Signal=55\r\n", 0, false},
		{"application/dtmf", "", 0, false},
		{"application/dtmf", "12#", 0, false},
		{"application/sdp", "Signal=5", 0, false},
		{"", "Signal=5", 0, false},
		{"application/dtmf-relay;;", "Signal=5", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDTMFInfo(tt.ct, []byte(tt.body))
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("ParseDTMFInfo(%q, %q) = %q, %v; want %q", tt.ct, tt.body, got, err, tt.want)
		}
		if !tt.ok && !errors.Is(err, ErrBadDTMF) {
			t.Errorf("ParseDTMFInfo(%q, %q) = %q, %v; want ErrBadDTMF", tt.ct, tt.body, got, err)
		}
	}
}

func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("11"))
	f.Add("application/dtmf-relay; x=y", []byte("signal : #\n"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		k, err := ParseDTMFInfo(ct, body)
		if err != nil {
			if !errors.Is(err, ErrBadDTMF) {
				t.Fatalf("error does not wrap ErrBadDTMF: %v", err)
			}
			return
		}
		if indexKey(k) > 15 {
			t.Fatalf("key %q", k)
		}
	})
}

func TestDigitMerger(t *testing.T) {
	t0 := time.Unix(0, 0)
	type in struct {
		key    rune
		source string
		ms     int
	}
	tests := []struct {
		name string
		in   []in
		want string // accepted keys
	}{
		{"INFO then RTP copy", []in{{'5', SourceInfo, 0}, {'5', SourceRFC4733, 150}}, "5"},
		{"RTP then INFO copy", []in{{'5', SourceRFC4733, 0}, {'5', SourceInfo, 290}}, "5"},
		{"copy too late", []in{{'5', SourceRFC4733, 0}, {'5', SourceInfo, 400}}, "55"},
		{"same source twice", []in{{'5', SourceRFC4733, 0}, {'5', SourceRFC4733, 100}}, "55"},
		{"different keys", []in{{'5', SourceInfo, 0}, {'6', SourceRFC4733, 50}}, "56"},
		{"two presses, both sent twice", []in{{'2', SourceInfo, 0}, {'2', SourceRFC4733, 100}, {'2', SourceInfo, 200}, {'2', SourceRFC4733, 300}}, "22"},
		{"one copy swallows one digit", []in{{'2', SourceInfo, 0}, {'2', SourceInfo, 10}, {'2', SourceRFC4733, 100}}, "22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m digitMerger
			var got []rune
			for _, d := range tt.in {
				if m.accept(d.key, d.source, t0.Add(time.Duration(d.ms)*time.Millisecond)) {
					got = append(got, d.key)
				}
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", string(got), tt.want)
			}
		})
	}
}
