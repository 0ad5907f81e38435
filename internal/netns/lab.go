package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Lab is two namespaces joined by a veth pair: clients in "atk" with many
// source addresses, a UDP server in "dut" (device under test) that counts
// what reaches it per source.
type Lab struct {
	Atk, Dut *NS
	// DutIf is the interface in dut that traffic arrives on.
	DutIf string
	// Server4 and Server6 are dut's addresses.
	Server4, Server6 netip.Addr
	Port             int
}

// NewLab makes the namespaces, the veth pair and the addresses: dut has
// 10.77.0.254/16 and fd77::fe/64, atk gets the sources passed to AddSources.
func NewLab(prefix string) (*Lab, error) {
	atk, err := New(prefix + "-atk")
	if err != nil {
		return nil, err
	}
	dut, err := New(prefix + "-dut")
	if err != nil {
		atk.Close()
		return nil, err
	}
	l := &Lab{Atk: atk, Dut: dut, DutIf: "veth-dut", Server4: netip.MustParseAddr("10.77.0.254"), Server6: netip.MustParseAddr("fd77::fe"), Port: 9000}
	steps := []func() error{
		func() error { return Veth(atk, "veth-atk", dut, l.DutIf) },
		func() error { return dut.IP("addr", "add", "10.77.0.254/16", "dev", l.DutIf) },
		func() error { return dut.IP("addr", "add", "fd77::fe/64", "dev", l.DutIf, "nodad") },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			l.Close()
			return nil, err
		}
	}
	// Static neighbours both ways, so that no ARP or neighbour
	// discovery from a banned source is needed for traffic to flow.
	mac, err := dut.MAC(l.DutIf)
	if err != nil {
		l.Close()
		return nil, err
	}
	for _, a := range []string{"10.77.0.254", "fd77::fe"} {
		if err := atk.IP("neigh", "replace", a, "lladdr", mac, "dev", "veth-atk", "nud", "permanent"); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// Sources returns n IPv4 sources 10.77.0.1... and m IPv6 sources fd77::1...
func Sources(n, m int) []netip.Addr {
	var s []netip.Addr
	for i := 1; i <= n; i++ {
		s = append(s, netip.AddrFrom4([4]byte{10, 77, byte(i / 250), byte(i%250 + 1)}))
	}
	for i := 1; i <= m; i++ {
		s = append(s, netip.MustParseAddr(fmt.Sprintf("fd77::%x", i)))
	}
	return s
}

// AddSources gives atk the addresses, with dut knowing their MAC.
func (l *Lab) AddSources(srcs []netip.Addr) error {
	mac, err := l.Atk.MAC("veth-atk")
	if err != nil {
		return err
	}
	for _, a := range srcs {
		bits := 16
		if a.Is6() {
			bits = 64
		}
		args := []string{"addr", "add", netip.PrefixFrom(a, bits).String(), "dev", "veth-atk"}
		if a.Is6() {
			args = append(args, "nodad")
		}
		if err := l.Atk.IP(args...); err != nil {
			return err
		}
		if err := l.Dut.IP("neigh", "replace", a.String(), "lladdr", mac, "dev", l.DutIf, "nud", "permanent"); err != nil {
			return err
		}
	}
	return nil
}

// Send sends n datagrams from each source to the server and returns how
// many reached it per source. It waits at most wait for the last one.
func (l *Lab) Send(srcs []netip.Addr, n int, wait time.Duration) (map[netip.Addr]int, error) {
	var ln4, ln6 *net.UDPConn
	err := l.Dut.Do(func() error {
		var err error
		if ln4, err = net.ListenUDP("udp4", &net.UDPAddr{Port: l.Port}); err != nil {
			return err
		}
		ln6, err = net.ListenUDP("udp6", &net.UDPAddr{Port: l.Port})
		return err
	})
	if err != nil {
		if ln4 != nil {
			ln4.Close()
		}
		return nil, err
	}
	defer ln4.Close()
	defer ln6.Close()
	got := map[netip.Addr]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range []*net.UDPConn{ln4, ln6} {
		c.SetReadBuffer(8 << 20)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 2048)
			for {
				c.SetReadDeadline(time.Now().Add(wait))
				_, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				mu.Lock()
				got[from.Addr().Unmap()]++
				mu.Unlock()
			}
		}()
	}
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	err = l.Atk.Do(func() error {
		for _, s := range srcs {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(s, 0)))
			if err != nil {
				return err
			}
			conns = append(conns, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var errs []error
	for i := 0; i < n; i++ {
		for j, c := range conns {
			dst := l.Server4
			if srcs[j].Is6() {
				dst = l.Server6
			}
			if _, err := c.WriteToUDPAddrPort([]byte("B invalid request"), netip.AddrPortFrom(dst, uint16(l.Port))); err != nil {
				errs = append(errs, err)
			}
		}
		time.Sleep(time.Millisecond) // let the server keep up
	}
	wg.Wait()
	return got, errors.Join(errs...)
}

// Close deletes both namespaces.
func (l *Lab) Close() error {
	return errors.Join(l.Atk.Close(), l.Dut.Close())
}
