package ringbuf

import (
	"encoding/binary"
	"fmt"
	"os"
)

// Writer writes lines into one segment it owns.
type Writer struct {
	r       *Ring
	seg     int
	pid     uint32
	idx     uint64 // lines published
	minRead uint64 // the slowest reader's index, as last computed
	cut     uint64
}

// NewWriter claims a segment: segment, or the first free one when
// segment is negative. A segment whose writer died is taken over and
// continues where it stopped (a restarted writer reattaches).
func (r *Ring) NewWriter(segment int) (*Writer, error) {
	pid := uint32(os.Getpid())
	try := func(s int) bool {
		st, wp := r.writerState(s), r.writerPid(s)
		if st.CompareAndSwap(0, 1) {
			wp.Store(pid)
			return true
		}
		old := wp.Load()
		return !alive(old) && wp.CompareAndSwap(old, pid)
	}
	if segment >= r.Segments() {
		return nil, fmt.Errorf("ringbuf: segment %d of %d", segment, r.Segments())
	}
	for s := range r.Segments() {
		if (segment < 0 || s == segment) && try(s) {
			// minRead 0 is a lower bound: the first full-looking write
			// computes the real one.
			return &Writer{r: r, seg: s, pid: pid, idx: r.writeIndex(s).Load()}, nil
		}
	}
	return nil, fmt.Errorf("ringbuf: writer segment: %w", ErrNoSlot)
}

// Segment is the writer's segment.
func (w *Writer) Segment() int { return w.seg }

// Cut counts lines cut to the ring's line size.
func (w *Writer) Cut() uint64 { return w.cut }

// Write writes one line.
func (w *Writer) Write(line []byte) error {
	_, err := w.WriteV([][]byte{line})
	return err
}

// WriteV writes lines with one publication for all of them. In lossless
// mode it writes as many as there is room for and returns ErrFull with
// the count written when that is not all. Lines longer than the ring's
// line size are cut.
func (w *Writer) WriteV(lines [][]byte) (int, error) {
	n := len(lines)
	if !w.r.g.overwrite {
		if room := w.room(); room < uint64(n) {
			n = int(room)
		}
	}
	max := w.r.LineSize()
	for _, l := range lines[:n] {
		if len(l) > max {
			l = l[:max]
			w.cut++
		}
		s := w.r.slot(w.seg, w.idx)
		binary.LittleEndian.PutUint32(s, uint32(len(l)))
		copy(s[4:], l)
		w.idx++
	}
	w.r.writeIndex(w.seg).Store(w.idx)
	w.wakeReaders()
	if n < len(lines) {
		return n, ErrFull
	}
	return n, nil
}

// wakeReaders wakes the readers waiting for lines. The write index was
// stored first: a reader that counted itself a sleeper after that sees the
// lines, one that did before is woken (both sides are sequentially
// consistent atomics).
func (w *Writer) wakeReaders() {
	for k := range int(w.r.g.readers) {
		if w.r.readerSleepers(k).Load() != 0 {
			w.r.wakeSlot(k)
		}
	}
}

// wakeSlot wakes every goroutine, in any process, sleeping on reader slot
// k: the slot's wake word moves on, so that a sleeper about to wait sees
// it changed.
func (r *Ring) wakeSlot(k int) {
	seq := r.readerWake(k)
	seq.Add(1)
	futexWake(seq)
}

// room is how many lines fit before the slowest attached reader; when
// the ring looks full, readers whose process died are released.
func (w *Writer) room() uint64 {
	lines := uint64(w.r.g.lines)
	if w.idx-w.minRead < lines {
		return lines - (w.idx - w.minRead)
	}
	for pass := 0; pass < 2; pass++ {
		min, slowest := w.idx, -1
		for k := range int(w.r.g.readers) {
			if w.r.readerState(k).Load() != 1 {
				continue
			}
			if ri := w.r.readIndex(w.seg, k).Load(); ri < min {
				min, slowest = ri, k
			}
		}
		w.minRead = min
		if w.idx-min < lines || slowest < 0 {
			break
		}
		if pid := w.r.readerPid(slowest).Load(); !alive(pid) {
			w.r.readerState(slowest).CompareAndSwap(1, 0) // a dead reader blocks no one
			continue
		}
		break
	}
	if w.idx-w.minRead >= lines {
		return 0
	}
	return lines - (w.idx - w.minRead)
}

// Close releases the segment.
func (w *Writer) Close() error {
	if w.r.writerPid(w.seg).Load() == w.pid {
		w.r.writerState(w.seg).Store(0)
	}
	return nil
}
