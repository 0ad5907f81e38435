package file

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/f2bx/f2bx/store"
)

// fileID identifies a file whatever its name.
type fileID struct{ dev, ino uint64 }

// handle is one open log file: the followed path's current file, or a
// rotated-away one still being drained.
type handle struct {
	path     string // the followed path (a rotated file keeps its old one)
	f        *os.File
	id       fileID
	off      int64  // read up to here
	partial  []byte // an incomplete last line
	skip     bool   // dropping the rest of an over-long line
	first    string // hash of the first line ("" until known)
	lastData time.Time
	dirty    bool // may have data to read
	draining bool
}

func statID(fi os.FileInfo) fileID {
	st := fi.Sys().(*syscall.Stat_t)
	return fileID{uint64(st.Dev), st.Ino}
}

func (h *handle) close() {
	if h.f != nil {
		h.f.Close()
		h.f = nil
	}
}

// position is where to resume: the start of the incomplete line.
func (h *handle) position() *store.Position {
	return &store.Position{Path: h.path, Inode: h.id.ino, Offset: h.off - int64(len(h.partial)), FirstLine: h.first}
}

// firstLineMax is how much of the first line its hash covers.
const firstLineMax = 4096

// firstLineHash hashes the file's first line, "" while it has none.
func firstLineHash(f *os.File) string {
	buf := make([]byte, firstLineMax)
	n, _ := f.ReadAt(buf, 0)
	i := bytes.IndexByte(buf[:n], '\n')
	if i < 0 {
		if n < len(buf) {
			return ""
		}
		i = n
	}
	sum := sha256.Sum256(buf[:i])
	return hex.EncodeToString(sum[:12])
}

// open opens path; at start-up it resumes from the stored position or
// starts at the head or tail, later it starts at the head.
func (f *Follower) open(path string, tail bool) (*handle, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := fh.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		fh.Close()
		return nil, err
	}
	h := &handle{path: path, f: fh, id: statID(fi), lastData: f.o.Now(), dirty: true}
	h.first = firstLineHash(fh)
	if !f.started {
		h.off = f.startOffset(h, fi.Size(), tail)
	}
	return h, nil
}

// startOffset decides where a file found at start-up is read from: the
// stored position when it is this file (same inode and first line, not
// shorter); the head when the position is another file's (the file was
// rotated meanwhile: what it holds is new; the old file, if still next
// to it, is drained from the stored position); else head or tail.
func (f *Follower) startOffset(h *handle, size int64, tail bool) int64 {
	p, ok := f.o.Resume(h.path)
	switch {
	case !ok && tail:
		return size
	case !ok:
		return 0
	case p.Inode == h.id.ino && p.FirstLine == h.first && p.Offset <= size:
		return p.Offset
	case p.Inode != h.id.ino:
		f.resumeRotated(p)
	}
	return 0
}

// resumeRotated finds the stored position's file among the path's
// neighbours and drains the rest of it.
func (f *Follower) resumeRotated(p store.Position) {
	h := f.findRotated(p.Path, p.FirstLine, p.Offset, func(ino uint64) bool { return ino == p.Inode })
	if h != nil {
		f.log.Info("resuming a rotated log file", "path", p.Path, "file", h.f.Name(), "offset", p.Offset)
		f.drain = append(f.drain, h)
	}
}

// findRotated opens, for draining from off, the file next to path whose
// name starts with path's, whose inode is one wanted and whose first line
// hashes to first (a rotated or copied file).
func (f *Follower) findRotated(path, first string, off int64, want func(ino uint64) bool) *handle {
	if first == "" {
		return nil
	}
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), base) || e.Name() == base {
			continue
		}
		fi, err := e.Info()
		if err != nil || !want(statID(fi).ino) || fi.Size() < off {
			continue
		}
		fh, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if firstLineHash(fh) != first {
			fh.Close()
			continue
		}
		f.stats.files.Add(1)
		return &handle{path: path, f: fh, id: statID(fi), off: off, first: first, lastData: f.o.Now(), dirty: true, draining: true}
	}
	return nil
}

// split turns data read at h.off into complete lines (the incomplete
// rest waits in partial), cutting lines at MaxLine. The caller advances
// h.off afterwards.
func (f *Follower) split(h *handle, data []byte) (lines []string, cut int) {
	atHead := h.off-int64(len(h.partial)) == 0 && !h.skip
	if h.skip {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil, 0
		}
		data, h.skip = data[i+1:], false
	}
	last := bytes.LastIndexByte(data, '\n')
	if last < 0 {
		h.partial = append(h.partial, data...)
		if len(h.partial) > f.o.MaxLine {
			lines = []string{string(h.partial[:f.o.MaxLine])}
			h.partial, h.skip = h.partial[:0], true
			return lines, 1
		}
		return nil, 0
	}
	block := string(data[:last])
	if len(h.partial) > 0 {
		block = string(h.partial) + block
	}
	if atHead && h.first == "" {
		sum := sha256.Sum256([]byte(block[:min(strings.IndexByte(block+"\n", '\n'), firstLineMax)]))
		h.first = hex.EncodeToString(sum[:12])
	}
	lines = make([]string, 0, strings.Count(block, "\n")+2)
	for {
		i := strings.IndexByte(block, '\n')
		line := block
		if i >= 0 {
			line = block[:i]
		}
		line = strings.TrimSuffix(line, "\r")
		if len(line) > f.o.MaxLine {
			line = line[:f.o.MaxLine]
			cut++
		}
		lines = append(lines, line)
		if i < 0 {
			break
		}
		block = block[i+1:]
	}
	h.partial = h.partial[:0]
	if rest := data[last+1:]; len(rest) > f.o.MaxLine {
		lines = append(lines, string(rest[:f.o.MaxLine]))
		cut++
		h.skip = true
	} else {
		h.partial = append(h.partial, rest...)
	}
	return lines, cut
}

// flushPartial returns the incomplete last line of a file that will not
// grow any more.
func (h *handle) flushPartial() []string {
	if len(h.partial) == 0 || h.skip {
		return nil
	}
	l := strings.TrimSuffix(string(h.partial), "\r")
	h.partial = h.partial[:0]
	return []string{l}
}
