package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/jail"
	"github.com/f2bx/f2bx/logging"
	"github.com/f2bx/f2bx/source"
	"github.com/f2bx/f2bx/store"
)

// stream is a filter stage: the filters of the jails that read one log
// source, run over its batches with one shared prefilter scan, handing
// each jail its failures and then saving the source's position.
//
// Batches are prepared (dates cut out) in order by the goroutine that
// calls process. When searching keeps no state between lines
// (filter.Group.Parallel) and FilterWorkers > 1, the regexes run on that
// many workers, each with its own clone of the filters, and one committer
// merges what they found into the filters' sessions, hands the failures to
// the jails and saves positions, in batch order. Otherwise process does
// everything itself.
type stream struct {
	p     *pipeline
	name  string
	jails []*jailRT
	group *filter.Group
	stage *stage
	count *sourceCounters

	// Sequential: the one job, reused.
	job *job
	// Parallel: jobs to match, jobs in batch order for the committer, and
	// a pool of free jobs (its size bounds the batches in flight).
	jobs  chan *job
	order chan *job
	free  chan *job
	wg    sync.WaitGroup
	// inflight counts the jobs handed to the workers that the committer
	// has not finished: at 0, the filters' state is the committer's no
	// more (the atomic orders its last merge before the next inline one).
	inflight atomic.Int32
}

// job is one batch on its way through the stream.
type job struct {
	b     source.Batch
	prep  filter.Prepared
	now   time.Time
	fails [][]jail.Failure // per jail
	done  chan struct{}
}

// newStream compiles a filter per jail (each keeps its own line state) and
// starts the stream's workers, if any; close stops them.
func (p *pipeline) newStream(ctx context.Context, name string, jails []*jailRT) (*stream, error) {
	s := &stream{p: p, name: name, jails: jails}
	var fs []*filter.Filter
	for _, rt := range jails {
		f, err := filter.New(rt.cfg.Filter, filter.Options{Now: p.d.o.Clock.Now, TimeZone: rt.cfg.LogTimezone, InOperation: true})
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	g, err := filter.NewGroup(fs...)
	if err != nil {
		return nil, err
	}
	// The failures of a batch are lent: the jails copy what they keep
	// (jail.Failure) before the batch's job is reused (commit).
	g.Lend = true
	s.group = g
	s.stage = p.health.stage("filter " + name)
	s.count = p.d.o.Metrics.source(name)
	workers := p.d.o.FilterWorkers
	if workers < 2 || !g.Parallel() {
		s.job = s.newJob()
		return s, nil
	}
	var clones []*filter.Group
	for range workers {
		c, err := g.Clone()
		if err != nil {
			return nil, err
		}
		clones = append(clones, c)
	}
	inFlight := jobsPerWorker * workers
	s.jobs, s.order, s.free = make(chan *job, workers), make(chan *job, inFlight), make(chan *job, inFlight)
	for range inFlight {
		s.free <- s.newJob()
	}
	for i, c := range clones {
		st := p.health.stage(fmt.Sprintf("filter %s worker %d", name, i))
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.work(c, st) }()
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.commitInOrder(context.WithoutCancel(ctx)) }()
	return s, nil
}

func (s *stream) newJob() *job {
	return &job{fails: make([][]jail.Failure, len(s.jails)), done: make(chan struct{}, 1)}
}

// close waits for the batches in flight to be committed and stops the
// workers. The goroutine that called process calls it once, at its end.
func (s *stream) close() {
	if s.jobs == nil {
		return
	}
	close(s.jobs)
	close(s.order)
	s.wg.Wait()
}

// run processes the batches of in until it is closed or ctx ends, then
// closes the stream.
func (s *stream) run(ctx context.Context, in <-chan source.Batch) {
	defer s.close()
	defer s.p.health.recover(s.stage.name)
	for {
		select {
		case b, ok := <-in:
			if !ok {
				return
			}
			s.process(ctx, b)
		case <-ctx.Done():
			// Drain what the source already handed over: its position
			// is saved only once processed.
			for {
				select {
				case b, ok := <-in:
					if !ok {
						return
					}
					s.process(context.WithoutCancel(ctx), b)
				default:
					return
				}
			}
		}
	}
}

// batchLines bounds the lines matched as one piece: a failure reaches its
// jail once its piece is matched, so under a flood, when sources hand over
// large batches, it waits for a few hundred lines, not thousands.
const batchLines = 512

// process splits a batch into pieces of at most batchLines lines (the
// last one carries the position to save) and processes each.
func (s *stream) process(ctx context.Context, b source.Batch) {
	for len(b.Lines) > batchLines {
		piece := source.Batch{Source: b.Source, Lines: b.Lines[:batchLines]}
		b.Lines = b.Lines[batchLines:]
		if b.Times != nil {
			piece.Times, b.Times = b.Times[:batchLines], b.Times[batchLines:]
		}
		s.processPiece(ctx, piece)
	}
	s.processPiece(ctx, b)
}

// processPiece prepares one piece and matches and commits it, or hands it
// to the workers and the committer.
func (s *stream) processPiece(ctx context.Context, b source.Batch) {
	j := s.job
	inline := j != nil
	if j == nil {
		// A small batch while none is in flight is matched here: a
		// hand-off to a worker would only add latency.
		inline = s.inflight.Load() == 0 && len(b.Lines) < inlineBelow
		j = <-s.free // backpressure: at most jobsPerWorker×workers batches in flight
	}
	s.stage.begin()
	j.b, j.now = b, s.p.d.o.Clock.Now()
	if b.Times != nil {
		s.group.PrepareAt(b.Lines, b.Times, &j.prep)
	} else {
		s.group.Prepare(b.Lines, &j.prep)
	}
	s.stage.end()
	if !inline {
		s.inflight.Add(1)
		s.order <- j
		s.jobs <- j
		return
	}
	s.stage.begin()
	defer s.stage.end()
	s.match(ctx, j)
	s.commit(ctx, j)
	if j != s.job {
		s.free <- j
	}
}

