// Package ringbuf is a shared-memory ring of log lines that any process
// can write into and several processes can read (the Simplefail2ban
// design, with its flaws fixed). One segment per writer, so writers never
// share a lock; per segment an atomic write index and one read index per
// attached reader, each on its own cache line; fixed-size line slots with
// a length. Every attached reader sees every line. In lossless mode a
// writer gets ErrFull while the slowest reader is a whole segment behind;
// in overwrite mode writers never wait and readers count what they
// missed. Readers and writers that die are detected by pid and their
// slots released; a header whose checksum fails is refused.
package ringbuf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Errors of the ring.
var (
	ErrFull     = errors.New("ring full")
	ErrCorrupt  = errors.New("ring header corrupt")
	ErrNoSlot   = errors.New("no free slot")
	ErrTooLong  = errors.New("line longer than the ring's line size")
	ErrNotFound = errors.New("ring not found")
)

// Options shape a new ring.
type Options struct {
	Segments  int  // writer segments (default 4)
	Lines     int  // line slots per segment, rounded up to a power of two (default 65536)
	LineSize  int  // bytes per line, at most (default 1020; slots are 4 bytes more)
	Readers   int  // reader slots (default 8)
	Overwrite bool // writers never wait; readers count missed lines
}

// Path is where a ring named name lives: /dev/shm/f2bx-NAME, or name
// itself when it is a path.
func Path(name string) string {
	if strings.ContainsRune(name, '/') {
		return name
	}
	return "/dev/shm/f2bx-" + name
}

// Ring is a mapped ring.
type Ring struct {
	path string
	mem  []byte
	g    geometry
	mask uint64
}

// Create makes a new ring (an existing one is an error).
func Create(name string, o Options) (*Ring, error) {
	g := geometry{segments: uint32(defaultInt(o.Segments, 4)), readers: uint32(defaultInt(o.Readers, 8)), overwrite: o.Overwrite}
	lines := defaultInt(o.Lines, 65536)
	g.lines = uint32(1) << bits.Len32(uint32(lines-1))
	g.lineSize = uint32((defaultInt(o.LineSize, 1020) + 4 + 7) &^ 7)
	switch {
	case g.segments > MaxSegments:
		return nil, fmt.Errorf("ringbuf: %d segments: at most %d", g.segments, MaxSegments)
	case g.readers > MaxReaders:
		return nil, fmt.Errorf("ringbuf: %d readers: at most %d", g.readers, MaxReaders)
	case lines > 1<<24 || g.lineSize > 1<<20:
		return nil, fmt.Errorf("ringbuf: %d lines of %d bytes: too large", lines, g.lineSize)
	}
	path := Path(name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ringbuf: create %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(g.size()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("ringbuf: size %s: %w", path, err)
	}
	// Reserve the memory now: a full /dev/shm is an error here rather than
	// a SIGBUS in a writer later, and writers do not pay for first-touch
	// page faults on the hot path.
	if err := unix.Fallocate(int(f.Fd()), 0, 0, g.size()); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
		os.Remove(path)
		return nil, fmt.Errorf("ringbuf: reserve %d bytes for %s: %w", g.size(), path, err)
	}
	mem, err := mapShared(f, int(g.size()))
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("ringbuf: map %s: %w", path, err)
	}
	writeHeader(mem, g)
	return &Ring{path: path, mem: mem, g: g, mask: uint64(g.lines - 1)}, nil
}

// mapShared maps a ring's file with its page tables filled in, writable:
// MAP_POPULATE alone maps a shared file's pages read-only, and a writer's
// first write to each page would still fault (MADV_POPULATE_WRITE, Linux
// 5.14; best effort).
func mapShared(f *os.File, size int) ([]byte, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	_ = unix.Madvise(mem, unix.MADV_POPULATE_WRITE)
	return mem, nil
}

// Prefault touches every page of this process's mapping of the ring, so
// that its first pass over the ring takes no fault. Even with its page
// tables filled in, the first access to each page of a fresh mapping
// faults in a virtual machine that shadows the guest's page tables (a trip
// to the hypervisor each): here a reader's first pass over a fresh 64 MiB
// segment took 27 ms against 0.8 ms after, a writer's 40 ms against
// 1.3 ms, and a daemon starting under a flood fell 50 ms behind. It takes
// about as long as one such pass (some 3 µs a page). The daemon prefaults
// its rings; a long-lived writer should, a writer of a few lines need not.
func (r *Ring) Prefault() {
	page := os.Getpagesize()
	for i := 0; i+4 <= len(r.mem); i += page {
		// An atomic load: writers may be writing the page.
		atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.mem[i])))
	}
}

// Open maps an existing ring, refusing one whose header does not check.
func Open(name string) (*Ring, error) {
	path := Path(name)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ringbuf: %s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("ringbuf: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ringbuf: %s: %w", path, err)
	}
	if fi.Size() < headerSize {
		return nil, fmt.Errorf("ringbuf: %s: %d bytes, shorter than a header: %w", path, fi.Size(), ErrCorrupt)
	}
	mem, err := mapShared(f, int(fi.Size()))
	if err != nil {
		return nil, fmt.Errorf("ringbuf: map %s: %w", path, err)
	}
	g, err := parseHeader(mem, fi.Size())
	if err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("ringbuf: %s: %w", path, err)
	}
	return &Ring{path: path, mem: mem, g: g, mask: uint64(g.lines - 1)}, nil
}

