package ringbuf

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Reader is an attached reader slot: it sees every line written after it
// attached. Several goroutines may read through one Reader; each segment
// is read by one of them at a time.
type Reader struct {
	r     *Ring
	slot  int
	pid   uint32
	locks []sync.Mutex // per segment, in this process
}

// Lines is a batch of lines read: line i is Data[Ends[i-1]:Ends[i]].
type Lines struct {
	Data []byte
	Ends []int
}

// Len is the number of lines.
func (l *Lines) Len() int { return len(l.Ends) }

// Line returns line i (valid until the next read into l).
func (l *Lines) Line(i int) []byte {
	start := 0
	if i > 0 {
		start = l.Ends[i-1]
	}
	return l.Data[start:l.Ends[i]]
}

// Strings returns the lines as strings sharing one allocation.
func (l *Lines) Strings() []string {
	if len(l.Ends) == 0 {
		return nil
	}
	all := string(l.Data)
	out := make([]string, len(l.Ends))
	start := 0
	for i, e := range l.Ends {
		out[i] = all[start:e]
		start = e
	}
	return out
}

// Reset empties l, keeping its memory.
func (l *Lines) Reset() { l.Data, l.Ends = l.Data[:0], l.Ends[:0] }

// NewReader attaches a reader slot (a slot whose process died is taken
// over). It starts at the current end of every segment.
func (r *Ring) NewReader() (*Reader, error) {
	pid := uint32(os.Getpid())
	for k := range int(r.g.readers) {
		st := r.readerState(k)
		claimed := st.CompareAndSwap(0, 2)
		if !claimed {
			old := r.readerPid(k).Load()
			claimed = st.Load() == 1 && !alive(old) && r.readerPid(k).CompareAndSwap(old, pid) && st.CompareAndSwap(1, 2)
		}
		if !claimed {
			continue
		}
		r.readerPid(k).Store(pid)
		r.readerMissed(k).Store(0)
		for s := range r.Segments() {
			r.readIndex(s, k).Store(r.writeIndex(s).Load())
		}
		st.Store(1)
		return &Reader{r: r, slot: k, pid: pid, locks: make([]sync.Mutex, r.Segments())}, nil
	}
	return nil, fmt.Errorf("ringbuf: reader slot: %w", ErrNoSlot)
}

// Slot is the reader's slot number.
func (rd *Reader) Slot() int { return rd.slot }

// Missed counts lines overwritten before this reader read them
// (overwrite mode) or found corrupt.
func (rd *Reader) Missed() uint64 { return rd.r.readerMissed(rd.slot).Load() }

// Close detaches the reader: writers stop waiting for it.
func (rd *Reader) Close() error {
	if rd.r.readerPid(rd.slot).Load() == rd.pid {
		rd.r.readerState(rd.slot).Store(0)
	}
	return nil
}

// ReadV appends up to max lines of segment seg to out and returns how
// many, publishing the new read index once. It returns 0 at once when
// another goroutine of this Reader is reading the segment.
func (rd *Reader) ReadV(seg, max int, out *Lines) int {
	if !rd.locks[seg].TryLock() {
		return 0
	}
	defer rd.locks[seg].Unlock()
	return rd.readLocked(seg, max, out)
}

// Read returns the next line of segment seg, if any (a copy).
func (rd *Reader) Read(seg int) ([]byte, bool) {
	var l Lines
	if rd.ReadV(seg, 1, &l) == 0 {
		return nil, false
	}
	return l.Line(0), true
}

