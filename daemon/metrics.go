package daemon

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/f2bx/f2bx/action/xdp"
	"github.com/f2bx/f2bx/source/file"
)

// Metrics are the daemon's counters, read by the metrics endpoint.
type Metrics struct {
	mu       sync.Mutex
	sources  map[string]*sourceCounters
	missed   map[string]uint64
	follower atomic.Pointer[file.Follower]
}

type sourceCounters struct {
	lines, matched, cut atomic.Uint64
}

// NewMetrics returns empty counters.
func NewMetrics() *Metrics {
	return &Metrics{sources: map[string]*sourceCounters{}, missed: map[string]uint64{}}
}

func (m *Metrics) source(name string) *sourceCounters {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.sources[name]
	if c == nil {
		c = &sourceCounters{}
		m.sources[name] = c
	}
	return c
}

func (c *sourceCounters) add(lines, matched, cut int) {
	c.lines.Add(uint64(lines))
	c.matched.Add(uint64(matched))
	c.cut.Add(uint64(cut))
}

func (m *Metrics) ringMissed(ring string, n uint64) {
	m.mu.Lock()
	m.missed[ring] = n
	m.mu.Unlock()
}

func (m *Metrics) setFollower(f *file.Follower) { m.follower.Store(f) }

// SourceStat is one stream's line counters.
type SourceStat struct {
	Source              string
	Lines, Matched, Cut uint64
}

// Sources returns every stream's counters, by name.
func (m *Metrics) Sources() []SourceStat {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SourceStat, 0, len(m.sources))
	for n, c := range m.sources {
		out = append(out, SourceStat{n, c.lines.Load(), c.matched.Load(), c.cut.Load()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// RingMissed returns the lines each ring's reader missed (overwrite mode).
func (m *Metrics) RingMissed() map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]uint64, len(m.missed))
	for k, v := range m.missed {
		out[k] = v
	}
	return out
}

// Follower returns the file follower's counters (ok false without one).
func (m *Metrics) Follower() (file.Stats, bool) {
	f := m.follower.Load()
	if f == nil {
		return file.Stats{}, false
	}
	return f.Stats(), true
}

// JailStat is one jail's counters.
type JailStat struct {
	Name                         string
	CurrentlyFailed, TotalFailed int
	CurrentlyBanned, TotalBanned int
	Evicted                      uint64
}

// Snapshot is what the metrics endpoint reports besides the line counters.
type Snapshot struct {
	Jails []JailStat
	// XDP is nil without the XDP backend.
	XDP *xdp.Totals
}

// Metrics returns the daemon's counters.
func (d *Daemon) Metrics() *Metrics { return d.o.Metrics }

// Snapshot reads the jails' counters and the XDP program's totals.
func (d *Daemon) Snapshot() Snapshot {
	var s Snapshot
	if p := d.pipeline(); p != nil {
		for _, n := range p.names() {
			st := p.rt[n].j.Counts()
			s.Jails = append(s.Jails, JailStat{n, st.CurrentlyFailed, st.TotalFailed, st.CurrentlyBanned, st.TotalBanned, st.Evicted})
		}
	}
	d.backendMu.Lock()
	bl := d.blacklist
	d.backendMu.Unlock()
	if bl != nil {
		if t, err := bl.Totals(); err == nil {
			s.XDP = &t
		}
	}
	return s
}
