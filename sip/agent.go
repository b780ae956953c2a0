package sip

import (
	"context"
	"fmt"
	"strconv"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/routing"
	"kefu/sip/sdp"
)

// agentCall is what an agent's phone is told about the call it is offered.
type agentCall struct {
	id       string    // the call's id (routing and X-Kefu-Call)
	caller   string    // the customer's number, shown on the phone
	codec    sdp.Codec // the customer leg's codec, offered first
	callback string    // the number to call back, for a callback request
}

// dialAgent rings the agent's registered phone for offer o and returns the
// answered leg. It gives up after ringTimeout (CANCEL) or when ctx ends (the
// caller hung up).
func (s *Server) dialAgent(ctx context.Context, ac agentCall, o routing.Offer, ringTimeout time.Duration) (*outLeg, error) {
	target, ok := s.reg.lookup(o.AgentID)
	if !ok {
		return nil, fmt.Errorf("%w: agent %s", errNotRegistered, o.AgentID)
	}
	// Screen-pop data for phones and desktops that read it.
	hdrs := []sipmsg.Header{
		sipmsg.NewHeader("X-Kefu-Call", ac.id),
		sipmsg.NewHeader("X-Kefu-Queue", o.Queue),
		sipmsg.NewHeader("X-Kefu-Offer", strconv.FormatUint(o.Token, 10)),
	}
	if ac.callback != "" {
		hdrs = append(hdrs, sipmsg.NewHeader("X-Kefu-Callback", ac.callback))
	}
	return s.dial(ctx, dialRequest{
		name:        "agent " + o.AgentID,
		target:      target,
		fromUser:    ac.caller,
		codec:       ac.codec,
		headers:     hdrs,
		ringTimeout: ringTimeout,
	})
}
