package sip

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/ivr"
)

// defaultTransferTimeout bounds a bridged transfer's ringing, and a blind
// transfer's wait for the transferee's verdict, when the flow gives none.
const defaultTransferTimeout = 30 * time.Second

// errTransferred: the call left Kefu by a blind transfer.
var errTransferred = errors.New("call transferred away (REFER accepted)")

// Transfer implements ivr.Call.
//
// Blind: Kefu answers the call if needed and sends REFER in the caller's
// dialog (Refer-To: the target; a number becomes sip:<number>@<trunk
// host>). When the REFER is accepted and the first NOTIFY with a final
// sipfrag status says 2xx, Kefu hangs up its side (BYE) and returns
// TransferDone; a refused REFER, a non-2xx sipfrag, or no verdict within the
// timeout returns TransferFailed and the call stays in the flow.
//
// Bridge: Kefu calls the target (a number goes to sip:<number>@<trunk
// host:port> over the call's transport) for up to the timeout and, once it
// answers, relays the media until one side hangs up: the target hanging up
// returns TransferAfterAgent with the caller still on the line; the caller
// hanging up ends the target's leg (BYE) and returns the hang-up error.
// 486/600 give TransferBusy; 408/480, or no answer in time (CANCEL), give
// TransferNoAnswer; other failures TransferFailed.
func (c *call) Transfer(ctx context.Context, req ivr.TransferRequest) (ivr.TransferResult, error) {
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = defaultTransferTimeout
	}
	switch req.Mode {
	case ivr.TransferBlind:
		target, _, err := c.transferTarget(req.To, false)
		if err != nil {
			return ivr.TransferResult{}, err
		}
		return c.blindTransfer(ctx, target, timeout)
	case ivr.TransferBridge, "":
		target, transport, err := c.transferTarget(req.To, true)
		if err != nil {
			return ivr.TransferResult{}, err
		}
		return c.bridgeTransfer(ctx, target, transport, timeout)
	default:
		return ivr.TransferResult{}, fmt.Errorf("transfer mode %q: use %q or %q", req.Mode, ivr.TransferBlind, ivr.TransferBridge)
	}
}

// transferTarget reads a transfer's To: a SIP URI as it is, or a number,
// which goes to the trunk the call came from (with its port and transport
// when withPort).
func (c *call) transferTarget(to string, withPort bool) (target sipmsg.Uri, transport string, err error) {
	to = strings.TrimSpace(to)
	lower := strings.ToLower(to)
	if strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:") {
		if err := sipmsg.ParseUri(to, &target); err != nil {
			return sipmsg.Uri{}, "", fmt.Errorf("transfer target %q is not a valid SIP URI: %w", to, err)
		}
		return target, "", nil
	}
	if callbackNumber(to) == "" {
		return sipmsg.Uri{}, "", fmt.Errorf("transfer target %q is neither a SIP URI (sip:user@host) nor a number: fix the flow", to)
	}
	if withPort {
		target, err = trunkURI(to, c.source)
		return target, c.network, err
	}
	host, _, err := net.SplitHostPort(c.source)
	if err != nil {
		return sipmsg.Uri{}, "", fmt.Errorf("trunk address %q: %w", c.source, err)
	}
	return sipmsg.Uri{Scheme: "sip", User: to, Host: host}, "", nil
}

// blindTransfer hands the call to target with REFER (RFC 3515).
func (c *call) blindTransfer(ctx context.Context, target sipmsg.Uri, timeout time.Duration) (ivr.TransferResult, error) {
	if err := c.ensureAnswered(); err != nil {
		return ivr.TransferResult{}, err
	}
	log := c.log.With("transfer", "blind", "target", target.String())
	notifies := make(chan int, 8)
	c.mu.Lock()
	c.referCh = notifies
	c.state = "transferring"
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.referCh = nil
		if c.state == "transferring" {
			c.state = "ivr"
		}
		c.mu.Unlock()
	}()

	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	refer := sipmsg.NewRequest(sipmsg.REFER, c.remoteTarget())
	refer.AppendHeader(sipmsg.NewHeader("Refer-To", "<"+target.String()+">"))
	refer.AppendHeader(sipmsg.NewHeader("Referred-By", "<"+c.contact.Address.String()+">"))
	refer.AppendHeader(c.contactHeader())
	res, err := c.dlg.Do(rctx, refer)
	switch {
	case ctx.Err() != nil:
		return ivr.TransferResult{}, c.ended()
	case err != nil:
		log.Info("transfer failed: REFER got no answer", "err", err)
		return ivr.TransferResult{Outcome: ivr.TransferFailed}, nil
	case !res.IsSuccess():
		log.Info("transfer refused", "status", res.StatusCode, "reason", res.Reason)
		return ivr.TransferResult{Outcome: ivr.TransferFailed, Status: res.StatusCode}, nil
	}
	log.Debug("REFER accepted", "status", res.StatusCode)

	// The transferee reports how its call to the target went in NOTIFYs;
	// the first final status decides.
	verdict := func(code int) (ivr.TransferResult, error) {
		if code >= 300 {
			log.Info("transfer failed: the target refused", "status", code)
			return ivr.TransferResult{Outcome: ivr.TransferFailed, Status: code}, nil
		}
		log.Info("call transferred", "status", code)
		c.cancel(errTransferred)
		bctx, cancelBye := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancelBye()
		if err := c.dlg.Bye(bctx); err != nil {
			log.Debug("bye after transfer failed", "err", err)
		}
		return ivr.TransferResult{Outcome: ivr.TransferDone, Status: code}, nil
	}
	for {
		select {
		case code := <-notifies:
			if code >= 200 {
				return verdict(code)
			}
		case <-rctx.Done():
			// A verdict that came with the caller's BYE still counts.
			select {
			case code := <-notifies:
				if code >= 200 {
					return verdict(code)
				}
			default:
			}
			if ctx.Err() != nil {
				return ivr.TransferResult{}, c.ended()
			}
			log.Info("transfer failed: no final NOTIFY in time", "timeout", timeout)
			return ivr.TransferResult{Outcome: ivr.TransferFailed}, nil
		}
	}
}

