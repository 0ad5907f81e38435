// Package file follows log files through every kind of rotation: it
// finds them by glob, wakes on inotify (and polls as a fallback), reads
// what was appended in large blocks — with pread, or the reads of all
// ready files in one io_uring submission — and hands
// complete lines on in batches. Rotation by rename (the old file is
// drained until quiet), copytruncate, delete and recreate, and files that
// disappear and come back lose and repeat nothing. Reading pauses while
// the consumer is behind: the data waits on disk.
package file

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/f2bx/f2bx/internal/uring"
	"github.com/f2bx/f2bx/source"
	"github.com/f2bx/f2bx/store"
)

// Readers a Follower can read with. Measured here (make bench-follow,
// one core): pread delivers 1.3–2x the lines per second of io_uring
// submissions on one file and on 1,000 (the io_uring reads of a file
// being appended to cost a round trip through the kernel's workers), so
// pread is the default and io_uring is there to choose.
const (
	ReaderAuto  = ""      // pread
	ReaderURing = "uring" // all of a round's reads in one io_uring submission
	ReaderPread = "pread" // one pread per file
)

// Path is a glob to follow and where to start in the files it matches at
// start-up (files that appear later are read from their start).
type Path struct {
	Glob string
	Tail bool
}

// Options configure a Follower. Zero values take the defaults.
type Options struct {
	Paths []Path
	// Resume returns the stored position of a path, if any.
	Resume func(path string) (store.Position, bool)
	// Reader is ReaderAuto, ReaderURing or ReaderPread.
	Reader string
	// Chunk is the most read from one file per round (default 256 KiB),
	// Buffer the most read per round over all files (default 4 MiB).
	Chunk, Buffer int
	// MaxLine caps a line's length (default 16 KiB): the rest of a longer
	// line is dropped and counted.
	MaxLine int
	// Poll is how often files are checked without an inotify event
	// (default 1 s; the only wake-up where inotify is unavailable).
	Poll time.Duration
	// Grace is how long a rotated-away file is still read after its last
	// growth (default 5 s).
	Grace time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// Stats are a Follower's counters.
type Stats struct {
	Files, Lines, Bytes, Cut, Rotations, Truncations uint64
	// Behind is how many bytes the followed files hold beyond what was
	// read, at the last check.
	Behind int64
}

// Follower follows the files of a set of globs.
type Follower struct {
	o       Options
	log     *slog.Logger
	rd      reader
	watch   *fsnotify.Watcher
	dirs    map[string]bool // watched directories
	current map[string]*handle
	drain   []*handle
	started bool
	next    int // round-robin start

	reads []uring.Read
	ready []*handle
	order []*handle
	bufs  [][]byte
	tails []source.Batch // last lines of finished drained files
	stats struct {
		lines, bytes, cut, rotations, truncations atomic.Uint64
		files                                     atomic.Int64
		behind                                    atomic.Int64
	}
}

// New prepares a Follower; Run follows.
func New(o Options) (*Follower, error) {
	if o.Chunk <= 0 {
		o.Chunk = 256 << 10
	}
	if o.Buffer < o.Chunk {
		o.Buffer = max(4<<20, o.Chunk)
	}
	if o.MaxLine <= 0 {
		o.MaxLine = 16 << 10
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Resume == nil {
		o.Resume = func(string) (store.Position, bool) { return store.Position{}, false }
	}
	for _, p := range o.Paths {
		if _, err := filepath.Match(p.Glob, ""); err != nil {
			return nil, fmt.Errorf("logpath %q: %w", p.Glob, err)
		}
	}
	rd, err := newReader(o.Reader, o.Buffer/o.Chunk)
	if err != nil {
		return nil, err
	}
	f := &Follower{o: o, log: o.Log, rd: rd, dirs: map[string]bool{}, current: map[string]*handle{}}
	if w, err := fsnotify.NewWatcher(); err == nil {
		f.watch = w
	} else {
		f.log.Warn("inotify unavailable, polling log files", "poll", o.Poll, "err", err)
	}
	return f, nil
}

// ReaderName says how files are read: "uring" or "pread".
func (f *Follower) ReaderName() string { return f.rd.name() }

// Stats returns the counters.
func (f *Follower) Stats() Stats {
	return Stats{Files: uint64(f.stats.files.Load()), Lines: f.stats.lines.Load(), Bytes: f.stats.bytes.Load(),
		Cut: f.stats.cut.Load(), Rotations: f.stats.rotations.Load(), Truncations: f.stats.truncations.Load(),
		Behind: f.stats.behind.Load()}
}

// Run follows the files until ctx ends, sending batches to out (waiting
// while out is full). It closes every file before it returns. Lines read
// but not sent when ctx ends are read again by the next follower that
// resumes from the saved positions.
func (f *Follower) Run(ctx context.Context, out chan<- source.Batch) error {
	defer f.close()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if f.watch != nil {
		events, errs = f.watch.Events, f.watch.Errors
	}
	poll := time.NewTicker(f.o.Poll)
	defer poll.Stop()
	rescan := true
	var lastScan time.Time
	handle := func(ev fsnotify.Event) {
		if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Remove) {
			rescan = true
		} else {
			f.markDirty(ev.Name)
		}
	}
	for {
		if now := f.o.Now(); rescan || now.Sub(lastScan) >= f.o.Poll {
			f.scan(now)
			rescan, lastScan = false, now
		}
		more, err := f.round(ctx, out)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			handle(ev)
			for drained := false; !drained; { // one round serves all queued events
				select {
				case ev := <-events:
					handle(ev)
				default:
					drained = true
				}
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				rescan = true // events were lost: look at everything
				continue
			}
			f.log.Warn("inotify", "err", err)
		case <-poll.C:
			rescan = true
		}
	}
}

func (f *Follower) close() {
	for _, h := range f.current {
		h.close()
	}
	for _, h := range f.drain {
		h.close()
	}
	f.current, f.drain = map[string]*handle{}, nil
	f.stats.files.Store(0)
	if f.watch != nil {
		f.watch.Close()
	}
	f.rd.Close()
}