// jobsPerWorker bounds the batches in flight: a deeper pipeline rides out
// the moments a worker or the committer is off its CPU. With the ingest
// bench's writer as a process of its own, 1M lines/s from a file with
// 10,000 addresses: with 2 a worker, the daemon fell behind in 4 runs of
// 6 (lag at the end 24k–55k lines, ban latency p50 1.8–90 ms); with 4, in
// 1 of 6 (15k; p50 1.8–15 ms); runs alternated, p99 alike. A batch holds
// at most batchLines lines.
const jobsPerWorker = 4

// inlineBelow is the batch size under which a stream with workers matches
// a batch itself when no other batch is in flight.
const inlineBelow = batchLines / 2

// work searches the jobs it receives with its own clone of the filters. A
// panic fails the daemon, and the job still counts as done so that the
// stream can drain and stop.
func (s *stream) work(g *filter.Group, st *stage) {
	for j := range s.jobs {
		func() {
			defer func() { j.done <- struct{}{} }()
			defer s.p.health.recover(st.name)
			st.begin()
			defer st.end()
			s.search(g, j)
		}()
	}
}

// commitInOrder merges and commits the jobs in batch order as their
// search ends (ctx outlives the sources: what was read is committed).
func (s *stream) commitInOrder(ctx context.Context) {
	for j := range s.order {
		<-j.done
		func() {
			defer func() {
				s.inflight.Add(-1)
				s.free <- j
			}()
			defer s.p.health.recover(s.stage.name)
			s.merge(ctx, j)
			s.commit(ctx, j)
		}()
	}
}

// match searches a prepared batch and merges it, on this goroutine.
func (s *stream) match(ctx context.Context, j *job) {
	s.search(s.group, j)
	s.merge(ctx, j)
}

// search runs the regexes of g (the stream's filters or a worker's clone)
// over a prepared batch.
func (s *stream) search(g *filter.Group, j *job) {
	if err := g.Search(&j.prep); err != nil {
		s.p.d.log.Warn("filter", "source", s.name, "err", err)
	}
}

// merge turns what the search of a batch found into failures per jail
// (j.fails), with the stream's own filters: their sessions run in batch
// order.
func (s *stream) merge(ctx context.Context, j *job) {
	for i := range j.fails {
		j.fails[i] = j.fails[i][:0]
	}
	s.group.Merge(&j.prep, func(fi, _ int, fs []filter.Failure) { s.collect(ctx, j, fi, fs) })
}

// commit hands a matched batch's failures to the jails and saves the
// source's position.
func (s *stream) commit(ctx context.Context, j *job) {
	d := s.p.d
	matched := 0
	for i, rt := range s.jails {
		if len(j.fails[i]) > 0 {
			matched += len(j.fails[i])
			rt.j.Add(ctx, j.fails[i])
		}
	}
	s.count.add(len(j.b.Lines), matched, j.b.Cut)
	if d.writer != nil {
		if j.b.Position != nil {
			d.writer.SavePosition(*j.b.Position)
		}
		if j.b.Cursor != "" {
			d.writer.SavePosition(store.Position{Path: s.name, FirstLine: j.b.Cursor})
		}
	}
	j.b = source.Batch{}
}

// collect turns a filter's failures into the jail's: names resolved when
// usedns allows, failures older than findtime dropped (as fail2ban drops
// them when it reads an old log).
func (s *stream) collect(ctx context.Context, j *job, fi int, fs []filter.Failure) {
	rt := s.jails[fi]
	d := s.p.d
	oldest := j.now.Add(-rt.j.FindTime())
	for k := range fs {
		f := &fs[k]
		if f.NoFail() {
			continue
		}
		if f.ID == "" && (f.Host == "" || rt.cfg.Filter.UseDNS == "no" || rt.cfg.Filter.UseDNS == "raw") {
			continue
		}
		if !f.Time.IsZero() && f.Time.Before(oldest) {
			if d.log.Enabled(ctx, logging.LevelTrace) {
				d.log.Log(ctx, logging.LevelTrace, "Ignore line: older than findtime", "jail", rt.cfg.Name, "id", f.ID)
			}
			continue
		}
		if f.ID != "" {
			s.found(ctx, j, fi, f.ID, f.Addr, f)
			continue
		}
		for _, id := range d.dns.Resolve(f.Host) {
			s.found(ctx, j, fi, id, netip.Addr{}, f)
		}
	}
}

// found logs a failure and queues it for the jail (addr: id parsed, when
// known). The log's arguments are built only when it is written: under a
// flood, boxing them cost more than the rest of this.
func (s *stream) found(ctx context.Context, j *job, fi int, id string, addr netip.Addr, f *filter.Failure) {
	if l := s.p.d.log; l.Enabled(ctx, slog.LevelInfo) {
		l.Info("Found", "jail", s.jails[fi].cfg.Name, "id", id, "-", f.Time)
	}
	j.fails[fi] = append(j.fails[fi], jail.Failure{ID: id, Addr: addr, Time: f.Time, Fields: f.Fields, Matches: f.Fields.Strings("matches"), Lent: f.Lent})
}
