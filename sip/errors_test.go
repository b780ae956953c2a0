package sip

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"kefu/sip/media"
	"kefu/sip/sdp"
)

func TestStatusFor(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want status
	}{
		{errDraining, status{503, "Service Unavailable", "shutting down: retry on another node"}},
		{errShutdown, status{503, "Service Unavailable", "shutting down: retry on another node"}},
		{errForbiddenSource, status{403, "Forbidden", "source not in any trunk: add its network to trunks in the config"}},
		{errUnknownNumber, status{404, "Not Found", "number not configured: add it under access_numbers"}},
		{errFlowMissing, status{500, "Server Internal Error", "flow not loaded: run kefu flows check"}},
		{errNoOffer, status{488, "Not Acceptable Here", "send an SDP offer in the INVITE"}},
		{errNotSDP, status{415, "Unsupported Media Type", "send application/sdp"}},
		{errNeeds100rel, status{420, "Bad Extension", ""}},
		{errDuplicateCall, status{482, "Loop Detected", ""}},
		{errFlowHangupBefore, status{480, "Temporarily Unavailable", ""}},
		{fmt.Errorf("answer: %w", sdp.ErrNoCommonCodec), status{488, "Not Acceptable Here", "Incompatible media format: offer PCMU or PCMA"}},
		{fmt.Errorf("answer: %w", sdp.ErrNoAudio), status{488, "Not Acceptable Here", "Incompatible media format: offer PCMU or PCMA"}},
		{fmt.Errorf("parse offer: %w: no v= line", sdp.ErrMalformed), status{400, "Bad Request", "malformed SDP"}},
		{fmt.Errorf("allocate: %w", media.ErrNoPorts), status{503, "Service Unavailable", "no free media ports: widen -rtp-ports"}},
		{fmt.Errorf("call 7: %w", fmt.Errorf("refuse: %w", errForbiddenSource)), status{403, "Forbidden", "source not in any trunk: add its network to trunks in the config"}},
		{errors.Join(errors.New("other"), errUnknownNumber), status{404, "Not Found", "number not configured: add it under access_numbers"}},
		{errors.New("something else"), status{500, "Server Internal Error", ""}},
		{errMediaTimeout, status{500, "Server Internal Error", ""}},
		{nil, status{500, "Server Internal Error", ""}},
	} {
		name := "nil"
		if tc.err != nil {
			name = tc.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			got := statusFor(tc.err)
			if got != tc.want {
				t.Errorf("statusFor(%v) = %+v, want %+v", tc.err, got, tc.want)
			}
			if got.code < 400 || got.code > 699 {
				t.Errorf("code %d is not a final failure response", got.code)
			}
			if got.reason == "" {
				t.Error("no reason phrase")
			}
			if got.warning == "" {
				return
			}
			if strings.ContainsAny(got.warning, "\"\\\r\n") {
				t.Errorf("warning %q cannot go in a quoted-string as is", got.warning)
			}
			h := warningHeader("Kefu", got.warning)
			if h.Name() != "Warning" {
				t.Errorf("header name %q, want Warning", h.Name())
			}
			if want := `399 Kefu "` + got.warning + `"`; h.Value() != want {
				t.Errorf("Warning: %s, want %s", h.Value(), want)
			}
		})
	}
}

func TestWarningHeader(t *testing.T) {
	h := warningHeader("kefu.example", "send application/sdp")
	if got, want := h.String(), `Warning: 399 kefu.example "send application/sdp"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
