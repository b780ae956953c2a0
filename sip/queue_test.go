package sip

import (
	"context"
	"sync"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/sip/media"
	"kefu/sip/testphone"
)

// heard is one stretch of identical prompt frames a phone received.
type heard struct {
	code    byte // the announcement's code, or musicBase+frame for music
	music   bool
	frames  int
	first   int // music: frame index of the stretch's first packet
	last    int // music: frame index of its last packet
	marker  bool
	silence int    // silence frames just before the stretch
	ts      uint32 // RTP timestamp of the stretch's first packet
}

// maxSwitchSilence is the most silence frames tolerated where the hold
// switches between music and an announcement, or the music starts over. The
// hold stops one Play and starts the next; a pacer slot that falls between
// the two carries a silence frame (media.Session sends silence whenever
// nothing plays), which a busy machine makes likelier and, rarely, a few
// frames long. Any more is a pause a caller would notice.
const maxSwitchSilence = 5

// stretches splits what a caller heard into music (consecutive frames,
// however many, across a short silence such as the one where the music
// loops) and runs of one other prompt's frames. Silence frames do not make
// stretches of their own: they are counted in the next stretch's silence.
// Unknown payloads are skipped.
func stretches(pkts []testphone.Packet) []heard {
	var out []heard
	silence := 0
	for _, p := range pkts {
		b, ok := uniform(p.Payload)
		if !ok {
			continue
		}
		if b == media.UlawSilence {
			silence++
			continue
		}
		isMusic := b >= musicBase && b < musicBase+musicFrames
		if n := len(out); n > 0 {
			h := &out[n-1]
			if h.music && isMusic && silence <= maxSwitchSilence {
				h.frames++
				h.last = int(b - musicBase)
				silence = 0
				continue
			}
			if !h.music && !isMusic && h.code == b && silence == 0 {
				h.frames++
				continue
			}
		}
		h := heard{code: b, music: isMusic, frames: 1, marker: p.Marker, silence: silence, ts: p.Timestamp}
		if isMusic {
			h.first, h.last = int(b-musicBase), int(b-musicBase)
		}
		out = append(out, h)
		silence = 0
	}
	return out
}

