package ringbuf

// Stat is a ring's state.
type Stat struct {
	Path                      string
	Segments, Lines, LineSize int
	Overwrite                 bool
	Writers                   []WriterStat
	Readers                   []ReaderStat
}

// WriterStat is one segment's state.
type WriterStat struct {
	Segment    int
	Attached   bool
	Pid        uint32
	Alive      bool
	WriteIndex uint64
}

// ReaderStat is one attached reader's state.
type ReaderStat struct {
	Slot   int
	Pid    uint32
	Alive  bool
	Behind uint64 // lines written and not yet read, over all segments
	Missed uint64
}

// Stat reads the indices, writers and attached readers.
func (r *Ring) Stat() Stat {
	st := Stat{Path: r.path, Segments: r.Segments(), Lines: r.Lines(), LineSize: r.LineSize(), Overwrite: r.g.overwrite}
	for s := range r.Segments() {
		pid := r.writerPid(s).Load()
		st.Writers = append(st.Writers, WriterStat{Segment: s, Attached: r.writerState(s).Load() == 1, Pid: pid,
			Alive: alive(pid), WriteIndex: r.writeIndex(s).Load()})
	}
	for k := range int(r.g.readers) {
		if r.readerState(k).Load() != 1 {
			continue
		}
		pid := r.readerPid(k).Load()
		rs := ReaderStat{Slot: k, Pid: pid, Alive: alive(pid), Missed: r.readerMissed(k).Load()}
		for s := range r.Segments() {
			if w, ri := r.writeIndex(s).Load(), r.readIndex(s, k).Load(); w > ri {
				rs.Behind += w - ri
			}
		}
		st.Readers = append(st.Readers, rs)
	}
	return st
}
