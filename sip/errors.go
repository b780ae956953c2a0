package sip

import (
	"errors"

	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/sip/media"
	"kefu/sip/sdp"
)

// Reasons an INVITE is refused. statusFor maps each to its SIP response; it is
// the one place that decides which error becomes which status code.
var (
	errDraining         = errors.New("not taking new calls: draining for shutdown")
	errForbiddenSource  = errors.New("source address is not in any configured trunk")
	errUnknownNumber    = errors.New("dialled number is not an access number")
	errFlowMissing      = errors.New("the access number's flow is not loaded")
	errNoOffer          = errors.New("INVITE without an SDP offer")
	errNotSDP           = errors.New("INVITE body is not application/sdp")
	errNeeds100rel      = errors.New("INVITE requires 100rel, which Kefu does not support")
	errDuplicateCall    = errors.New("a call with this Call-ID is already in progress")
	errFlowHangupBefore = errors.New("flow hung up before answering")
	errNoContact        = errors.New("INVITE without a Contact header")
	// errEarlyBye: the caller sent BYE before we answered (RFC 3261 §15);
	// the INVITE still gets its final response, 487.
	errEarlyBye = errors.New("caller hung up before the answer (BYE on the early dialog)")
	// errCallerCancelled: the caller's CANCEL crossed our 200 OK.
	errCallerCancelled = errors.New("caller cancelled as we answered")
)

// status is a SIP final response.
type status struct {
	code   int
	reason string
	// warning, if set, goes in a Warning header (RFC 3261 §20.43) so the peer's
	// logs say what to change.
	warning string
}

// statusFor maps an error refusing or ending an unanswered call to the response
// the caller gets.
func statusFor(err error) status {
	switch {
	case errors.Is(err, errDraining), errors.Is(err, errShutdown):
		return status{sipmsg.StatusServiceUnavailable, "Service Unavailable", "shutting down: retry on another node"}
	case errors.Is(err, errForbiddenSource):
		return status{sipmsg.StatusForbidden, "Forbidden", "source not in any trunk: add its network to trunks in the config"}
	case errors.Is(err, errUnknownNumber):
		return status{sipmsg.StatusNotFound, "Not Found", "number not configured: add it under access_numbers"}
	case errors.Is(err, errFlowMissing):
		return status{sipmsg.StatusInternalServerError, "Server Internal Error", "flow not loaded: run kefu flows check"}
	case errors.Is(err, errNeeds100rel):
		return status{sipmsg.StatusBadExtension, "Bad Extension", ""}
	case errors.Is(err, errNotSDP):
		return status{sipmsg.StatusUnsupportedMediaType, "Unsupported Media Type", "send application/sdp"}
	case errors.Is(err, errNoOffer):
		return status{sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", "send an SDP offer in the INVITE"}
	case errors.Is(err, sdp.ErrNoCommonCodec), errors.Is(err, sdp.ErrNoAudio):
		return status{sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", "Incompatible media format: offer PCMU or PCMA"}
	case errors.Is(err, sdp.ErrMalformed):
		return status{sipmsg.StatusBadRequest, "Bad Request", "malformed SDP"}
	case errors.Is(err, media.ErrNoPorts):
		return status{sipmsg.StatusServiceUnavailable, "Service Unavailable", "no free media ports: widen -rtp-ports"}
	case errors.Is(err, errDuplicateCall):
		return status{482, "Loop Detected", ""}
	case errors.Is(err, errNoContact):
		return status{sipmsg.StatusBadRequest, "Bad Request", "INVITE needs a Contact header"}
	case errors.Is(err, errEarlyBye):
		return status{sipmsg.StatusRequestTerminated, "Request Terminated", ""}
	case errors.Is(err, errFlowHangupBefore):
		return status{sipmsg.StatusTemporarilyUnavailable, "Temporarily Unavailable", ""}
	default:
		return status{sipmsg.StatusInternalServerError, "Server Internal Error", ""}
	}
}

// warningHeader renders a Warning header value: code 399 (miscellaneous), our
// agent name, the text.
func warningHeader(agent, text string) sipmsg.Header {
	return sipmsg.NewHeader("Warning", `399 `+agent+` "`+text+`"`)
}
