package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

// freeRange returns an even lo such that lo..lo+6 can be bound on
// 127.0.0.1 now (other tests and processes may hold ports).
func freeRange(t *testing.T) int {
	t.Helper()
	for lo := 41000; lo < 42000; lo += 10 {
		ok := true
		for port := lo; port <= lo+6 && ok; port += 2 {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
			if err != nil {
				ok = false
				continue
			}
			c.Close()
		}
		if ok {
			return lo
		}
	}
	t.Skip("no free port range")
	return 0
}

func TestPortPool(t *testing.T) {
	lo := freeRange(t)
	p, err := NewPortPool(netip.MustParseAddr("127.0.0.1"), lo-1, lo+7) // odd bounds: 41000..41006
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 4 {
		t.Fatalf("Len = %d, want 4", p.Len())
	}
	// Occupy one port from outside the pool: it must be skipped.
	blocker, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: lo + 2})
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()

	var conns []*net.UDPConn
	var ports []int
	for range 3 {
		c, err := p.Listen()
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
	}
	if ports[0] != lo || ports[1] != lo+4 || ports[2] != lo+6 {
		t.Fatalf("ports = %v, want %d, %d, %d", ports, lo, lo+4, lo+6)
	}
	if p.InUse() != 3 {
		t.Fatalf("InUse = %d", p.InUse())
	}
	if _, err := p.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("exhausted: err = %v", err)
	}
	// Release the first; the next Listen rotates on and finds it only after
	// the others (which are still busy), so it gets lo again.
	conns[0].Close()
	p.Release(ports[0])
	p.Release(ports[0]) // idempotent
	if p.InUse() != 2 {
		t.Fatalf("InUse = %d", p.InUse())
	}
	blocker.Close()
	c, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	// Rotation: the cursor is past lo+6, so lo comes before lo+2.
	if got := c.LocalAddr().(*net.UDPAddr).Port; got != lo {
		t.Fatalf("got port %d, want %d", got, lo)
	}
	c2, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.LocalAddr().(*net.UDPAddr).Port; got != lo+2 {
		t.Fatalf("got port %d, want %d", got, lo+2)
	}
	for _, c := range append(conns[1:], c, c2) {
		c.Close()
	}
}

func TestPortPoolRotation(t *testing.T) {
	lo := freeRange(t)
	p, err := NewPortPool(netip.MustParseAddr("127.0.0.1"), lo, lo+6)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := p.Listen()
	if err != nil {
		t.Skip(err)
	}
	port1 := c1.LocalAddr().(*net.UDPAddr).Port
	c1.Close()
	p.Release(port1)
	c2, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if port2 := c2.LocalAddr().(*net.UDPAddr).Port; port2 == port1 || port2%2 != 0 {
		t.Fatalf("just-released port %d reused at once (got %d)", port1, port2)
	}
}

func TestNewPortPoolErrors(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.1")
	for _, r := range [][2]int{{0, 10}, {10, 5}, {5, 5}, {65535, 65536}, {1000, 70000}} {
		if _, err := NewPortPool(ip, r[0], r[1]); err == nil {
			t.Errorf("range %v accepted", r)
		}
	}
	if _, err := NewPortPool(netip.Addr{}, 1000, 2000); err == nil {
		t.Error("invalid IP accepted")
	}
}