// TestQueueAnnouncements: two callers wait in a queue with music and an
// announcement every second. Each hears the announcement again and again,
// with about a second of music between, the music going on after each
// announcement from the frame after the last one heard, not from the start;
// the announcement is told the caller's position (1 and 2) and wait so far.
func TestQueueAnnouncements(t *testing.T) {
	var mu sync.Mutex
	statuses := map[string][]ivr.QueueStatus{}
	flow := func(ctx context.Context, c ivr.Call) error {
		_, err := c.Queue(ctx, ivr.QueueRequest{
			Queue: "sales", Music: "music",
			Announce: &ivr.QueueAnnounce{Every: time.Second, Prompts: func(_ context.Context, st ivr.QueueStatus) ([]string, error) {
				mu.Lock()
				statuses[c.ID()] = append(statuses[c.ID()], st)
				mu.Unlock()
				return []string{"announce"}, nil
			}},
		})
		return err
	}
	ts := startServer(t, flow, nil)
	ts.phone(testAgent, testPassword, testphone.Options{}) // logged in, not ready: calls wait
	first := ts.dial(ts.phone("13900000001", "", testphone.Options{}))
	waitFor(t, 10*time.Second, "the first caller to be queued", func() bool {
		calls, _ := ts.router.Calls(context.Background())
		return len(calls) == 1
	})
	second := ts.dial(ts.phone("13900000002", "", testphone.Options{}))

	const runs = 4
	waitFor(t, 30*time.Second, "announcements", func() bool {
		return countAnnouncements(second.Received()) >= runs
	})
	hangup(t, first)
	hangup(t, second)
	ts.idle()

	for i, c := range []*testphone.Call{first, second} {
		hs := stretches(c.Received())
		announcements := 0
		for j, h := range hs {
			if h.music || h.code != codeAnnounce {
				continue
			}
			announcements++
			if j == len(hs)-1 {
				continue // cut short by the hang-up
			}
			if h.frames < 20 || h.frames > 25 {
				t.Errorf("caller %d: announcement %d has %d frames, want the prompt's 25", i+1, announcements, h.frames)
			}
			if !h.marker {
				t.Errorf("caller %d: announcement %d does not start with the marker bit", i+1, announcements)
			}
			if j == 0 || !hs[j-1].music {
				t.Errorf("caller %d: announcement %d does not interrupt music: %+v", i+1, announcements, hs[max(j-1, 0)])
				continue
			}
			if h.silence > maxSwitchSilence {
				t.Errorf("caller %d: %d silence frames between the music and announcement %d, want at most %d",
					i+1, h.silence, announcements, maxSwitchSilence)
			}
			before := hs[j-1]
			// Between two announcements: about Every of music (50 frames);
			// at least half of it, so announcements are not early. Counted
			// in 20 ms slots of RTP time, not in packets: on a busy machine
			// the pacer skips the slots it is too late for (the timestamp
			// jumps; nothing is sent and no music frame is used up).
			if slots := int((h.ts - before.ts) / media.FrameSamples); announcements > 1 && slots < 25 {
				t.Errorf("caller %d: only %d slots (%d frames) of music before announcement %d, want about 50",
					i+1, slots, before.frames, announcements)
			}
			if j+1 < len(hs) && hs[j+1].music {
				after := hs[j+1]
				if want := (before.last + 1) % musicFrames; after.first != want {
					t.Errorf("caller %d: music resumed at frame %d after announcement %d, want %d (it stopped at %d)",
						i+1, after.first, announcements, want, before.last)
				}
				if !after.marker {
					t.Errorf("caller %d: resumed music does not start with the marker bit", i+1)
				}
				if after.silence > maxSwitchSilence {
					t.Errorf("caller %d: %d silence frames between announcement %d and the music, want at most %d",
						i+1, after.silence, announcements, maxSwitchSilence)
				}
			}
		}
		if announcements < runs-1 {
			t.Errorf("caller %d heard %d announcements, want at least %d", i+1, announcements, runs-1)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	for id, sts := range statuses {
		want := 1
		if id == second.CallID() {
			want = 2
		}
		for k, st := range sts {
			// The first caller is served first; the second stays behind it
			// until it hangs up.
			if st.Position != want && !(id == second.CallID() && st.Position == 1) {
				t.Errorf("call %s announcement %d: position %d, want %d", id, k, st.Position, want)
			}
			if k > 0 && st.Waited <= sts[k-1].Waited {
				t.Errorf("call %s: waited %v after %v", id, st.Waited, sts[k-1].Waited)
			}
			if st.EstimatedWait != 0 {
				t.Errorf("call %s: estimated wait %v with no conversation finished, want 0", id, st.EstimatedWait)
			}
		}
	}
	if n := len(statuses[second.CallID()]); n < runs {
		t.Errorf("second caller's announcement asked %d times, want at least %d", n, runs)
	} else if statuses[second.CallID()][0].Position != 2 {
		t.Errorf("second caller's first announcement: position %d, want 2", statuses[second.CallID()][0].Position)
	}
}

func countAnnouncements(pkts []testphone.Packet) int {
	n := 0
	for _, h := range stretches(pkts) {
		if !h.music && h.code == codeAnnounce {
			n++
		}
	}
	return n
}

// TestQueueOverrides: the flow's tier, preferred agent and maximum wait
// replace the directory's and the queue's.
func TestQueueOverrides(t *testing.T) {
	results := make(chan ivr.QueueResult, 1)
	flow := func(ctx context.Context, c ivr.Call) error {
		if err := c.Play(ctx, []string{"confirm"}, false); err != nil {
			return err
		}
		res, err := c.Queue(ctx, ivr.QueueRequest{
			Queue: "sales", Tier: "vip", PreferredAgent: testAgent, PreferredWait: time.Minute,
			MaxWait: 2 * time.Second,
		})
		results <- res
		return err
	}
	ts := startServer(t, flow, nil)
	ts.phone(testAgent, testPassword, testphone.Options{})
	caller := ts.dial(ts.phone("13900000003", "", testphone.Options{}))
	waitFor(t, 10*time.Second, "the call to be queued", func() bool {
		calls, _ := ts.router.Calls(context.Background())
		return len(calls) == 1
	})
	calls, err := ts.router.Calls(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := calls[0]; c.Tier != "vip" || c.PreferredAgent != testAgent {
		t.Errorf("queued call %+v, want tier vip and preferred agent %s", c, testAgent)
	}
	if res := receive(t, results, 15*time.Second, "the queue to overflow"); res.Outcome != ivr.QueueMaxWait {
		t.Errorf("outcome %q, want %q after the flow's max wait", res.Outcome, ivr.QueueMaxWait)
	}
	waitDone(t, caller, "caller after overflow")
	ts.idle()
}
