package file

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/f2bx/f2bx/internal/uring"
	"github.com/f2bx/f2bx/source"
)

// scan matches the globs (opening new files and watching their
// directories), notices rotations of the followed paths, closes drained
// files that stayed quiet for the grace period, and marks every file for
// reading.
func (f *Follower) scan(now time.Time) {
	seen := map[string]bool{}
	for _, p := range f.o.Paths {
		f.watchDir(filepath.Dir(p.Glob))
		matches, _ := filepath.Glob(p.Glob)
		for _, m := range matches {
			m = filepath.Clean(m)
			if seen[m] {
				continue
			}
			seen[m] = true
			f.follow(m, p.Tail, now)
		}
	}
	for path, h := range f.current {
		if !seen[path] {
			// Gone (deleted or renamed away): drain what is left.
			f.retire(h, now)
			delete(f.current, path)
		}
	}
	var behind int64
	kept := f.drain[:0]
	for _, h := range f.drain {
		h.dirty = true
		fi, err := h.f.Stat()
		if err == nil {
			behind += max(fi.Size()-h.off, 0)
		}
		if now.Sub(h.lastData) < f.o.Grace && (err != nil || fi.Size() >= h.off) {
			kept = append(kept, h)
			continue
		}
		f.finish(h)
	}
	clear(f.drain[len(kept):])
	f.drain = kept
	for _, h := range f.current {
		h.dirty = true
		if fi, err := h.f.Stat(); err == nil {
			if fi.Size() < h.off {
				f.truncated(h)
			}
			behind += max(fi.Size()-h.off, 0)
		}
	}
	f.stats.behind.Store(behind)
	f.started = true
	f.order = f.order[:0]
	for _, p := range slices.Sorted(maps.Keys(f.current)) {
		f.order = append(f.order, f.current[p])
	}
}

// follow takes path on: a new path is opened; a path now naming another
// file than the one followed is a rotation.
func (f *Follower) follow(path string, tail bool, now time.Time) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	id := statID(fi)
	h := f.current[path]
	if h != nil && h.id == id {
		return
	}
	if h != nil {
		f.retire(h, now)
		delete(f.current, path)
	}
	// The file may be one already held: renamed onto a followed name.
	for i, d := range f.drain {
		if d.id == id {
			f.drain = append(f.drain[:i], f.drain[i+1:]...)
			d.path, d.draining, d.dirty = path, false, true
			f.current[path] = d
			return
		}
	}
	for _, c := range f.current {
		if c.id == id {
			return // a second name (hard link) of a followed file
		}
	}
	nh, err := f.open(path, tail)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.log.Warn("cannot open log file", "path", path, "err", err)
		}
		return
	}
	if h != nil {
		f.log.Info("log file rotated", "path", path)
	}
	f.current[path] = nh
	f.stats.files.Add(1)
}

// retire moves a followed file to the drained set.
func (f *Follower) retire(h *handle, now time.Time) {
	f.stats.rotations.Add(1)
	h.draining, h.dirty = true, true
	h.lastData = now
	f.drain = append(f.drain, h)
}

// truncated rewinds a file cut below what was read (copytruncate). What
// was not read yet before the cut is read from the copy when it is next
// to the file (same first line, at least as long).
func (f *Follower) truncated(h *handle) {
	f.log.Info("log file truncated", "path", h.path, "offset", h.off)
	f.stats.truncations.Add(1)
	if c := f.findRotated(h.path, h.first, h.off, func(ino uint64) bool { return ino != h.id.ino }); c != nil {
		c.partial, c.skip = append(c.partial, h.partial...), h.skip
		f.drain = append(f.drain, c)
	}
	h.off, h.skip = 0, false
	h.partial = h.partial[:0]
	h.first = ""
}

// finish closes a drained file; its incomplete last line is delivered
// by the next round through f.tails.
func (f *Follower) finish(h *handle) {
	if l := h.flushPartial(); len(l) > 0 {
		f.stats.lines.Add(1)
		f.tails = append(f.tails, source.Batch{Source: h.path, Lines: l})
	}
	h.close()
	f.stats.files.Add(-1)
}

// watchDir watches a directory for new, renamed and written files.
func (f *Follower) watchDir(dir string) {
	if f.watch == nil || f.dirs[dir] || strings.ContainsAny(dir, "*?[") {
		return
	}
	if err := f.watch.Add(dir); err == nil {
		f.dirs[dir] = true
	}
}

// markDirty marks the file an inotify event names (drained files are
// known by their old names only: any unknown name marks them all).
func (f *Follower) markDirty(name string) {
	if h := f.current[filepath.Clean(name)]; h != nil {
		h.dirty = true
		return
	}
	for _, h := range f.drain {
		h.dirty = true
	}
}

// round reads the dirty files (as many as the buffer holds, in one
// submission) and sends their lines. more reports files left to read.
func (f *Follower) round(ctx context.Context, out chan<- source.Batch) (more bool, err error) {
	for len(f.tails) > 0 {
		if err := send(ctx, out, f.tails[0]); err != nil {
			return false, err
		}
		f.tails = f.tails[1:]
	}
	f.ready = f.ready[:0]
	perRound := f.o.Buffer / f.o.Chunk
	for _, h := range f.drain {
		if h.dirty && len(f.ready) < perRound {
			f.ready = append(f.ready, h)
		}
	}
	// Round-robin over current files, so that none starves the others.
	if n := len(f.order); n > 0 {
		f.next = (f.next + 1) % n
	}
	for i := range f.order {
		h := f.order[(f.next+i)%len(f.order)]
		if h.dirty {
			if len(f.ready) == perRound {
				more = true
				break
			}
			f.ready = append(f.ready, h)
		}
	}
	if len(f.ready) == 0 {
		return false, nil
	}
	if len(f.bufs) == 0 {
		f.bufs = make([][]byte, perRound)
		for i := range f.bufs {
			f.bufs[i] = make([]byte, f.o.Chunk)
		}
	}
	f.reads = f.reads[:0]
	for i, h := range f.ready {
		f.reads = append(f.reads, uring.Read{Fd: int(h.f.Fd()), Off: h.off, Buf: f.bufs[i]})
	}
	if err := f.rd.ReadAt(f.reads); err != nil {
		return false, err
	}
	now := f.o.Now()
	for i, h := range f.ready {
		r := f.reads[i]
		switch {
		case r.Err != nil:
			f.log.Warn("cannot read log file", "path", h.path, "err", r.Err)
			h.dirty = false
			continue
		case r.N == 0:
			h.dirty = false
			if !h.draining {
				if fi, err := h.f.Stat(); err == nil && fi.Size() < h.off {
					f.truncated(h)
					h.dirty, more = true, true
				}
			}
			continue
		case r.N == len(r.Buf):
			more = true
		default:
			h.dirty = false
		}
		lines, cut := f.split(h, r.Buf[:r.N])
		h.off += int64(r.N)
		h.lastData = now
		f.stats.bytes.Add(uint64(r.N))
		if len(lines) == 0 {
			continue
		}
		f.stats.lines.Add(uint64(len(lines)))
		f.stats.cut.Add(uint64(cut))
		if err := send(ctx, out, source.Batch{Source: h.path, Lines: lines, Cut: cut, Position: h.position()}); err != nil {
			return false, err
		}
	}
	return more, nil
}

func send(ctx context.Context, out chan<- source.Batch, b source.Batch) error {
	select {
	case out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
