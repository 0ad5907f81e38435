package main

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Payloads: an invalid request is 'B' (0x42, as in the thesis), the
// client's index and the round it was sent in; a valid one is 'A' and a
// sequence number, answered by the server.
const (
	invalidByte = 'B'
	validByte   = 'A'
	payloadLen  = 16
)

// generator sends invalid requests from many clients, round-robin: in
// round r every client sends one request, so a client's request r was
// sent at rounds[r]. It runs in atk.
type generator struct {
	clients []netip.Addr
	dst4    netip.AddrPort
	dst6    netip.AddrPort
	c4      *ipv4.PacketConn
	c6      *ipv6.PacketConn

	// rounds holds the start of each round and perClient each client's
	// requests; both are read only after run returns.
	rounds    []time.Time
	perClient []int64
	sent      atomic.Int64 // read while running
}

func newGenerator(clients []netip.Addr, dst4, dst6 netip.AddrPort) (*generator, error) {
	g := &generator{clients: clients, dst4: dst4, dst6: dst6, perClient: make([]int64, len(clients))}
	l4, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		return nil, err
	}
	l6, err := net.ListenPacket("udp6", "[::]:0")
	if err != nil {
		l4.Close()
		return nil, err
	}
	g.c4, g.c6 = ipv4.NewPacketConn(l4), ipv6.NewPacketConn(l6)
	return g, nil
}

func (g *generator) close() {
	g.c4.Close()
	g.c6.Close()
}

// sendTime returns when client c's request of round r was sent (false
// when it never was): the round's start, plus the client's share of the
// round when the next round began. Call it after run.
func (g *generator) sendTime(c int, r uint32) (time.Time, bool) {
	if int64(r) >= g.perClient[c] {
		return time.Time{}, false
	}
	t := g.rounds[r]
	if int(r)+1 < len(g.rounds) {
		t = t.Add(g.rounds[r+1].Sub(t) * time.Duration(c) / time.Duration(len(g.clients)))
	}
	return t, true
}

// run sends at rate packets/s (0: as fast as it can) until stop closes or
// dur passes. Each batch goes out with one sendmmsg, every message with
// its client's source address (IP_PKTINFO).
func (g *generator) run(rate int, dur time.Duration, stop <-chan struct{}) {
	const batch = 64
	type msgs struct {
		m4 []ipv4.Message
		m6 []ipv6.Message
	}
	oob := clientOOB(g.clients)
	bufs := make([][]byte, len(g.clients))
	for i := range g.clients {
		bufs[i] = make([]byte, payloadLen)
		bufs[i][0] = invalidByte
		binary.BigEndian.PutUint16(bufs[i][1:], uint16(i))
	}
	var m msgs
	d4 := net.UDPAddrFromAddrPort(g.dst4)
	d6 := net.UDPAddrFromAddrPort(g.dst6)
	// ipv4.Message and ipv6.Message are one type (socket.Message).
	send := func(w interface {
		WriteBatch([]ipv4.Message, int) (int, error)
	}, ms []ipv4.Message) []ipv4.Message {
		sendAll(w, ms)
		g.sent.Add(int64(len(ms)))
		return ms[:0]
	}
	flush := func() {
		if len(m.m4) > 0 {
			m.m4 = send(g.c4, m.m4)
		}
		if len(m.m6) > 0 {
			m.m6 = send(g.c6, m.m6)
		}
	}
	start := time.Now()
	end := start.Add(dur)
	var n int64
	round, client := uint32(0), 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		now := time.Now()
		if now.After(end) {
			return
		}
		if rate > 0 {
			due := int64(now.Sub(start).Seconds() * float64(rate))
			if n >= due {
				time.Sleep(time.Duration(float64(n-due+batch) / float64(rate) * float64(time.Second)))
				continue
			}
		}
		for k := 0; k < batch; k++ {
			if client == 0 {
				g.rounds = append(g.rounds, time.Now())
			}
			// A batch never holds two rounds (a round ends with a flush),
			// and sendmmsg copies: one buffer per client is enough.
			b := bufs[client]
			binary.BigEndian.PutUint32(b[3:], round)
			if g.clients[client].Is4() {
				m.m4 = append(m.m4, ipv4.Message{Buffers: [][]byte{b}, OOB: oob[client], Addr: d4})
			} else {
				m.m6 = append(m.m6, ipv6.Message{Buffers: [][]byte{b}, OOB: oob[client], Addr: d6})
			}
			n++
			g.perClient[client]++
			if client++; client == len(g.clients) {
				client, round = 0, round+1
				flush() // a round's requests leave before the next round's
			}
		}
		flush()
	}
}

// validClients send valid requests at a fixed rate and count the answers.
type validClients struct {
	conns  []*net.UDPConn
	dsts   []netip.AddrPort
	sent   atomic.Int64
	served atomic.Int64
}

func newValidClients(addrs []netip.Addr, dst4, dst6 netip.AddrPort) (*validClients, error) {
	v := &validClients{}
	for _, a := range addrs {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
		if err != nil {
			v.close()
			return nil, err
		}
		v.conns = append(v.conns, c)
		if a.Is4() {
			v.dsts = append(v.dsts, dst4)
		} else {
			v.dsts = append(v.dsts, dst6)
		}
	}
	return v, nil
}

func (v *validClients) close() {
	for _, c := range v.conns {
		c.Close()
	}
}

// run sends rate requests/s in all until stop closes or dur passes, and
// counts answers until close.
func (v *validClients) run(rate int, dur time.Duration, stop <-chan struct{}) {
	for _, c := range v.conns {
		go func() {
			buf := make([]byte, 64)
			for {
				if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
				v.served.Add(1)
			}
		}()
	}
	tick := time.NewTicker(time.Second / time.Duration(max(1, rate)))
	defer tick.Stop()
	end := time.After(dur)
	req := make([]byte, payloadLen)
	req[0] = validByte
	for i := uint32(0); ; i++ {
		select {
		case <-stop:
			return
		case <-end:
			return
		case <-tick.C:
		}
		k := int(i) % len(v.conns)
		binary.BigEndian.PutUint32(req[3:], i)
		if _, err := v.conns[k].WriteToUDPAddrPort(req, v.dsts[k]); err == nil {
			v.sent.Add(1)
		}
	}
}
