package daemon

import (
	"context"
	"time"

	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/jail"
	"github.com/f2bx/f2bx/logging"
	"github.com/f2bx/f2bx/source"
	"github.com/f2bx/f2bx/store"
)

// stream is a filter stage: the filters of the jails that read one log
// source, run over its batches with one shared prefilter scan, handing
// each jail its failures. A stream is used by one goroutine.
type stream struct {
	p     *pipeline
	name  string
	jails []*jailRT
	group *filter.Group
	fails [][]jail.Failure
	stage *stage
	count *sourceCounters
}

// newStream compiles a filter per jail (each keeps its own line state).
func (p *pipeline) newStream(name string, jails []*jailRT) (*stream, error) {
	s := &stream{p: p, name: name, jails: jails, fails: make([][]jail.Failure, len(jails))}
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
	s.group = g
	s.stage = p.health.stage("filter " + name)
	s.count = p.d.o.Metrics.source(name)
	return s, nil
}

// run processes the batches of in until it is closed or ctx ends.
func (s *stream) run(ctx context.Context, in <-chan source.Batch) {
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

// process runs the filters over one batch, hands the failures to the
// jails and then saves the source's position.
func (s *stream) process(ctx context.Context, b source.Batch) {
	s.stage.begin()
	defer s.stage.end()
	d := s.p.d
	now := d.o.Clock.Now()
	for i := range s.fails {
		s.fails[i] = s.fails[i][:0]
	}
	if b.Times != nil {
		for fi, f := range s.group.Filters {
			for li, line := range b.Lines {
				if fs := f.ProcessLineAt(line, b.Times[li]); len(fs) > 0 {
					s.collect(ctx, fi, fs, now)
				}
			}
		}
	} else if err := s.group.ProcessLines(b.Lines, func(fi, _ int, fs []filter.Failure) { s.collect(ctx, fi, fs, now) }); err != nil {
		d.log.Warn("filter", "source", s.name, "err", err)
	}
	matched := 0
	for i, rt := range s.jails {
		if len(s.fails[i]) > 0 {
			matched += len(s.fails[i])
			rt.j.Add(ctx, s.fails[i])
		}
	}
	s.count.add(len(b.Lines), matched, b.Cut)
	if d.writer != nil {
		if b.Position != nil {
			d.writer.SavePosition(*b.Position)
		}
		if b.Cursor != "" {
			d.writer.SavePosition(store.Position{Path: s.name, FirstLine: b.Cursor})
		}
	}
}

// collect turns a filter's failures into the jail's: names resolved when
// usedns allows, failures older than findtime dropped (as fail2ban drops
// them when it reads an old log).
func (s *stream) collect(ctx context.Context, fi int, fs []filter.Failure, now time.Time) {
	rt := s.jails[fi]
	d := s.p.d
	oldest := now.Add(-rt.j.FindTime())
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
			s.found(fi, f.ID, f)
			continue
		}
		for _, id := range d.dns.Resolve(f.Host) {
			s.found(fi, id, f)
		}
	}
}

// found logs a failure and queues it for the jail.
func (s *stream) found(fi int, id string, f *filter.Failure) {
	s.p.d.log.Info("Found", "jail", s.jails[fi].cfg.Name, "id", id, "-", f.Time)
	s.fails[fi] = append(s.fails[fi], jail.Failure{ID: id, Time: f.Time, Fields: f.Fields, Matches: f.Fields.Strings("matches")})
}
