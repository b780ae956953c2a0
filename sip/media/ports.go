package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts reports that every even port of a PortPool is in use or fails
// to bind. The SIP layer answers 503.
var ErrNoPorts = errors.New("media: no free RTP port")

// PortPool hands out UDP sockets on even ports of a range (RTP convention;
// the odd port above is left for RTCP). It rotates through the range, so a
// port just released is reused only after all the others have been tried,
// which keeps a hung-up peer's late RTP away from the next call.
//
// Ports are returned with Release; a Session created with Config.Pool
// releases its port on Close, so a closed Session never leaks one.
type PortPool struct {
	ip     netip.Addr
	lo, hi int // even bounds, inclusive

	mu    sync.Mutex
	next  int
	inUse map[int]struct{}
}

// NewPortPool returns a pool of the even ports in [lo, hi] on ip (which may
// be the unspecified address).
func NewPortPool(ip netip.Addr, lo, hi int) (*PortPool, error) {
	if !ip.IsValid() {
		return nil, fmt.Errorf("media: port pool: invalid IP address")
	}
	if lo < 1 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("media: port pool: bad range %d-%d (want 1 <= lo <= hi <= 65535)", lo, hi)
	}
	if lo%2 == 1 {
		lo++
	}
	if hi%2 == 1 {
		hi--
	}
	if lo > hi {
		return nil, fmt.Errorf("media: port pool: range %d-%d has no even port", lo, hi)
	}
	return &PortPool{ip: ip.Unmap(), lo: lo, hi: hi, next: lo, inUse: map[int]struct{}{}}, nil
}

// Listen binds the next free even port, rotating through the range and
// skipping ports that are in use or fail to bind (taken by another process).
// It returns an error wrapping ErrNoPorts when none can be bound. The caller
// owns the socket and must Release its port after closing it (a Session
// with Config.Pool does both).
func (p *PortPool) Listen() (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.Len()
	var lastErr error
	for range n {
		port := p.next
		p.next += 2
		if p.next > p.hi {
			p.next = p.lo
		}
		if _, busy := p.inUse[port]; busy {
			continue
		}
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port)))) //nolint:gosec // port <= 65535
		if err != nil {
			lastErr = err
			continue
		}
		p.inUse[port] = struct{}{}
		return conn, nil
	}
	if lastErr != nil {
		return nil, fmt.Errorf("%w in %d-%d on %s (%d in use; last bind error: %w)", ErrNoPorts, p.lo, p.hi, p.ip, len(p.inUse), lastErr)
	}
	return nil, fmt.Errorf("%w in %d-%d on %s (%d in use)", ErrNoPorts, p.lo, p.hi, p.ip, len(p.inUse))
}

// Release returns port to the pool. Releasing a port that is not in use is
// a no-op, so it is safe to call twice.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}

// Len is the number of ports in the pool (the even ports of the range).
func (p *PortPool) Len() int { return (p.hi-p.lo)/2 + 1 }

// InUse is the number of ports handed out and not yet released.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}
