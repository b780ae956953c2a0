package media

import "sync/atomic"

// Totals adds up the counters of many sessions, for a process-wide view
// (metrics): give every session the same *Totals in Config.Totals. The zero
// value is ready; it is safe for concurrent use and costs one atomic add per
// counted event. The sessions' own Stats are counted as before.
type Totals struct {
	packetsIn, packetsOut, lateFrames atomic.Uint64
	digitsRFC4733, digitsInfo         atomic.Uint64
}

// TotalCounts is a snapshot of a Totals.
type TotalCounts struct {
	PacketsIn  uint64 // RTP packets accepted from peers (Stats.PacketsIn)
	PacketsOut uint64 // RTP packets sent (Stats.PacketsOut)
	LateFrames uint64 // 20 ms slots pacers skipped because they fell behind (Stats.LateFrames)
	// DigitsRFC4733 and DigitsInfo count the key presses delivered on
	// Digits by source (SourceRFC4733, SourceInfo), after the two sources'
	// duplicates are merged; dropped digits are not counted.
	DigitsRFC4733 uint64
	DigitsInfo    uint64
}

// Counts returns a snapshot of the counters. A nil Totals counts nothing.
func (t *Totals) Counts() TotalCounts {
	if t == nil {
		return TotalCounts{}
	}
	return TotalCounts{
		PacketsIn:     t.packetsIn.Load(),
		PacketsOut:    t.packetsOut.Load(),
		LateFrames:    t.lateFrames.Load(),
		DigitsRFC4733: t.digitsRFC4733.Load(),
		DigitsInfo:    t.digitsInfo.Load(),
	}
}

// The add methods do nothing on a nil Totals (a session without one).

func (t *Totals) addPacketIn() {
	if t != nil {
		t.packetsIn.Add(1)
	}
}

func (t *Totals) addPacketOut() {
	if t != nil {
		t.packetsOut.Add(1)
	}
}

func (t *Totals) addLate(n uint64) {
	if t != nil {
		t.lateFrames.Add(n)
	}
}

// addDigit counts a delivered digit: SourceRFC4733 as such, any other
// source (InjectDigit) as SIP INFO.
func (t *Totals) addDigit(source string) {
	if t == nil {
		return
	}
	if source == SourceRFC4733 {
		t.digitsRFC4733.Add(1)
	} else {
		t.digitsInfo.Add(1)
	}
}
