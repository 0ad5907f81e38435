package metrics

import (
	"net/http"

	"github.com/f2bx/f2bx/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the /metrics handler: the daemon's counters, read at
// each scrape, plus Go's runtime metrics.
func Handler(d *daemon.Daemon) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	reg.MustRegister(&collector{d: d, m: d.Metrics()})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

var (
	descLines    = prometheus.NewDesc("f2bx_lines_total", "Log lines read, per source.", []string{"source"}, nil)
	descMatched  = prometheus.NewDesc("f2bx_lines_matched_total", "Log lines that were failures, per source.", []string{"source"}, nil)
	descCut      = prometheus.NewDesc("f2bx_lines_cut_total", "Log lines cut at the length cap, per source.", []string{"source"}, nil)
	descFailures = prometheus.NewDesc("f2bx_failures_total", "Failures counted, per jail.", []string{"jail"}, nil)
	descFailing  = prometheus.NewDesc("f2bx_failing_ids", "Ids with failures being counted, per jail.", []string{"jail"}, nil)
	descBans     = prometheus.NewDesc("f2bx_bans_total", "Bans, per jail.", []string{"jail"}, nil)
	descBanned   = prometheus.NewDesc("f2bx_banned", "Current bans, per jail.", []string{"jail"}, nil)
	descUnbans   = prometheus.NewDesc("f2bx_unbans_total", "Bans that ended or were lifted, per jail.", []string{"jail"}, nil)
	descEvicted  = prometheus.NewDesc("f2bx_failures_evicted_total", "Ids evicted from a full failure table, per jail.", []string{"jail"}, nil)
	descXDP      = prometheus.NewDesc("f2bx_xdp_packets_total", "Packets the XDP program judged, by verdict.", []string{"verdict"}, nil)
	descXDPBytes = prometheus.NewDesc("f2bx_xdp_bytes_total", "Bytes the XDP program judged, by verdict.", []string{"verdict"}, nil)
	descBehind   = prometheus.NewDesc("f2bx_file_bytes_behind", "Bytes the followed log files hold beyond what was read.", nil, nil)
	descRotation = prometheus.NewDesc("f2bx_file_rotations_total", "Log file rotations followed.", nil, nil)
	descMissed   = prometheus.NewDesc("f2bx_ring_missed_lines_total", "Lines a ring's reader missed (overwrite mode), per ring.", []string{"ring"}, nil)
)

type collector struct {
	d *daemon.Daemon
	m *daemon.Metrics
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLines, descMatched, descCut, descFailures, descFailing, descBans, descBanned, descUnbans, descEvicted, descXDP, descXDPBytes, descBehind, descRotation, descMissed} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range c.m.Sources() {
		counter(descLines, float64(s.Lines), s.Source)
		counter(descMatched, float64(s.Matched), s.Source)
		counter(descCut, float64(s.Cut), s.Source)
	}
	snap := c.d.Snapshot()
	for _, j := range snap.Jails {
		counter(descFailures, float64(j.TotalFailed), j.Name)
		gauge(descFailing, float64(j.CurrentlyFailed), j.Name)
		counter(descBans, float64(j.TotalBanned), j.Name)
		gauge(descBanned, float64(j.CurrentlyBanned), j.Name)
		counter(descUnbans, float64(j.TotalBanned-j.CurrentlyBanned), j.Name)
		counter(descEvicted, float64(j.Evicted), j.Name)
	}
	if t := snap.XDP; t != nil {
		for verdict, s := range map[string]struct{ p, b uint64 }{
			"passed": {t.Passed.Packets, t.Passed.Bytes}, "dropped": {t.Dropped.Packets, t.Dropped.Bytes},
			"malformed": {t.Malformed.Packets, t.Malformed.Bytes}, "allowed": {t.Allowed.Packets, t.Allowed.Bytes},
			"expired": {t.Expired.Packets, t.Expired.Bytes},
		} {
			counter(descXDP, float64(s.p), verdict)
			counter(descXDPBytes, float64(s.b), verdict)
		}
	}
	if fs, ok := c.m.Follower(); ok {
		gauge(descBehind, float64(fs.Behind))
		counter(descRotation, float64(fs.Rotations))
	}
	for ring, n := range c.m.RingMissed() {
		counter(descMissed, float64(n), ring)
	}
}
