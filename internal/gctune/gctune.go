// Package gctune sets the garbage collector's pace from the live heap.
//
// Go's default (GOGC=100) starts a collection each time the heap has grown
// by as much as is live. f2bx's live heap is small (tens of MiB) while it
// turns over hundreds of bytes per log line, so under a flood the default
// collects dozens of times a second: collection and its write barriers
// took a fifth of the filter's time on one core, and its pauses and
// assists set the tail of ban latency. Tune gives a small heap a fixed
// headroom instead (a higher GOGC), and a large one Go's default, so that
// memory stays bounded by twice the live heap plus the headroom. Warm makes
// that room resident at start, so that the first flood does not pay a page
// fault for each fresh page of heap.
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

// Warm makes the headroom resident: it allocates blocks up to the
// collector's goal, writes to every page of them and collects them again,
// so that the pages stay mapped as free heap (the runtime keeps free pages
// up to the goal; it returns only what lies beyond). Without it, the first
// flood after start grows the heap into fresh pages, each a page fault as
// the objects of its failures are allocated (in a virtual machine, each a
// trip to the hypervisor), which a daemon that has seen one flood no
// longer pays. It returns the heap's resident bytes (in use or free)
// after; nothing for a nil tuner (GOGC set).
func (t *Tuner) Warm() uint64 {
	if t == nil {
		return 0
	}
	goal, used, _ := heapRoom()
	if goal <= used {
		return 0
	}
	// A little short of the goal, so that warming does not itself start a
	// collection that counts the blocks as live. The blocks take the free
	// pages already resident first, then fresh ones.
	room := (goal - used) / 10 * 9
	page := os.Getpagesize()
	blocks := make([][]byte, 0, room/warmBlock+1)
	for n := uint64(0); n+warmBlock <= room; n += warmBlock {
		b := make([]byte, warmBlock)
		for i := 0; i < len(b); i += page {
			b[i] = 1
		}
		blocks = append(blocks, b)
	}
	runtime.KeepAlive(blocks) // live until here: a collection while warming keeps them
	runtime.GC()
	_, used, free := heapRoom()
	return used + free
}

// warmBlock is the size of Warm's blocks.
const warmBlock = 1 << 20

// heapRoom returns the collector's goal, the heap memory in use (objects
// and the unused rest of their spans) and the free heap memory that is
// still resident.
func heapRoom() (goal, used, free uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() != metrics.KindUint64 {
			return 0, 0, 0
		}
	}
	return s[0].Value.Uint64(), s[1].Value.Uint64() + s[2].Value.Uint64(), s[3].Value.Uint64()
}
