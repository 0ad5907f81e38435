package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"
)

// second is what one second of a run looked like.
type second struct {
	T             float64 `json:"t"`
	InvalidSent   int64   `json:"invalid_sent"`
	InvalidServer int64   `json:"invalid_reaching_server"`
	ValidSent     int64   `json:"valid_sent"`
	ValidServed   int64   `json:"valid_served"`
	CPU           float64 `json:"ips_cpu_percent"`
	RSS           int64   `json:"ips_rss_bytes"`
	Behind        int64   `json:"log_lines_behind"` // -1: unknown
}

// result is one run: an IPS reading one source at one rate.
type result struct {
	IPS      string  `json:"ips"`
	Source   string  `json:"source"`
	Rate     int     `json:"rate"` // requested invalid requests/s, 0 = max
	Clients4 int     `json:"clients_ipv4"`
	Clients6 int     `json:"clients_ipv6"`
	MaxRetry int     `json:"maxretry"`
	BanTime  float64 `json:"bantime_s"`
	Duration float64 `json:"duration_s"`
	Elapsed  float64 `json:"elapsed_s"`

	InvalidSent    int64   `json:"invalid_sent"`
	InvalidReached int64   `json:"invalid_reaching_server"`
	SocketDrops    int64   `json:"socket_drops"`
	Allowed        int64   `json:"allowed"` // maxretry per client per ban cycle
	RelativeDrop   float64 `json:"relative_drop"`
	AchievedRate   float64 `json:"achieved_rate"`
	ValidSent      int64   `json:"valid_sent"`
	ValidServed    int64   `json:"valid_served"`

	Bursts  int `json:"bursts"`  // stretches of a client reaching the server
	Banned  int `json:"banned"`  // of those, ended by a ban
	Renewed int `json:"renewed"` // ended by a ban within one ban time
	Due     int `json:"due"`     // bursts that began at least a ban time before the end
	// Latencies in ms: from the maxretry-th request reaching the server,
	// and from the burst's first request, to the first dropped request.
	RetryToDrop []float64 `json:"retry_to_drop_ms"`
	FirstToDrop []float64 `json:"first_to_drop_ms"`
	// From the maxretry-th request to the last one that still reached the
	// server: the ban came after it (a lower bound of the ban's latency,
	// where RetryToDrop is the upper bound).
	RetryToLast []float64 `json:"retry_to_last_ms"`
	// RetryToDrop of the renewals only (every burst but a client's first:
	// those that follow an unban, one client at a time, rather than all
	// clients starting at once).
	RenewRetryToDrop []float64 `json:"renew_retry_to_drop_ms"`
	// From the maxretry-th request to the client's first dropped packet:
	// its first probe that never arrived, or its first dropped request
	// when that came first (see probe.go); every ban, and the renewals.
	RetryToPacketDrop      []float64 `json:"retry_to_first_dropped_packet_ms"`
	RenewRetryToPacketDrop []float64 `json:"renew_retry_to_first_dropped_packet_ms"`
	// RetryToLogged is the server's own share of RetryToPacketDrop: from
	// the maxretry-th request's arrival to the end of the write of its
	// line (stamp, format, write; on the generator's CPU, see -layout).
	RetryToLogged []float64 `json:"retry_to_logged_ms"`
	// RetryToProbeThrough is, for the bans timed by a probe, the lower
	// bound: from the maxretry-th request to the send time of the last
	// probe that still arrived (0 when none did). The ban took effect
	// after it; the gap to RetryToPacketDrop is the probes' resolution.
	RetryToProbeThrough []float64 `json:"retry_to_last_probe_through_ms"`
	// ProbeEvery is the time between a client's successive probes, p50
	// and p99 in ms (the probes' resolution; the prober aims at 0.2 ms).
	ProbeEvery [2]float64 `json:"probe_every_ms_p50_p99"`
	// ProbeTimed counts the bans whose first dropped packet was a probe.
	ProbeTimed int `json:"probe_timed"`
	// Bans per client (bursts ended by a ban).
	BansPerClient []int `json:"bans_per_client"`

	CPUAvg  float64  `json:"ips_cpu_avg_percent"`
	RSSMax  int64    `json:"ips_rss_max_bytes"`
	Behind  int64    `json:"log_lines_behind_max"`
	Seconds []second `json:"seconds"`
}

func (r *result) fileName() string {
	return fmt.Sprintf("%s-%s-%s", r.IPS, r.Source, rateKey(r.Rate))
}

func rateKey(rate int) string {
	if rate == 0 {
		return "max"
	}
	return fmt.Sprint(rate)
}