func parseHeader(h []byte, size int64) (geometry, error) {
	le := binary.LittleEndian
	if string(h[:8]) != magic {
		return geometry{}, fmt.Errorf("not an f2bx ring (magic %q): %w", h[:8], ErrCorrupt)
	}
	if v := le.Uint32(h[offVersion:]); v != version {
		return geometry{}, fmt.Errorf("version %d, this build reads %d: %w", v, version, ErrCorrupt)
	}
	if got, want := le.Uint32(h[offChecksum:]), checksum(h); got != want {
		return geometry{}, fmt.Errorf("checksum %08x, want %08x: %w", got, want, ErrCorrupt)
	}
	g := geometry{segments: le.Uint32(h[offSegments:]), lines: le.Uint32(h[offLines:]), lineSize: le.Uint32(h[offLineSize:]),
		readers: le.Uint32(h[offReaders:]), overwrite: le.Uint32(h[offFlags:])&flagOverwrite != 0}
	if g.segments == 0 || g.segments > MaxSegments || g.readers > MaxReaders || g.lines == 0 || g.lines&(g.lines-1) != 0 ||
		g.lineSize < 8 || g.lineSize%8 != 0 || g.lines > 1<<24 || g.lineSize > 1<<20 {
		return geometry{}, fmt.Errorf("impossible geometry %+v: %w", g, ErrCorrupt)
	}
	if g.size() != size || le.Uint64(h[offSize:]) != uint64(size) {
		return geometry{}, fmt.Errorf("size %d, the header says %d: %w", size, g.size(), ErrCorrupt)
	}
	return g, nil
}

// Remove deletes a ring's file; mapped rings stay usable until closed.
func Remove(name string) error {
	if err := os.Remove(Path(name)); err != nil {
		return fmt.Errorf("ringbuf: %w", err)
	}
	return nil
}

// Close unmaps the ring.
func (r *Ring) Close() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	r.mem = nil
	return err
}

// Segments is the number of writer segments.
func (r *Ring) Segments() int { return int(r.g.segments) }

// LineSize is the longest line the ring holds.
func (r *Ring) LineSize() int { return int(r.g.lineSize) - 4 }

// Lines is the number of line slots per segment.
func (r *Ring) Lines() int { return int(r.g.lines) }

// Overwrite reports the ring's mode.
func (r *Ring) Overwrite() bool { return r.g.overwrite }

func (r *Ring) u64(off int64) *atomic.Uint64 { return (*atomic.Uint64)(unsafe.Pointer(&r.mem[off])) }
func (r *Ring) u32(off int64) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&r.mem[off])) }

func (r *Ring) segment(s int) int64 { return headerSize + int64(s)*r.g.segmentSize() }

// writeIndex is segment s's count of published lines.
func (r *Ring) writeIndex(s int) *atomic.Uint64  { return r.u64(r.segment(s)) }
func (r *Ring) writerState(s int) *atomic.Uint32 { return r.u32(r.segment(s) + 8) }
func (r *Ring) writerPid(s int) *atomic.Uint32   { return r.u32(r.segment(s) + 12) }

// readIndex is reader slot k's count of lines read from segment s.
func (r *Ring) readIndex(s, k int) *atomic.Uint64 {
	return r.u64(r.segment(s) + int64(1+k)*cacheLine)
}

func (r *Ring) readerState(k int) *atomic.Uint32 { return r.u32(offReaderTb + int64(k)*readerSlotSz) }
func (r *Ring) readerPid(k int) *atomic.Uint32   { return r.u32(offReaderTb + int64(k)*readerSlotSz + 4) }
func (r *Ring) readerMissed(k int) *atomic.Uint64 {
	return r.u64(offReaderTb + int64(k)*readerSlotSz + 8)
}

// readerWake is reader slot k's wake sequence (a futex word) and
// readerSleepers the number of its goroutines waiting on it.
func (r *Ring) readerWake(k int) *atomic.Uint32 {
	return r.u32(offReaderTb + int64(k)*readerSlotSz + 16)
}
func (r *Ring) readerSleepers(k int) *atomic.Uint32 {
	return r.u32(offReaderTb + int64(k)*readerSlotSz + 20)
}

// slot is the bytes of segment s's slot for line index i.
func (r *Ring) slot(s int, i uint64) []byte {
	off := r.segment(s) + int64(1+r.g.readers)*cacheLine + int64(i&r.mask)*int64(r.g.lineSize)
	return r.mem[off : off+int64(r.g.lineSize) : off+int64(r.g.lineSize)]
}

// alive reports whether a process with pid exists.
func alive(pid uint32) bool {
	if pid == 0 {
		return false
	}
	err := unix.Kill(int(pid), 0)
	return err == nil || err == unix.EPERM
}

func defaultInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}
