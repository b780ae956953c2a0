package tts

import (
	"fmt"
	"math"
)

// Resampler filter design. The cutoff sits at 92.5 % of the lower rate's
// Nyquist frequency and the Blackman window's transition band is 15 % of it
// wide, so for 22050 → 8000 Hz the passband is flat to about 3.4 kHz (the
// telephone band) and everything from 4 kHz up is stopped by the window's
// ~74 dB before it could fold back below 4 kHz.
const (
	cutoffShare     = 0.925 // cutoff / (min rate / 2)
	transitionShare = 0.15  // transition width / (min rate / 2)
	blackmanWidth   = 5.5   // Blackman transition width × taps, in units of the input rate
	maxPhases       = 4096  // output/input rate ratios needing more phases are refused
)

// resampler converts mono PCM from one sample rate to another with a
// windowed-sinc (Blackman) low-pass filter evaluated at each output
// sample's exact position in the input. The rates' ratio reduced to
// lowest terms is up/down; output sample n sits at input position
// n·down/up, whose fractional part is one of up phases, each with its own
// precomputed taps. A resampler is read-only after newResampler and safe for
// concurrent use.
type resampler struct {
	up, down int         // out/in rate ratio in lowest terms
	half     int         // taps each side of the output position
	taps     [][]float64 // [phase][2·half] coefficients, each phase summing to 1
}

// newResampler designs the filter from inRate to outRate (Hz).
func newResampler(inRate, outRate int) (*resampler, error) {
	if inRate <= 0 || outRate <= 0 {
		return nil, fmt.Errorf("tts: resample %d Hz to %d Hz: rates must be positive", inRate, outRate)
	}
	g := gcd(inRate, outRate)
	r := &resampler{up: outRate / g, down: inRate / g}
	if r.up > maxPhases {
		return nil, fmt.Errorf("tts: resample %d Hz to %d Hz: the rates' ratio %d/%d needs too many filter phases; produce audio at a common rate (e.g. 22050, 16000 or 8000 Hz)", inRate, outRate, r.up, r.down)
	}
	nyquist := float64(min(inRate, outRate)) / 2
	fc := cutoffShare * nyquist / float64(inRate) // cycles per input sample
	width := transitionShare * nyquist / float64(inRate)
	r.half = int(math.Ceil(blackmanWidth / width / 2))
	r.taps = make([][]float64, r.up)
	for p := range r.taps {
		frac := float64(p) / float64(r.up)
		h := make([]float64, 2*r.half)
		var sum float64
		for j := range h {
			// Tap j multiplies input sample i-half+1+j for an output at
			// position i+frac, i.e. at distance tau from it.
			tau := float64(r.half-1-j) + frac
			h[j] = 2 * fc * sinc(2*fc*tau) * blackman(tau, float64(r.half))
			sum += h[j]
		}
		for j := range h {
			h[j] /= sum // unity gain at DC for every phase
		}
		r.taps[p] = h
	}
	return r, nil
}

// resample converts in to the output rate. The output has
// ceil(len(in)·up/down) samples; input beyond either end counts as silence.
func (r *resampler) resample(in []int16) []int16 {
	if r.up == r.down {
		return append([]int16(nil), in...)
	}
	n := (len(in)*r.up + r.down - 1) / r.down
	out := make([]int16, n)
	for k := range out {
		pos := k * r.down
		i, phase := pos/r.up, pos%r.up
		h := r.taps[phase]
		first := i - r.half + 1
		lo, hi := max(0, -first), min(len(h), len(in)-first)
		var acc float64
		for j := lo; j < hi; j++ {
			acc += h[j] * float64(in[first+j])
		}
		out[k] = clamp16(acc)
	}
	return out
}

// sinc is the normalised sinc function sin(πx)/(πx).
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window over [-half, half], 0 outside.
func blackman(tau, half float64) float64 {
	if math.Abs(tau) >= half {
		return 0
	}
	x := math.Pi * tau / half
	return 0.42 + 0.5*math.Cos(x) + 0.08*math.Cos(2*x)
}

// clamp16 rounds x to the nearest int16, saturating.
func clamp16(x float64) int16 {
	x = math.Round(x)
	switch {
	case x > math.MaxInt16:
		return math.MaxInt16
	case x < math.MinInt16:
		return math.MinInt16
	}
	return int16(x)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
