package main

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/f2bx/f2bx/ringbuf"
)

// burstGap separates a client's bursts: requests that reach the server
// less than this apart belong to one stretch without a ban.
const burstGap = 500 * time.Millisecond

// burst is one stretch of a client's requests reaching the server: from
// its first request after a ban (or the start) to the last before the
// next ban.
type burst struct {
	First, Last time.Time
	Retry       time.Time // arrival of the maxretry-th request
	// Logged is when the server's write of the maxretry-th request's line
	// returned (the IPS could see it from then on).
	Logged                time.Time
	FirstRound, LastRound uint32
	N                     int
}

// server answers valid requests and logs every invalid one, with date and
// client address, to a log file or the shared-memory ring. It runs in dut.
type server struct {
	maxRetry int
	index    map[netip.Addr]int // client address → index

	logMu   sync.Mutex
	file    *os.File
	bw      *bufio.Writer
	rw      *ringbuf.Writer
	written atomic.Int64

	invalid atomic.Int64
	valid   atomic.Int64

	bursts [][]burst // per client; the last is open
	probes *probeLog
	conns  []net.PacketConn
	wg     sync.WaitGroup
	cpu    int // the serving threads' CPU, -1 for any
}

func newServer(clients []netip.Addr, maxRetry int, logPath string, ring *ringbuf.Ring, cpu int) (*server, error) {
	s := &server{maxRetry: maxRetry, index: map[netip.Addr]int{}, bursts: make([][]burst, len(clients)), probes: newProbeLog(len(clients)), cpu: cpu}
	for i, c := range clients {
		s.index[c] = i
	}
	if ring != nil {
		ring.Prefault() // a long-lived writer: no fault per page on its first pass
		rw, err := ring.NewWriter(0)
		if err != nil {
			return nil, err
		}
		s.rw = rw
	} else {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		s.file, s.bw = f, bufio.NewWriterSize(f, 1<<20)
	}
	return s, nil
}

// listen opens the UDP sockets on port (call inside dut) and serves.
func (s *server) listen(port int) error {
	for _, nw := range []string{"udp4", "udp6"} {
		addr := "0.0.0.0"
		if nw == "udp6" {
			addr = "[::]"
		}
		c, err := net.ListenPacket(nw, addr+":"+strconv.Itoa(port))
		if err != nil {
			s.close()
			return err
		}
		forceRcvBuf(c, 32<<20)
		s.conns = append(s.conns, c)
	}
	for _, c := range s.conns {
		s.wg.Add(1)
		go s.serve(c)
	}
	return nil
}

// forceRcvBuf raises the socket's receive buffer past rmem_max (root).
func forceRcvBuf(c net.PacketConn, n int) {
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
			})
		}
	}
}

func (s *server) serve(c net.PacketConn) {
	defer s.wg.Done()
	pinThread(s.cpu)
	// ipv4.PacketConn's ReadBatch is recvmmsg for either family.
	pc := ipv4.NewPacketConn(c)
	const batch = 64
	ms := make([]ipv4.Message, batch)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, 256)}
	}
	var lines [][]byte
	var retried []int // clients whose maxretry-th request is in this batch
	line := make([]byte, 0, 64*batch)
	for {
		n, err := pc.ReadBatch(ms, 0)
		if err != nil {
			return
		}
		now := time.Now()
		stamp := now.Format("2006-01-02 15:04:05.000000")
		lines, line, retried = lines[:0], line[:0], retried[:0]
		for _, m := range ms[:n] {
			p := m.Buffers[0][:m.N]
			from := m.Addr.(*net.UDPAddr).AddrPort()
			if len(p) < payloadLen {
				continue
			}
			switch p[0] {
			case validByte:
				s.valid.Add(1)
				c.WriteTo(p, m.Addr)
			case probeByte:
				if i, ok := s.index[from.Addr().Unmap()]; ok && int(binary.BigEndian.Uint16(p[1:])) == i {
					s.probes.arrived(i, binary.BigEndian.Uint32(p[3:]))
				}
			case invalidByte:
				s.invalid.Add(1)
				a := from.Addr().Unmap()
				if i, ok := s.index[a]; ok && s.note(i, binary.BigEndian.Uint32(p[3:]), now) {
					retried = append(retried, i)
				}
				start := len(line)
				line = append(line, stamp...)
				line = append(line, " Invalid request from "...)
				line = a.AppendTo(line)
				lines = append(lines, line[start:len(line):len(line)])
			}
		}
		if len(lines) > 0 {
			s.log(lines)
		}
		if len(retried) > 0 {
			logged := time.Now()
			for _, i := range retried {
				bs := s.bursts[i]
				bs[len(bs)-1].Logged = logged
			}
		}
	}
}

// note records a request of client i sent in round r; true when it is
// the maxretry-th of its burst.
func (s *server) note(i int, r uint32, now time.Time) bool {
	bs := s.bursts[i]
	if len(bs) == 0 || now.Sub(bs[len(bs)-1].Last) > burstGap {
		bs = append(bs, burst{First: now, FirstRound: r})
	}
	b := &bs[len(bs)-1]
	b.N++
	if b.N == s.maxRetry {
		b.Retry = now
		select {
		case s.probes.start <- probeStart{i, now}:
		default: // the prober is behind: this ban is timed by requests only
		}
	}
	b.Last, b.LastRound = now, max(b.LastRound, r)
	s.bursts[i] = bs
	return b.N == s.maxRetry
}

// log writes lines to the ring (overwrite mode: the server never waits)
// or appends them to the file, flushed at once.
func (s *server) log(lines [][]byte) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.rw != nil {
		for len(lines) > 0 {
			n, err := s.rw.WriteV(lines)
			s.written.Add(int64(n))
			lines = lines[n:]
			if err != nil {
				return
			}
		}
		return
	}
	for _, l := range lines {
		s.bw.Write(l)
		s.bw.WriteByte('\n')
	}
	s.bw.Flush()
	s.written.Add(int64(len(lines)))
}

func (s *server) close() {
	for _, c := range s.conns {
		c.Close()
	}
	s.wg.Wait()
	if s.rw != nil {
		s.rw.Close()
	}
	if s.file != nil {
		s.file.Close()
	}
}
