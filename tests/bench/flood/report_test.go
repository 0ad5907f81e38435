package main

import (
	"math"
	"net/netip"
	"testing"
	"time"
)

// summarize on a hand-made run: one client banned after its maxretry-th
// request in both of its bursts, one never banned.
func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clients := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}
	g := &generator{clients: clients, perClient: []int64{100, 100}}
	for r := range 100 { // a round every 10 ms
		g.rounds = append(g.rounds, t0.Add(time.Duration(r)*10*time.Millisecond))
	}
	genEnd := t0.Add(time.Second)
	s := &server{maxRetry: 3, probes: newProbeLog(2), bursts: [][]burst{
		{
			// Rounds 0-2 through, the ban before round 3 (sent at 30 ms):
			// 5 ms after the 3rd request arrived, at 25 ms.
			{First: t0.Add(5 * time.Millisecond), Retry: t0.Add(25 * time.Millisecond), Last: t0.Add(25 * time.Millisecond), FirstRound: 0, LastRound: 2, N: 3},
			// After the unban: rounds 40-42, the ban before 43 (430 ms).
			// Its line logged 0.25 ms after the request arrived.
			{First: t0.Add(405 * time.Millisecond), Retry: t0.Add(427 * time.Millisecond), Logged: t0.Add(427250 * time.Microsecond), Last: t0.Add(427 * time.Millisecond), FirstRound: 40, LastRound: 42, N: 3},
		},
		// Never banned: every request arrived, until the end.
		{{First: t0.Add(5 * time.Millisecond), Retry: t0.Add(25 * time.Millisecond), Last: genEnd, FirstRound: 0, LastRound: 99, N: 100}},
	}}
	s.invalid.Store(106)
	g.sent.Store(200)
	// Client 0's second burst was probed every 0.25 ms from 427.5 ms:
	// probes 0-3 arrived (the last sent at 428.25 ms), 4-11 did not, so
	// its first dropped packet was probe 4, sent at 428.5 ms.
	pr := newProber(g, s.probes)
	ep := episode{Retry: t0.Add(427 * time.Millisecond)}
	for k := range 12 {
		ep.Sent = append(ep.Sent, t0.Add(427500*time.Microsecond+time.Duration(k)*250*time.Microsecond))
	}
	ep.Sent[11] = ep.Sent[11].Add(750 * time.Microsecond) // the last one late
	pr.episodes[0] = []episode{ep}
	for _, seq := range []uint32{0, 2, 1, 3} { // in any order
		s.probes.arrived(0, seq)
	}
	// Client 1 was probed at 25.5 ms, and its probe arrived: no drop.
	pr.episodes[1] = []episode{{Retry: t0.Add(25 * time.Millisecond), Sent: []time.Time{t0.Add(25500 * time.Microsecond)}}}
	s.probes.arrived(1, 0)
	r := &result{MaxRetry: 3, BanTime: 0.5, Elapsed: 1}
	r.summarize(s, g, &validClients{}, pr, genEnd)

	// Client 1's burst is due (it began a ban time before the end) but
	// never ended.
	if r.Bursts != 3 || r.Banned != 2 || r.Due != 3 || r.Renewed != 2 {
		t.Errorf("bursts %d banned %d due %d renewed %d, want 3 2 3 2", r.Bursts, r.Banned, r.Due, r.Renewed)
	}
	// Client 0's requests of rounds 3 and 43 are the first dropped: sent
	// at 30 ms and 430 ms (the round's start; it is the first client).
	want := []float64{3, 5}
	if len(r.RetryToDrop) != 2 || math.Abs(r.RetryToDrop[0]-want[0]) > 1e-9 || math.Abs(r.RetryToDrop[1]-want[1]) > 1e-9 {
		t.Errorf("retry → drop %v ms, want %v", r.RetryToDrop, want)
	}
	if len(r.RenewRetryToDrop) != 1 || math.Abs(r.RenewRetryToDrop[0]-3) > 1e-9 {
		t.Errorf("renewals %v ms, want [3]", r.RenewRetryToDrop)
	}
	// The first ban was not probed (its dropped request times it); the
	// second's first dropped packet is probe 4, 1.5 ms after the
	// maxretry-th request, before the dropped request at 430 ms.
	if want := []float64{1.5, 5}; len(r.RetryToPacketDrop) != 2 || math.Abs(r.RetryToPacketDrop[0]-want[0]) > 1e-9 || math.Abs(r.RetryToPacketDrop[1]-want[1]) > 1e-9 || r.ProbeTimed != 1 {
		t.Errorf("retry → first dropped packet %v ms (%d by a probe), want %v (1)", r.RetryToPacketDrop, r.ProbeTimed, want)
	}
	// Its last probe through, probe 3, was sent at 428.25 ms.
	if len(r.RetryToProbeThrough) != 1 || math.Abs(r.RetryToProbeThrough[0]-1.25) > 1e-9 {
		t.Errorf("retry → last probe through %v ms, want [1.25]", r.RetryToProbeThrough)
	}
	if len(r.RenewRetryToPacketDrop) != 1 || math.Abs(r.RenewRetryToPacketDrop[0]-1.5) > 1e-9 {
		t.Errorf("renewals by packet %v ms, want [1.5]", r.RenewRetryToPacketDrop)
	}
	// Only the second ban's line has a time it was logged.
	if len(r.RetryToLogged) != 1 || math.Abs(r.RetryToLogged[0]-0.25) > 1e-9 {
		t.Errorf("retry → logged %v ms, want [0.25]", r.RetryToLogged)
	}
	// Probes went every 0.25 ms, but for the last, 1 ms after the one
	// before.
	if r.ProbeEvery != [2]float64{0.25, 1} {
		t.Errorf("probes every %v ms (p50, p99), want [0.25 1]", r.ProbeEvery)
	}
	// Two ban cycles in 1 s: 6 requests of each client may arrive.
	// Client 0 sent 100 and 6 arrived; client 1 sent 100 and all arrived,
	// 94 of which should have been dropped.
	if wantDrop := 1 - 94.0/188; math.Abs(r.RelativeDrop-wantDrop) > 1e-9 {
		t.Errorf("relative drop %.4f, want %.4f", r.RelativeDrop, wantDrop)
	}
	if !math.IsNaN(pct(nil, 0.5)) || pct(r.RetryToDrop, 0.99) != 5 {
		t.Errorf("pct: %v %v", pct(nil, 0.5), pct(r.RetryToDrop, 0.99))
	}
}

