package media

import (
	"net"
	"net/netip"
	"sync"

	"github.com/pion/rtp"
)

// fakeConn is an in-memory packetConn: the test feeds datagrams with
// deliver and reads what the session sent with sent. Blocking is on
// channels, so it works inside a testing/synctest bubble.
type fakeConn struct {
	local netip.AddrPort
	in    chan datagram
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	out     []datagram
	onWrite func(n int) // called (without mu) before recording write n (0-based)
	writes  int
	discard bool
}

type datagram struct {
	data []byte
	addr netip.AddrPort // source for deliver, destination for sent
}

func newFakeConn(local string) *fakeConn {
	return &fakeConn{local: netip.MustParseAddrPort(local), in: make(chan datagram, 64), done: make(chan struct{})}
}

func (c *fakeConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	select {
	case d := <-c.in:
		return copy(b, d.data), d.addr, nil
	case <-c.done:
		return 0, netip.AddrPort{}, net.ErrClosed
	}
}

func (c *fakeConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	n, hook := c.writes, c.onWrite
	c.writes++
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.discard {
		c.out = append(c.out, datagram{data: append([]byte(nil), b...), addr: addr})
	}
	return len(b), nil
}

func (c *fakeConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.local) }

func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

// deliver queues a datagram from addr for the session to read.
func (c *fakeConn) deliver(addr string, data []byte) {
	c.in <- datagram{data: data, addr: netip.MustParseAddrPort(addr)}
}

// sent returns the RTP packets written so far.
func (c *fakeConn) sent() []rtp.Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]rtp.Packet, 0, len(c.out))
	for _, d := range c.out {
		var p rtp.Packet
		if err := p.Unmarshal(d.data); err != nil {
			panic(err)
		}
		out = append(out, p)
	}
	return out
}

// rtpBytes marshals an RTP packet.
func rtpBytes(hdr rtp.Header, payload []byte) []byte {
	hdr.Version = 2
	b, err := (&rtp.Packet{Header: hdr, Payload: payload}).Marshal()
	if err != nil {
		panic(err)
	}
	return b
}
