package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/ringbuf"
	"github.com/f2bx/f2bx/source"
	"github.com/f2bx/f2bx/source/file"
	"github.com/f2bx/f2bx/source/journal"
	"github.com/f2bx/f2bx/store"
)

const ringPrefix = config.RingPrefix

func isRing(path string) bool { return strings.HasPrefix(path, ringPrefix) }

// startSources starts a goroutine per source and a filter stage per
// stream: one follower for every jail's files (a file's batches go to the
// stream of the jails that read it), a journal reader per distinct
// journalmatch, and reader goroutines per ring.
func (p *pipeline) startSources(ctx context.Context) error {
	var fileJails, ringJails []*jailRT
	journals := map[string][]*jailRT{}
	var journalOrder []string
	for _, rt := range p.sortedJails() {
		if rt.journal() {
			k := journalMatchKey(rt.cfg.JournalMatch)
			if _, ok := journals[k]; !ok {
				journalOrder = append(journalOrder, k)
			}
			journals[k] = append(journals[k], rt)
			continue
		}
		for _, lp := range rt.cfg.LogPaths {
			if isRing(lp.Path) {
				ringJails = append(ringJails, rt)
				break
			}
		}
		fileJails = append(fileJails, rt)
	}
	if err := p.startFiles(ctx, fileJails); err != nil {
		return err
	}
	for _, k := range journalOrder {
		if err := p.startJournal(ctx, k, journals[k]); err != nil {
			return err
		}
	}
	return p.startRings(ctx, ringJails)
}

func (p *pipeline) sortedJails() []*jailRT {
	out := make([]*jailRT, 0, len(p.rt))
	for _, n := range p.names() {
		out = append(out, p.rt[n])
	}
	return out
}

func (p *pipeline) startFiles(ctx context.Context, jails []*jailRT) error {
	var paths []file.Path
	seen := map[string]bool{}
	for _, rt := range jails {
		for _, lp := range rt.cfg.LogPaths {
			if isRing(lp.Path) || seen[lp.Path] {
				continue
			}
			seen[lp.Path] = true
			paths = append(paths, file.Path{Glob: lp.Path, Tail: lp.Tail})
		}
	}
	if len(paths) == 0 {
		return nil
	}
	d := p.d
	fo := file.Options{Paths: paths, Reader: d.o.Reader, Poll: d.o.Poll, Grace: d.o.Grace, Now: d.o.Clock.Now, Log: d.log}
	if d.st != nil {
		fo.Resume = func(path string) (store.Position, bool) {
			pos, ok, err := d.st.Position(context.Background(), path)
			if err != nil {
				d.log.Warn("reading a log position", "path", path, "err", err)
			}
			return pos, ok
		}
	}
	f, err := file.New(fo)
	if err != nil {
		return fmt.Errorf("log files: %w", err)
	}
	d.o.Metrics.setFollower(f)
	out := make(chan source.Batch, 4)
	// A stream per set of jails reading the same files; a file's batches
	// always go to the same stream, so its positions are saved in order.
	streams := map[string]*stream{}
	inputs := map[*stream]chan source.Batch{}
	route := map[string]*stream{}
	routeOf := func(path string) (*stream, error) {
		if s, ok := route[path]; ok {
			return s, nil
		}
		var js []*jailRT
		var names []string
		for _, rt := range jails {
			for _, lp := range rt.cfg.LogPaths {
				if ok, _ := filepath.Match(lp.Path, path); ok || lp.Path == path {
					js = append(js, rt)
					names = append(names, rt.cfg.Name)
					break
				}
			}
		}
		key := strings.Join(names, ",")
		s := streams[key]
		if s == nil && len(js) > 0 {
			var err error
			if s, err = p.newStream(ctx, "files:"+key, js); err != nil {
				return nil, err
			}
			streams[key] = s
			in := make(chan source.Batch, 4)
			inputs[s] = in
			p.srcWG.Add(1)
			go func() { defer p.srcWG.Done(); s.run(ctx, in) }()
		}
		route[path] = s
		return s, nil
	}
	// The streams of files named without wildcards start now rather than
	// on their first lines: compiling their filters must not delay the
	// first bans.
	for _, pa := range paths {
		if !hasGlobMeta(pa.Glob) {
			if _, err := routeOf(pa.Glob); err != nil {
				for _, in := range inputs {
					close(in)
				}
				return err
			}
		}
	}
	p.srcWG.Add(2)
	go func() {
		defer p.srcWG.Done()
		defer p.health.recover("file follower")
		if err := f.Run(ctx, out); err != nil && !errors.Is(err, context.Canceled) {
			d.Fail(fmt.Errorf("file follower: %w", err))
		}
		close(out)
	}()
	go func() {
		defer p.srcWG.Done()
		defer p.health.recover("file router")
		defer func() {
			for _, in := range inputs {
				close(in)
			}
		}()
		for b := range out {
			s, err := routeOf(b.Source)
			if err != nil {
				d.Fail(err)
				return
			}
			if s == nil {
				continue
			}
			// The stream drains its input when ctx ends: never drop a
			// batch the follower handed over.
			inputs[s] <- b
		}
	}()
	return nil
}

// hasGlobMeta reports whether a log path is a pattern (filepath.Match).
func hasGlobMeta(path string) bool { return strings.ContainsAny(path, "*?[\\") }

func journalMatchKey(m [][]string) string {
	var parts []string
	for _, line := range m {
		parts = append(parts, strings.Join(line, " "))
	}
	return strings.Join(parts, " + ")
}

