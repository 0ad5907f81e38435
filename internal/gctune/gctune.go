// Package gctune sets the garbage collector's pace from the live heap.
//
// Go's default (GOGC=100) starts a collection each time the heap has grown
// by as much as is live. f2bx's live heap is small (tens of MiB) while it
// turns over hundreds of bytes per log line, so under a flood the default
// collects dozens of times a second: collection and its write barriers
// took a fifth of the filter's time on one core, and its pauses and
// assists set the tail of ban latency. Tune gives a small heap a fixed
// headroom instead (a higher GOGC), and a large one Go's default, so that
// memory stays bounded by twice the live heap plus the headroom.
package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Headroom is the default growth allowed between collections: the
// headroom a small live heap gets.
const Headroom = 64 << 20

// Bounds of the percent Tune sets: never below Go's default, never so high
// that a near-empty heap waits for gigabytes.
const (
	MinPercent = 100
	MaxPercent = 800
)

// Percent is the GOGC that gives a live heap of live bytes headroom bytes
// to grow, within [MinPercent, MaxPercent].
func Percent(live, headroom uint64) int {
	if live == 0 {
		return MaxPercent
	}
	p := headroom * 100 / live
	return int(min(max(p, MinPercent), MaxPercent))
}

// Tuner re-sets the GC percent after every collection.
type Tuner struct {
	headroom uint64
	sample   []metrics.Sample
	mu       sync.Mutex
	stopped  bool
	percent  int
}

// Start tunes the collector from now on, unless the environment sets
// GOGC (the administrator's choice wins); nil then. headroom 0 is
// Headroom.
func Start(headroom uint64) *Tuner {
	if _, set := os.LookupEnv("GOGC"); set {
		return nil
	}
	if headroom == 0 {
		headroom = Headroom
	}
	t := &Tuner{headroom: headroom, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.tune()
	t.arm()
	return t
}

// arm runs tune after the next collection: a cleanup runs once the
// object it watches is found unreachable, that is, in the cycle after it
// was allocated.
func (t *Tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *Tuner) {
		if t.tune() {
			t.arm()
		}
	}, t)
}

// sentinel is the object whose end marks a collection: with a pointer,
// so that it never shares a tiny allocation with other objects.
type sentinel struct{ _ *byte }

// tune sets the percent for the live heap measured; false once stopped.
func (t *Tuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	live := uint64(0)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	if p := Percent(live, t.headroom); p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
	return true
}

// Percent is the GC percent last set.
func (t *Tuner) Percent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percent
}

// Stop stops tuning and restores Go's default percent.
func (t *Tuner) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(MinPercent)
	}
}