// sample records one second at a time until stop closes.
func sample(p *ips, srv *server, gen *generator, vc *validClients, stop <-chan struct{}) []second {
	var out []second
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	cpu0, _ := p.usage()
	var last second
	for {
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
		cpu, rss := p.usage()
		s := second{
			T:             time.Since(start).Seconds(),
			InvalidSent:   gen.sent.Load(),
			InvalidServer: srv.invalid.Load(),
			ValidSent:     vc.sent.Load(),
			ValidServed:   vc.served.Load(),
			RSS:           rss,
			Behind:        -1,
		}
		if n := p.processed(); n >= 0 {
			s.Behind = max(0, srv.written.Load()-n)
		}
		cur := s
		s.InvalidSent -= last.InvalidSent
		s.InvalidServer -= last.InvalidServer
		s.ValidSent -= last.ValidSent
		s.ValidServed -= last.ValidServed
		s.CPU = 100 * (cpu - cpu0).Seconds()
		cpu0, last = cpu, cur
		out = append(out, s)
	}
}

// summarize computes the run's totals and per-client figures.
func (r *result) summarize(srv *server, gen *generator, vc *validClients, pr *prober, genEnd time.Time) {
	r.InvalidSent = gen.sent.Load()
	r.InvalidReached = srv.invalid.Load()
	r.ValidSent, r.ValidServed = vc.sent.Load(), vc.served.Load()
	r.AchievedRate = float64(r.InvalidSent) / r.Elapsed
	cycles := int64(math.Ceil(r.Elapsed / r.BanTime))
	banTime := time.Duration(r.BanTime * float64(time.Second))
	var leaked, should int64
	for c, bs := range srv.bursts {
		sent := gen.perClient[c]
		allowed := min(sent, cycles*int64(r.MaxRetry))
		got := int64(0)
		bans := 0
		for k, b := range bs {
			got += int64(b.N)
			r.Bursts++
			due := genEnd.Sub(b.First) > banTime
			if due {
				r.Due++
			}
			if genEnd.Sub(b.Last) <= burstGap {
				continue // still reaching the server when the flood ended
			}
			drop, ok := gen.sendTime(c, b.LastRound+1)
			if !ok {
				continue
			}
			r.Banned++
			bans++
			if due && drop.Sub(b.First) <= banTime {
				r.Renewed++
			}
			if first, ok := gen.sendTime(c, b.FirstRound); ok {
				r.FirstToDrop = append(r.FirstToDrop, ms(drop.Sub(first)))
			}
			if b.N >= r.MaxRetry {
				reqDrop := ms(max(0, drop.Sub(b.Retry)))
				r.RetryToDrop = append(r.RetryToDrop, reqDrop)
				r.RetryToLast = append(r.RetryToLast, ms(b.Last.Sub(b.Retry)))
				packetDrop := reqDrop
				if ep := pr.episodeOf(c, b.Retry); ep != nil {
					// A probe goes missing only when the ban drops it
					// (the server's socket does not overflow at these
					// rates, and a probe that did not go out is none).
					if lost, through, ok := srv.probes.firstLost(c, ep); ok && ms(lost.Sub(b.Retry)) < packetDrop {
						packetDrop = ms(lost.Sub(b.Retry)) // probes go out after the maxretry-th request
						r.ProbeTimed++
						passed := 0.0
						if !through.IsZero() {
							passed = ms(through.Sub(b.Retry))
						}
						r.RetryToProbeThrough = append(r.RetryToProbeThrough, passed)
					}
				}
				r.RetryToPacketDrop = append(r.RetryToPacketDrop, packetDrop)
				if !b.Logged.IsZero() {
					r.RetryToLogged = append(r.RetryToLogged, ms(b.Logged.Sub(b.Retry)))
				}
				if k > 0 {
					r.RenewRetryToDrop = append(r.RenewRetryToDrop, reqDrop)
					r.RenewRetryToPacketDrop = append(r.RenewRetryToPacketDrop, packetDrop)
				}
			}
		}
		r.BansPerClient = append(r.BansPerClient, bans)
		r.Allowed += allowed
		leaked += max(0, got-allowed)
		should += max(0, sent-allowed)
	}
	leaked += r.SocketDrops
	if should > 0 {
		r.RelativeDrop = max(0, 1-float64(leaked)/float64(should))
	}
	sort.Float64s(r.RetryToDrop)
	sort.Float64s(r.FirstToDrop)
	sort.Float64s(r.RetryToLast)
	sort.Float64s(r.RenewRetryToDrop)
	sort.Float64s(r.RetryToPacketDrop)
	sort.Float64s(r.RenewRetryToPacketDrop)
	sort.Float64s(r.RetryToLogged)
	sort.Float64s(r.RetryToProbeThrough)
	if pr != nil {
		every := pr.periods()
		r.ProbeEvery = [2]float64{pct(every, 0.5), pct(every, 0.99)}
	}
	var cpu float64
	for _, s := range r.Seconds {
		cpu += s.CPU
		r.RSSMax = max(r.RSSMax, s.RSS)
		r.Behind = max(r.Behind, s.Behind)
	}
	if len(r.Seconds) > 0 {
		r.CPUAvg = cpu / float64(len(r.Seconds))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct returns the q-quantile of sorted values (NaN when empty).
func pct(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return v[min(len(v)-1, int(q*float64(len(v))))]
}

func writeJSON(path string, r *result) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// printSummary prints one column per run, the runs of a rate side by side.
func printSummary(w io.Writer, c config, rs []*result) {
	fmt.Fprintf(w, "\nflood: %d IPv4 + %d IPv6 flooding clients, %d valid requests/s, maxretry %d, bantime %s, %s per run\n",
		c.clients4, c.clients6, c.validRate, c.maxRetry, c.banTime, c.dur)
	switch _, srv := c.cpus(); {
	case srv >= 0:
		fmt.Fprintln(w, "generator on CPU 0, the server and the IPS on CPU 1")
	case c.pin:
		fmt.Fprintln(w, "generator and server on CPU 0, the IPS on CPU 1")
	}
	fmt.Fprintln(w)
	rows := []struct {
		name string
		f    func(r *result) string
	}{
		{"ips (log source)", func(r *result) string { return r.IPS + " (" + r.Source + ")" }},
		{"requested rate", func(r *result) string { return rateName(r.Rate) }},
		{"invalid sent/s", func(r *result) string { return fmt.Sprintf("%.0f", r.AchievedRate) }},
		{"invalid reaching server", func(r *result) string {
			return fmt.Sprintf("%d of %d", r.InvalidReached, r.InvalidSent)
		}},
		{"relative drop", func(r *result) string { return fmt.Sprintf("%.2f %%", 100*r.RelativeDrop) }},
		{"bans renewed in time", func(r *result) string { return fmt.Sprintf("%d of %d", r.Renewed, r.Due) }},
		{"bans per client min/max", func(r *result) string {
			lo, hi := math.MaxInt, 0
			for _, b := range r.BansPerClient {
				lo, hi = min(lo, b), max(hi, b)
			}
			return fmt.Sprintf("%d / %d", lo, hi)
		}},
		{"maxretry-th → 1st dropped", func(r *result) string { return p50p99(r.RetryToPacketDrop) }},
		{"  renewals", func(r *result) string { return p50p99(r.RenewRetryToPacketDrop) }},
		{"  of which the server's log", func(r *result) string { return p50p99(r.RetryToLogged) }},
		{"  timed by a probe", func(r *result) string {
			return fmt.Sprintf("%d of %d", r.ProbeTimed, len(r.RetryToPacketDrop))
		}},
		{"  probes sent every", func(r *result) string {
			return fmtMS(r.ProbeEvery[0]) + " / " + fmtMS(r.ProbeEvery[1])
		}},
		{"  their last probe through", func(r *result) string { return p50p99(r.RetryToProbeThrough) }},
		{"  → 1st dropped request", func(r *result) string { return p50p99(r.RetryToDrop) }},
		{"  renewals (requests)", func(r *result) string { return p50p99(r.RenewRetryToDrop) }},
		{"maxretry-th → last in p99", func(r *result) string { return fmtMS(pct(r.RetryToLast, 0.99)) }},
		{"first request → drop p50", func(r *result) string { return fmtMS(pct(r.FirstToDrop, 0.5)) }},
		{"first request → drop p99", func(r *result) string { return fmtMS(pct(r.FirstToDrop, 0.99)) }},
		{"valid served", func(r *result) string {
			return fmt.Sprintf("%.1f %%", 100*float64(r.ValidServed)/math.Max(1, float64(r.ValidSent)))
		}},
		{"IPS CPU (avg)", func(r *result) string { return fmt.Sprintf("%.0f %%", r.CPUAvg) }},
		{"IPS RSS (max)", func(r *result) string { return fmt.Sprintf("%.0f MB", float64(r.RSSMax)/(1<<20)) }},
		{"log lines behind (max)", func(r *result) string {
			if r.Behind < 0 {
				return "?"
			}
			return fmt.Sprint(r.Behind)
		}},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-26s", row.name)
		for _, r := range rs {
			fmt.Fprintf(w, " %22s", row.f(r))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// p50p99 prints the median and 99th percentile of sorted values in ms.
func p50p99(v []float64) string { return fmtMS(pct(v, 0.5)) + " / " + fmtMS(pct(v, 0.99)) }

func fmtMS(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 10000:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f s", v/1000)
}

// resultsByRate groups the runs of each rate, in the order run.
func resultsByRate(rs []*result) ([]int, map[int][]*result) {
	var rates []int
	by := map[int][]*result{}
	for _, r := range rs {
		if _, ok := by[r.Rate]; !ok {
			rates = append(rates, r.Rate)
		}
		by[r.Rate] = append(by[r.Rate], r)
	}
	return rates, by
}