// A probe that never went out is skipped: the first lost is the next.
func TestProbeNotSentIsNoProbe(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := &generator{clients: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, perClient: []int64{10}}
	for r := range 10 { // a round every 10 ms
		g.rounds = append(g.rounds, t0.Add(time.Duration(r)*10*time.Millisecond))
	}
	retry := t0.Add(25 * time.Millisecond)
	// Rounds 0-2 arrived; round 3's request (30 ms) did not.
	s := &server{maxRetry: 3, probes: newProbeLog(1), bursts: [][]burst{{{First: t0, Retry: retry, Last: retry, LastRound: 2, N: 3}}}}
	pr := newProber(g, s.probes)
	at := func(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }
	// Probes 0-1 arrived, probe 2 never went out, probe 3 (27 ms) was the
	// first lost.
	pr.episodes[0] = []episode{{Retry: retry, Sent: []time.Time{at(25500), at(26000), at(26500), at(27000)}, NotSent: []int{2}}}
	s.probes.arrived(0, 0)
	s.probes.arrived(0, 1)
	r := &result{MaxRetry: 3, BanTime: 1, Elapsed: 2}
	r.summarize(s, g, &validClients{}, pr, t0.Add(2*time.Second))
	if len(r.RetryToPacketDrop) != 1 || math.Abs(r.RetryToPacketDrop[0]-2) > 1e-9 || r.ProbeTimed != 1 {
		t.Errorf("retry → first dropped packet %v ms (%d by a probe), want [2] (1)", r.RetryToPacketDrop, r.ProbeTimed)
	}
}

// A run where every second shows the same count (here none reached the
// server) still plots on the log scale.
func TestPlotFlatRun(t *testing.T) {
	r := &result{IPS: "f2bx", Source: "file", Rate: 1, Seconds: []second{{T: 1}, {T: 2}, {T: 3}}}
	files, err := plotRates(t.TempDir(), []*result{r})
	if err != nil || len(files) != 1 {
		t.Fatalf("plot: %v, %v", files, err)
	}
}
