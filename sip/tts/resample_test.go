package tts

import (
	"math"
	"strings"
	"testing"
)

// sine synthesises seconds of a tone of freq Hz at rate Hz and amplitude amp.
func sine(freq float64, rate int, seconds, amp float64) []int16 {
	pcm := make([]int16, int(seconds*float64(rate)))
	for i := range pcm {
		pcm[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return pcm
}

// rms is the root mean square of pcm.
func rms(pcm []int16) float64 {
	var sum float64
	for _, x := range pcm {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// zeroCrossings counts sign changes (a tone of f Hz makes 2f per second).
func zeroCrossings(pcm []int16) int {
	n := 0
	for i := 1; i < len(pcm); i++ {
		if (pcm[i-1] < 0) != (pcm[i] < 0) {
			n++
		}
	}
	return n
}

// middle drops a tenth at each end, where the filter sees the silence
// beyond the signal.
func middle(pcm []int16) []int16 { return pcm[len(pcm)/10 : len(pcm)-len(pcm)/10] }

func TestResampleTones(t *testing.T) {
	const amp = 10000
	ref := amp / math.Sqrt2 // RMS of the input tone
	tests := []struct {
		name           string
		freq           float64
		in, out        int
		minDB, maxDB   float64 // output level relative to the input tone
		wantFreq       float64 // from zero crossings; 0 = not checked
		freqTolerance  float64 // Hz
		wantOutSamples int
	}{
		// Passband: kept at its level and its frequency.
		{"1 kHz", 1000, 22050, 8000, -0.05, 0.05, 1000, 2, 16000},
		{"300 Hz", 300, 22050, 8000, -0.05, 0.05, 300, 2, 16000},
		{"3 kHz", 3000, 22050, 8000, -0.1, 0.05, 3000, 3, 16000},
		{"3.3 kHz, top of the phone band", 3300, 22050, 8000, -1, 0.05, 3300, 3, 16000},
		// Transition band below the output Nyquist frequency: damped, not folded.
		{"3.9 kHz", 3900, 22050, 8000, -60, -6, 0, 0, 16000},
		// Above 4 kHz a tone would fold back into the phone band (4.5 kHz →
		// 3.5 kHz, 6 kHz → 2 kHz, 10 kHz → 2 kHz): it must be stopped.
		{"4.1 kHz (would alias to 3.9 kHz)", 4100, 22050, 8000, -200, -60, 0, 0, 16000},
		{"4.5 kHz (would alias to 3.5 kHz)", 4500, 22050, 8000, -200, -70, 0, 0, 16000},
		{"6 kHz (would alias to 2 kHz)", 6000, 22050, 8000, -200, -70, 0, 0, 16000},
		{"10 kHz (would alias to 2 kHz)", 10000, 22050, 8000, -200, -70, 0, 0, 16000},
		// Other rates a synthesiser may produce.
		{"16 kHz in, 1 kHz", 1000, 16000, 8000, -0.05, 0.05, 1000, 2, 16000},
		{"16 kHz in, 5 kHz stopped", 5000, 16000, 8000, -200, -70, 0, 0, 16000},
		{"44.1 kHz in, 1 kHz", 1000, 44100, 8000, -0.05, 0.05, 1000, 2, 16000},
		{"upsample 8 → 22.05 kHz, 1 kHz", 1000, 8000, 22050, -0.05, 0.05, 1000, 2, 44100},
		{"same rate", 1000, 8000, 8000, -0.001, 0.001, 1000, 1, 16000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newResampler(tt.in, tt.out)
			if err != nil {
				t.Fatal(err)
			}
			out := r.resample(sine(tt.freq, tt.in, 2, amp))
			if len(out) != tt.wantOutSamples {
				t.Fatalf("%d samples out, want %d", len(out), tt.wantOutSamples)
			}
			mid := middle(out)
			db := 20 * math.Log10(rms(mid)/ref)
			if math.IsInf(db, -1) {
				db = -200
			}
			if db < tt.minDB || db > tt.maxDB {
				t.Errorf("level %.2f dB, want %.2f…%.2f dB", db, tt.minDB, tt.maxDB)
			}
			if tt.wantFreq > 0 {
				seconds := float64(len(mid)) / float64(tt.out)
				f := float64(zeroCrossings(mid)) / 2 / seconds
				if math.Abs(f-tt.wantFreq) > tt.freqTolerance {
					t.Errorf("frequency %.1f Hz, want %.0f ± %.0f Hz", f, tt.wantFreq, tt.freqTolerance)
				}
			}
			t.Logf("%.2f dB", db)
		})
	}
}

func TestResampleEdges(t *testing.T) {
	r, err := newResampler(22050, 8000)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []int16
		want func(t *testing.T, out []int16)
	}{
		{"empty", nil, func(t *testing.T, out []int16) {
			if len(out) != 0 {
				t.Errorf("%d samples from none", len(out))
			}
		}},
		{"one sample", []int16{1000}, func(t *testing.T, out []int16) {
			if len(out) != 1 {
				t.Errorf("%d samples from one", len(out))
			}
		}},
		{"DC stays DC", constant(22050, 12345), func(t *testing.T, out []int16) {
			for i, x := range middle(out) {
				if x != 12345 {
					t.Fatalf("sample %d = %d, want 12345", i, x)
				}
			}
		}},
		{"full scale square wave saturates, does not wrap", square(22050, 500, 32767), func(t *testing.T, out []int16) {
			// Gibbs overshoot beside each edge exceeds full scale: those
			// samples must clamp at the rail, not wrap to the other sign.
			// Away from an edge by more than the filter's transition the
			// output has the input's sign and most of its level.
			in := square(22050, 500, 32767)
			for k, x := range out {
				i := k * 22050 / 8000
				if i < 5 || i+5 >= len(in) || in[i-5] != in[i+5] {
					continue // at an edge
				}
				if (x < 0) != (in[i] < 0) || x > -20000 && x < 20000 {
					t.Fatalf("sample %d = %d, input there is %d", k, x, in[i])
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.want(t, r.resample(tt.in)) })
	}
}

func constant(n int, v int16) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = v
	}
	return pcm
}

// square is n samples of a square wave with a period of 2·halfPeriod samples.
func square(n, halfPeriod int, amp int16) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = amp
		if i/halfPeriod%2 == 1 {
			pcm[i] = -amp
		}
	}
	return pcm
}