func (p *pipeline) startJournal(ctx context.Context, key string, jails []*jailRT) error {
	d := p.d
	s, err := p.newStream(ctx, "journal:"+key, jails)
	if err != nil {
		return err
	}
	o := journal.Options{Matches: jails[0].cfg.JournalMatch, Command: d.o.JournalCommand, Log: d.log}
	if d.st != nil {
		// The cursor is kept as the position of the stream's name.
		if pos, ok, err := d.st.Position(ctx, s.name); err == nil && ok {
			o.Cursor = pos.FirstLine
		}
	}
	out := make(chan source.Batch, 4)
	p.srcWG.Add(2)
	go func() { defer p.srcWG.Done(); s.run(ctx, out) }()
	go func() {
		defer p.srcWG.Done()
		defer close(out)
		defer p.health.recover("journal")
		if err := journal.Run(ctx, o, out); err != nil && ctx.Err() == nil {
			d.Fail(fmt.Errorf("journal: %w", err))
		}
	}()
	return nil
}

// startRings attaches one reader slot per ring and runs RingReaders
// goroutines on it, each reading its share of the segments (and stealing
// from the others when idle), each with its own filters.
func (p *pipeline) startRings(ctx context.Context, jails []*jailRT) error {
	byRing := map[string][]*jailRT{}
	var names []string
	for _, rt := range jails {
		for _, lp := range rt.cfg.LogPaths {
			if !isRing(lp.Path) {
				continue
			}
			name := strings.TrimPrefix(lp.Path, ringPrefix)
			if _, ok := byRing[name]; !ok {
				names = append(names, name)
			}
			byRing[name] = append(byRing[name], rt)
		}
	}
	for _, name := range names {
		r, err := ringbuf.Open(name)
		if errors.Is(err, ringbuf.ErrNotFound) {
			r, err = ringbuf.Create(name, ringbuf.Options{})
			if err == nil {
				p.d.log.Info("created ring", "ring", name, "path", ringbuf.Path(name))
			}
		}
		if err != nil {
			return fmt.Errorf("ring %s: %w", name, err)
		}
		// The reader's first pass over the ring would fault on every
		// page, a flood's first lines waiting behind them.
		start := time.Now()
		r.Prefault()
		p.d.log.Debug("ring prefaulted", "ring", name, "took", time.Since(start))
		rd, err := r.NewReader()
		if err != nil {
			r.Close()
			return fmt.Errorf("ring %s: %w", name, err)
		}
		n := min(p.d.o.RingReaders, r.Segments())
		done := make(chan struct{}, n)
		for i := range n {
			s, err := p.newStream(ctx, fmt.Sprintf("ring:%s#%d", name, i), byRing[name])
			if err != nil {
				return err
			}
			lo, hi := i*r.Segments()/n, (i+1)*r.Segments()/n
			p.srcWG.Add(1)
			go func() {
				defer p.srcWG.Done()
				defer func() { done <- struct{}{} }()
				s.readRing(ctx, rd, lo, hi, name) // its stream's run closes the stream
			}()
		}
		p.srcWG.Add(1)
		go func() {
			defer p.srcWG.Done()
			for range n {
				<-done
			}
			p.d.o.Metrics.ringMissed(name, rd.Missed())
			rd.Close()
			r.Close()
		}()
	}
	return nil
}

// readRing reads batches of lines from segments [lo, hi) of ring name and
// processes them. One goroutine reads (when the ring is empty it sleeps
// until a writer wakes it or ctx ends, ringWait at most; in Go's
// poller, so that the goroutines it handed lines to keep its P) while this
// one processes, as a file's follower and its stream do; a full hand-off
// stops the reading (backpressure: a lossless ring's writers wait, an
// overwriting one counts what this reader missed).
func (s *stream) readRing(ctx context.Context, rd *ringbuf.Reader, lo, hi int, name string) {
	src := ringPrefix + name
	batches := make(chan source.Batch, 2)
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		defer close(batches)
		defer s.p.health.recover(s.stage.name + " reader")
		w := rd.NewWaiter()
		// The daemon's end interrupts a sleep: the reader needs no
		// timeout to see it.
		interrupted := make(chan struct{})
		stop := context.AfterFunc(ctx, func() { w.Interrupt(); close(interrupted) })
		defer func() {
			if !stop() {
				<-interrupted // before the waiter and the ring go
			}
			w.Close()
		}()
		var lines ringbuf.Lines
		idle := 0
		for ctx.Err() == nil {
			lines.Reset()
			if rd.ReadRange(lo, hi, 4096, true, &lines) == 0 {
				// Look again after the goroutines waiting for this P
				// (those processing the last batch) before sleeping: a
				// wake-up reaches a busy process only once a P runs dry.
				if idle < ringYields {
					idle++
					runtime.Gosched()
					continue
				}
				idle = 0
				w.Wait(ringWait)
				continue
			}
			idle = 0
			select {
			case batches <- source.Batch{Source: src, Lines: lines.Strings()}:
			case <-ctx.Done():
				return
			}
			s.p.d.o.Metrics.ringMissed(name, rd.Missed())
		}
	}()
	s.run(ctx, batches)
	reader.Wait()
}

// ringYields is how many times an empty ring is read again, each after
// the other runnable goroutines, before its reader sleeps.
const ringYields = 16

// ringWait bounds a ring reader's sleep: the latency with a writer that
// does not wake readers (f2bx's Go and C writers do). An idle reader wakes
// this often, and each wake-up costs the daemon a few context switches.
const ringWait = time.Second
