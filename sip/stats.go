package sip

import (
	"sync/atomic"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/sip/media"
)

// Stats are the front end's counters since New, for metrics: the responses
// it sent and the media totals of every call leg it ran.
type Stats struct {
	// Responses counts the responses sent, by request method and status
	// code, in method then code order; pairs never sent are left out.
	Responses []ResponseCount
	// Media sums the RTP counters of every leg (callers, agents, transfer
	// targets, customers called back).
	Media media.TotalCounts
}

// ResponseCount is how many responses with Code Kefu sent to requests of
// Method. Methods Kefu does not know are counted as "OTHER", so that a peer
// cannot make up label values.
type ResponseCount struct {
	Method string
	Code   int
	Count  uint64
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	return Stats{Responses: s.stats.responses.snapshot(), Media: s.stats.media.Counts()}
}

// serverStats are the counters a Server owns; its legs share media.
type serverStats struct {
	responses responseCounts
	media     media.Totals
}

// countedMethods are the methods responses are counted under; anything else
// is "OTHER" (the last index).
var countedMethods = [...]string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "REGISTER", "REFER", "SUBSCRIBE", "MESSAGE", "UPDATE", "PRACK", "OTHER"}

// Status codes counted: 100-699.
const (
	minCode = 100
	maxCode = 699
)

// responseCounts is a fixed table of counters by method and code: one
// atomic add per response, no lock, no allocation.
type responseCounts struct {
	n [len(countedMethods)][maxCode - minCode + 1]atomic.Uint64
}

// methodIndex is the row of m in countedMethods.
func methodIndex(m sipmsg.RequestMethod) int {
	for i, name := range countedMethods[:len(countedMethods)-1] {
		if string(m) == name {
			return i
		}
	}
	return len(countedMethods) - 1
}

// add counts one response to a request in row method; codes outside
// 100-699 (never sent) are ignored.
func (r *responseCounts) add(method, code int) {
	if code < minCode || code > maxCode {
		return
	}
	r.n[method][code-minCode].Add(1)
}

func (r *responseCounts) snapshot() []ResponseCount {
	var out []ResponseCount
	for i := range r.n {
		for j := range r.n[i] {
			if v := r.n[i][j].Load(); v > 0 {
				out = append(out, ResponseCount{Method: countedMethods[i], Code: j + minCode, Count: v})
			}
		}
	}
	return out
}

// countingTx counts every response sent on its transaction: the ones our
// handlers send and the ones sipgo's dialogs send for us (the 200 to a BYE,
// the INVITE's provisional and final responses, which go out on the
// transaction the dialog was read from). Responses the transaction layer
// sends by itself (200 and 487 for a CANCEL that matched an INVITE,
// retransmissions) are not seen here.
type countingTx struct {
	sipmsg.ServerTransaction
	method int
	counts *responseCounts
}

func (t countingTx) Respond(res *sipmsg.Response) error {
	err := t.ServerTransaction.Respond(res)
	if err == nil {
		t.counts.add(t.method, res.StatusCode)
	}
	return err
}

// counted wraps a request handler so that the responses sent on its
// transaction are counted under the request's method.
func (s *Server) counted(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		h(req, countingTx{ServerTransaction: tx, method: methodIndex(req.Method), counts: &s.stats.responses})
	}
}
