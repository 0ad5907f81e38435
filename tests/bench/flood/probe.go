package main

import (
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// A client's ban takes effect between two of its requests, which at low
// rates are tens of ms apart (at 10k requests/s, 254 clients each send
// every 28 ms). To time the ban closer than that, once the server has the
// client's maxretry-th request the prober sends that client's probes, a
// packet every probeEvery that the server neither logs nor answers, until
// none of those sent in the last probeQuiet arrived, or probeFor passed. The
// client's first dropped packet is then its first probe that never
// arrived, or its first dropped request when that came first.
const (
	probeByte  = 'P'
	probeEvery = 200 * time.Microsecond
	probeQuiet = 4 * time.Millisecond
	probeFor   = 100 * time.Millisecond
)

// probeStart asks for probes of client c, whose maxretry-th request
// reached the server at retry.
type probeStart struct {
	client int
	retry  time.Time
}

// episode is one stretch of probes of a client: probe First+k was sent at
// Sent[k], unless k is in NotSent (sendmmsg did not take it).
type episode struct {
	Retry   time.Time
	First   uint32
	Sent    []time.Time
	NotSent []int
}

// probeLog is the server's side: the probes that arrived.
type probeLog struct {
	start chan probeStart // to the prober; nil: no probes
	// high is, per client, the highest probe number that arrived plus
	// one (0: none), for the prober's stop rule; seqs are all of them,
	// read once the server has stopped.
	high []atomic.Uint32
	seqs [][]uint32
}

func newProbeLog(clients int) *probeLog {
	return &probeLog{start: make(chan probeStart, 4096), high: make([]atomic.Uint32, clients), seqs: make([][]uint32, clients)}
}

// arrived records probe seq of client c (one goroutine per client: each
// client has one address family, and each family one serving goroutine).
func (l *probeLog) arrived(c int, seq uint32) {
	l.seqs[c] = append(l.seqs[c], seq)
	if seq+1 > l.high[c].Load() {
		l.high[c].Store(seq + 1)
	}
}

// firstLost returns when the first probe of ep that never arrived, after
// the last that did, was sent (false when none did not), and when that
// last one was sent (zero when none arrived): the ban took effect between
// the two.
func (l *probeLog) firstLost(c int, ep *episode) (lost, through time.Time, ok bool) {
	end := ep.First + uint32(len(ep.Sent))
	k := uint32(0) // probes of ep up to the last that arrived
	for _, s := range l.seqs[c] {
		if s >= ep.First && s < end {
			k = max(k, s-ep.First+1)
		}
	}
	if k > 0 {
		through = ep.Sent[k-1]
	}
	for ; int(k) < len(ep.Sent); k++ {
		if !slices.Contains(ep.NotSent, int(k)) {
			return ep.Sent[k], through, true
		}
	}
	return time.Time{}, through, false
}

// prober sends probes with the clients' source addresses from the
// generator's sockets. It runs in atk.
type prober struct {
	gen      *generator
	log      *probeLog
	next     []uint32    // per client, its next probe's number
	episodes [][]episode // per client; read after run
}

func newProber(gen *generator, log *probeLog) *prober {
	n := len(gen.clients)
	return &prober{gen: gen, log: log, next: make([]uint32, n), episodes: make([][]episode, n)}
}

// episodeOf returns client c's probes for the burst whose maxretry-th
// request arrived at retry (nil: none). Call it after run.
func (p *prober) episodeOf(c int, retry time.Time) *episode {
	if p == nil {
		return nil
	}
	for k := range p.episodes[c] {
		if p.episodes[c][k].Retry.Equal(retry) {
			return &p.episodes[c][k]
		}
	}
	return nil
}

// run probes the clients the server names until stop closes.
func (p *prober) run(stop <-chan struct{}) {
	oob := clientOOB(p.gen.clients)
	d4 := net.UDPAddrFromAddrPort(p.gen.dst4)
	d6 := net.UDPAddrFromAddrPort(p.gen.dst6)
	bufs := make([][]byte, len(p.gen.clients))
	for c := range bufs {
		bufs[c] = make([]byte, payloadLen)
		bufs[c][0] = probeByte
		binary.BigEndian.PutUint16(bufs[c][1:], uint16(c))
	}
	probing := make([]bool, len(p.gen.clients))
	pace := newPacer(probeEvery, time.Now, nanosleep)
	var active []int
	var m4, m6 []ipv4.Message
	var e4, e6 []*episode // the episode of each message
	add := func(s probeStart) {
		if probing[s.client] {
			return
		}
		probing[s.client] = true
		p.episodes[s.client] = append(p.episodes[s.client], episode{Retry: s.retry, First: p.next[s.client]})
		active = append(active, s.client)
	}
	for {
		if len(active) == 0 {
			select {
			case s := <-p.log.start:
				add(s)
			case <-stop:
				return
			}
		}
	more:
		for {
			select {
			case s := <-p.log.start:
				add(s)
			case <-stop:
				return
			default:
				break more
			}
		}
		now := time.Now()
		keep := active[:0]
		m4, m6, e4, e6 = m4[:0], m6[:0], e4[:0], e6[:0]
		for _, c := range active {
			ep := &p.episodes[c][len(p.episodes[c])-1]
			// Probes First+k0... were sent in the last probeQuiet.
			k0 := sort.Search(len(ep.Sent), func(k int) bool { return !ep.Sent[k].Before(now.Add(-probeQuiet)) })
			lost := k0 > 0 && p.log.high[c].Load() <= ep.First+uint32(k0)
			if lost || now.Sub(ep.Retry) > probeFor {
				probing[c] = false
				continue
			}
			// Each client has its own buffer, sent once per round.
			binary.BigEndian.PutUint32(bufs[c][3:], p.next[c])
			p.next[c]++
			ep.Sent = append(ep.Sent, now)
			if p.gen.clients[c].Is4() {
				m4 = append(m4, ipv4.Message{Buffers: [][]byte{bufs[c]}, OOB: oob[c], Addr: d4})
				e4 = append(e4, ep)
			} else {
				m6 = append(m6, ipv4.Message{Buffers: [][]byte{bufs[c]}, OOB: oob[c], Addr: d6})
				e6 = append(e6, ep)
			}
			keep = append(keep, c)
		}
		active = keep
		// A probe that did not go out is no probe.
		for _, ep := range e4[sendAll(p.gen.c4, m4):] {
			ep.NotSent = append(ep.NotSent, len(ep.Sent)-1)
		}
		for _, ep := range e6[sendAll(p.gen.c6, m6):] {
			ep.NotSent = append(ep.NotSent, len(ep.Sent)-1)
		}
		pace.wait()
	}
}

// periods returns the times between each client's successive probes, in
// ms, sorted. Call it after run.
func (p *prober) periods() []float64 {
	var every []float64
	for _, eps := range p.episodes {
		for _, ep := range eps {
			for k := 1; k < len(ep.Sent); k++ {
				every = append(every, ms(ep.Sent[k].Sub(ep.Sent[k-1])))
			}
		}
	}
	sort.Float64s(every)
	return every
}

// pacer spaces rounds of probes every period: it sleeps until the next
// round is due, less the thread timer's lateness (measured at the start:
// on this machine a 50 µs nanosleep takes 0.13 ms, a 200 µs one 0.3 ms),
// so that the period is the work's when that is longer, and about the
// period otherwise, not the period plus the lateness plus the work.
type pacer struct {
	period, late time.Duration
	next         time.Time
	now          func() time.Time
	sleep        func(time.Duration)
}

// newPacer measures the lateness of sleep and starts the schedule now.
func newPacer(period time.Duration, now func() time.Time, sleep func(time.Duration)) *pacer {
	const probe, tries = 20 * time.Microsecond, 16
	lates := make([]time.Duration, tries)
	for i := range lates {
		t0 := now()
		sleep(probe)
		lates[i] = max(0, now().Sub(t0)-probe)
	}
	slices.Sort(lates)
	return &pacer{period: period, late: lates[tries/2], next: now(), now: now, sleep: sleep}
}

// wait returns when the next round is due (at once when it is overdue: a
// late round starts the schedule again from now).
func (p *pacer) wait() {
	now := p.now()
	p.next = p.next.Add(p.period)
	if p.next.Before(now) {
		p.next = now
		return
	}
	if d := p.next.Sub(now) - p.late; d > 0 {
		p.sleep(d)
	}
}

// nanosleep sleeps d on the thread (clock_nanosleep's timer): on this
// machine, Go's timers do not wake before the next millisecond
// (time.Sleep(250µs) took 1.12 ms at p50), nanosleep(100µs) 0.13 ms at
// p50 and 0.2 ms at p99.
func nanosleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}

// sendAll sends ms with sendmmsg (as many calls as it takes; on an error,
// the rest are not sent) and returns how many went out.
func sendAll(w interface {
	WriteBatch([]ipv4.Message, int) (int, error)
}, ms []ipv4.Message) int {
	sent := 0
	for sent < len(ms) {
		n, err := w.WriteBatch(ms[sent:], 0)
		if err != nil || n <= 0 {
			break
		}
		sent += n
	}
	return sent
}

// clientOOB returns each client's control message setting its source
// address (IP_PKTINFO / IPV6_PKTINFO).
func clientOOB(clients []netip.Addr) [][]byte {
	oob := make([][]byte, len(clients))
	for i, c := range clients {
		if c.Is4() {
			oob[i] = (&ipv4.ControlMessage{Src: c.AsSlice()}).Marshal()
		} else {
			oob[i] = (&ipv6.ControlMessage{Src: c.AsSlice()}).Marshal()
		}
	}
	return oob
}