func TestNewResamplerErrors(t *testing.T) {
	tests := []struct {
		in, out int
		err     string
	}{
		{0, 8000, "rates must be positive"},
		{22050, -1, "rates must be positive"},
		{22051, 8000, "needs too many filter phases"},
	}
	for _, tt := range tests {
		if _, err := newResampler(tt.in, tt.out); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("newResampler(%d, %d) = %v, want %q", tt.in, tt.out, err, tt.err)
		}
	}
}

func FuzzResample(f *testing.F) {
	f.Add([]byte{0, 0x80, 0xFF, 0x7F}, uint16(22050))
	f.Add([]byte{1, 2, 3}, uint16(11025))
	f.Fuzz(func(t *testing.T, raw []byte, rate uint16) {
		r, err := newResampler(int(rate), 8000)
		if err != nil {
			return
		}
		in := make([]int16, len(raw)/2)
		for i := range in {
			in[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		out := r.resample(in)
		if want := (len(in)*8000 + int(rate) - 1) / int(rate); len(out) != want {
			t.Fatalf("%d samples out of %d at %d Hz, want %d", len(out), len(in), rate, want)
		}
	})
}

func BenchmarkResample(b *testing.B) {
	in := sine(1000, 22050, 5, 10000)
	b.ReportMetric(5, "audio-s/op")
	for b.Loop() {
		r, err := newResampler(22050, 8000)
		if err != nil {
			b.Fatal(err)
		}
		r.resample(in)
	}
}