// remoteTarget is where in-dialog requests to the caller go: its Contact.
func (c *call) remoteTarget() sipmsg.Uri {
	if ct := c.dlg.InviteRequest.Contact(); ct != nil {
		return *ct.Address.Clone()
	}
	return *c.dlg.InviteRequest.From().Address.Clone()
}

// onNotify takes the transferee's reports on a blind transfer (Event:
// refer, message/sipfrag bodies).
func (c *call) onNotify(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	ev := req.GetHeader("Event")
	if ev == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ev.Value(), ";")[0]), "refer") {
		c.srv.reply(req, tx, 489, "Bad Event", sipmsg.NewHeader("Allow-Events", "refer"))
		return
	}
	code, ok := sipfragStatus(req.Body())
	c.srv.reply(req, tx, sipmsg.StatusOK, "OK")
	if !ok {
		c.log.Debug("NOTIFY without a sipfrag status line", "body", string(req.Body()))
		return
	}
	c.mu.Lock()
	ch := c.referCh
	c.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- code:
	default:
	}
}

// sipfragStatus reads the status code of a message/sipfrag body's status
// line ("SIP/2.0 200 OK").
func sipfragStatus(body []byte) (int, bool) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	if !sc.Scan() {
		return 0, false
	}
	f := strings.Fields(sc.Text())
	if len(f) < 2 || !strings.HasPrefix(strings.ToUpper(f[0]), "SIP/") {
		return 0, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, false
	}
	return code, true
}

// bridgeTransfer calls target and connects the caller to it.
func (c *call) bridgeTransfer(ctx context.Context, target sipmsg.Uri, transport string, timeout time.Duration) (ivr.TransferResult, error) {
	if err := c.ensureAnswered(); err != nil {
		return ivr.TransferResult{}, err
	}
	log := c.log.With("transfer", "bridge", "target", target.String())
	c.setState("transferring")
	defer c.setState("ivr")
	log.Info("calling transfer target")
	leg, err := c.srv.dial(ctx, dialRequest{
		name:        "transfer target " + target.String(),
		target:      target,
		transport:   transport,
		fromUser:    c.caller,
		codec:       c.answer.Codec,
		headers:     []sipmsg.Header{sipmsg.NewHeader("X-Kefu-Call", c.id)},
		ringTimeout: timeout,
	})
	if err != nil {
		if ctx.Err() != nil {
			return ivr.TransferResult{}, c.ended()
		}
		res := transferFailure(err)
		log.Info("transfer target not reached", "outcome", res.Outcome, "status", res.Status, "err", err)
		return res, nil
	}
	defer leg.close()
	c.setState("talking")
	log.Info("transfer target answered: bridging")
	targetEnded := c.srv.bridge(ctx, c.leg, leg, log)
	if ctx.Err() != nil && !targetEnded {
		log.Info("caller hung up during the transfer")
		return ivr.TransferResult{}, c.ended()
	}
	log.Info("transfer target hung up")
	return ivr.TransferResult{Outcome: ivr.TransferAfterAgent, Status: sipmsg.StatusOK}, nil
}

// transferFailure maps why a bridged transfer's target was not reached to
// the flow's outcome.
func transferFailure(err error) ivr.TransferResult {
	var re *responseError
	switch {
	case errors.As(err, &re):
		switch re.code {
		case sipmsg.StatusBusyHere, sipmsg.StatusGlobalBusyEverywhere:
			return ivr.TransferResult{Outcome: ivr.TransferBusy, Status: re.code}
		case sipmsg.StatusRequestTimeout, sipmsg.StatusTemporarilyUnavailable:
			return ivr.TransferResult{Outcome: ivr.TransferNoAnswer, Status: re.code}
		}
		return ivr.TransferResult{Outcome: ivr.TransferFailed, Status: re.code}
	case errors.Is(err, errRingTimeout):
		return ivr.TransferResult{Outcome: ivr.TransferNoAnswer}
	default:
		return ivr.TransferResult{Outcome: ivr.TransferFailed}
	}
}