func (rd *Reader) readLocked(seg, max int, out *Lines) int {
	r := rd.r
	ri := r.readIndex(seg, rd.slot)
	next := ri.Load()
	w := r.writeIndex(seg).Load()
	lines := uint64(r.g.lines)
	var missed uint64
	if w-next > lines { // overwritten (or a corrupt index): skip to what is there
		missed += w - next - lines
		next = w - lines
	}
	if w < next { // a corrupt index: nothing sensible to read
		ri.Store(w)
		return 0
	}
	n := int(min(w-next, uint64(max)))
	if n == 0 {
		return 0
	}
	first, dataStart, endsStart := next, len(out.Data), len(out.Ends)
	limit := uint32(r.LineSize())
	for i := range uint64(n) {
		s := r.slot(seg, first+i)
		l := binary.LittleEndian.Uint32(s)
		if l > limit {
			l = limit // corrupt length
		}
		out.Data = append(out.Data, s[4:4+l]...)
		out.Ends = append(out.Ends, len(out.Data))
	}
	if r.g.overwrite {
		// Lines whose slot the writer reached while they were copied are
		// dropped: slot i is rewritten once the writer is at i+lines.
		if w2 := r.writeIndex(seg).Load(); w2 >= first+lines {
			bad := int(min(w2-lines+1-first, uint64(n)))
			if bad > 0 {
				cut := out.Ends[endsStart+bad-1]
				out.Data = append(out.Data[:dataStart], out.Data[cut:]...)
				shifted := out.Ends[endsStart+bad:]
				for j := range shifted {
					shifted[j] -= cut - dataStart
				}
				out.Ends = append(out.Ends[:endsStart], shifted...)
				missed += uint64(bad)
			}
		}
	}
	ri.Store(first + uint64(n))
	if missed > 0 {
		r.readerMissed(rd.slot).Add(missed)
	}
	return len(out.Ends) - endsStart
}

// Wait returns when a writer publishes lines into any segment, when a
// segment already has lines this reader has not read, or after timeout
// (a writer that predates wake-ups never wakes anyone). Any number of
// goroutines may wait on one Reader. The goroutine sleeps in a futex
// system call, keeping its P: a goroutine that hands lines to others
// should wait with a Waiter.
func (rd *Reader) Wait(timeout time.Duration) { rd.waitUnless(timeout, nil) }

// waitUnless is Wait, returning at once once stop (when not nil) is set;
// whoever sets it then calls wake.
func (rd *Reader) waitUnless(timeout time.Duration, stop *atomic.Bool) {
	wake, seq, ready := rd.beginSleep()
	defer rd.endSleep()
	if !ready && (stop == nil || !stop.Load()) {
		futexWait(wake, seq, timeout)
	}
}

// wake wakes every goroutine waiting on the reader's slot (in any
// process; a waiter that finds no lines waits again).
func (rd *Reader) wake() { rd.r.wakeSlot(rd.slot) }

// beginSleep counts a sleeper on the reader's slot (writers wake only
// slots with sleepers) and returns the wake word with the value to wait
// on; ready when lines are already unread. endSleep ends it.
func (rd *Reader) beginSleep() (wake *atomic.Uint32, seq uint32, ready bool) {
	wake = rd.r.readerWake(rd.slot)
	seq = wake.Load()
	rd.r.readerSleepers(rd.slot).Add(1)
	return wake, seq, rd.unread()
}

func (rd *Reader) endSleep() { rd.r.readerSleepers(rd.slot).Add(^uint32(0)) }

// unread reports whether any segment has lines past this reader's index.
func (rd *Reader) unread() bool {
	for s := range rd.r.Segments() {
		if rd.r.writeIndex(s).Load() != rd.r.readIndex(s, rd.slot).Load() {
			return true
		}
	}
	return false
}

// ReadRange reads up to max lines round-robin over segments [lo, hi):
// each segment gives at most its share before the next is asked. With
// steal, when the range has nothing, the other segments are read too (the
// goroutine that owns them may be busy).
func (rd *Reader) ReadRange(lo, hi, max int, steal bool, out *Lines) int {
	got := rd.sweep(lo, hi, max, out)
	if got == 0 && steal {
		got += rd.sweep(0, lo, max, out)
		got += rd.sweep(hi, rd.r.Segments(), max-got, out)
	}
	return got
}

func (rd *Reader) sweep(lo, hi, max int, out *Lines) int {
	got := 0
	if hi <= lo || max <= 0 {
		return 0
	}
	share := (max + hi - lo - 1) / (hi - lo)
	for s := lo; s < hi && got < max; s++ {
		got += rd.ReadV(s, min(share, max-got), out)
	}
	return got
}
