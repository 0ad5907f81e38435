package filter

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/f2bx/f2bx/filter/fields"
)

// Group runs the filters of the jails that read one log source over the
// same lines, with one prefilter scan per block for all filters that cut
// dates alike (the same datepattern and time zone): one multi-pattern
// database per source, not per jail. Each filter keeps its own state, and
// results are those of each filter's own ProcessLines.
//
// Processing has three steps: Prepare cuts the dates out of the lines, in
// order (a line without a date takes the last date seen); Search runs the
// regexes and reads the groups of those that matched; Merge turns those
// matches into failures, in order, with the filters' multi-line sessions.
// When Parallel holds, Search keeps no state between lines, and clones of
// the group (Clone) may search prepared batches concurrently while one
// goroutine prepares them, and one merges them, in order.
type Group struct {
	Filters []*Filter
	// Lend makes the failures of one-line filters without sessions
	// borrowed from the batch: their ids, fields and matched lines are
	// made in the Prepared's memory and stay valid only until it is
	// prepared again (copy what you keep: fields.Set.Own). A batch then
	// costs no allocation once its memory has grown. Set it before the
	// first batch; clones inherit it.
	Lend  bool
	parts []groupPart
}

// groupPart is the members that share one block and one database.
type groupPart struct {
	members []int     // indexes into Filters
	pre     prefilter // shared, or the lone member's own; nil: none
}

// Prepared is a batch of lines with their dates cut out by every filter of
// a group, ready for Match.
type Prepared struct {
	n      int
	lines  [][]tupleLine // per filter
	whens  [][]time.Time
	noDate [][]bool
	hits   [][]hit // per filter: what Search found, for Merge
	// scans are the prefilter's blocks, per part of the group. Hits that
	// Search left for Merge to finish (hit.lazy) read their lines there,
	// and their match offsets in spans: both live as long as the batch.
	scans []partScan
	spans []int
	// mem holds the fields and lines of the failures a Group that lends
	// them (Group.Lend) found in the batch.
	mem fields.Arena
}

// partScan is one part's block of lines (each followed by "\n"), their
// offsets in it, and the candidate regexes per line and member.
type partScan struct {
	block  []byte
	starts []int
	cand   []uint64
}

// view is line i's text in the block, its "\n" included.
func (sc *partScan) view(i int) string {
	end := len(sc.block)
	if i+1 < len(sc.starts) {
		end = sc.starts[i+1]
	}
	return unsafe.String(&sc.block[sc.starts[i]], end-sc.starts[i])
}

// NewGroup groups filters; with Hyperscan, those with the same datepattern
// and time zone share one database.
func NewGroup(filters ...*Filter) (*Group, error) {
	g := &Group{Filters: filters}
	byKey := map[string]int{}
	for i, f := range filters {
		key := "\x00"
		if f.pre != nil {
			key = f.datePattern + "\x00" + f.o.TimeZone
		}
		if j, ok := byKey[key]; ok && key != "\x00" {
			g.parts[j].members = append(g.parts[j].members, i)
			continue
		}
		byKey[key] = len(g.parts)
		g.parts = append(g.parts, groupPart{members: []int{i}, pre: f.pre})
	}
	for pi := range g.parts {
		p := &g.parts[pi]
		if len(p.members) < 2 {
			continue // a lone filter uses its own prefilter
		}
		var srcs []prefilterSource
		for _, m := range p.members {
			srcs = append(srcs, prefilterSource{filters[m].Pref, filters[m].Fail})
		}
		sp, err := newSharedPrefilter(srcs)
		if err != nil {
			return nil, err
		}
		p.pre = nil
		if sp != nil { // a nil *hsPrefilter must not become a non-nil interface
			p.pre = sp
		}
	}
	return g, nil
}

// Parallel reports whether Search keeps no state from line to line: every
// filter reads one line at a time (maxlines 1). Multi-line sessions
// (<F-MLFID>) are Merge's, which runs in order.
func (g *Group) Parallel() bool {
	for _, f := range g.Filters {
		if f.maxLines > 1 {
			return false
		}
	}
	return true
}

// Clone returns a group with the same compiled filters and state of its
// own, to run Match on another goroutine.
func (g *Group) Clone() (*Group, error) {
	c := &Group{Filters: make([]*Filter, len(g.Filters)), Lend: g.Lend, parts: make([]groupPart, len(g.parts))}
	for i, f := range g.Filters {
		fc, err := f.clone()
		if err != nil {
			return nil, fmt.Errorf("clone filter: %w", err)
		}
		c.Filters[i] = fc
	}
	for i, p := range g.parts {
		c.parts[i] = groupPart{members: p.members}
		switch {
		case p.pre == nil:
		case len(p.members) == 1:
			c.parts[i].pre = c.Filters[p.members[0]].pre
		default:
			pre, err := p.pre.clone()
			if err != nil {
				return nil, err
			}
			c.parts[i].pre = pre
		}
	}
	return c, nil
}

// ProcessLines processes the lines with every filter, in order, and calls
// emit for each filter and line with failures (valid only during the
// call).
func (g *Group) ProcessLines(lines []string, emit func(filter, line int, fails []Failure)) error {
	var p Prepared
	g.Prepare(lines, &p)
	return g.Match(&p, emit)
}

// Prepare cuts the dates out of lines for every filter, into p (whose
// memory is reused).
func (g *Group) Prepare(lines []string, p *Prepared) {
	p.reset(len(lines), len(g.Filters))
	for k, f := range g.Filters {
		f.Dates.Freeze(f.o.Now()) // one clock reading per batch
		for _, l := range lines {
			tl, when, noDate := f.prepare(l)
			p.add(k, tl, when, noDate)
		}
		f.Dates.Freeze(time.Time{})
	}
}

// PrepareAt prepares lines whose times the source knows (the journal):
// no date is looked for, and each time becomes the filters' last date.
func (g *Group) PrepareAt(lines []string, times []time.Time, p *Prepared) {
	p.reset(len(lines), len(g.Filters))
	for k, f := range g.Filters {
		for i, l := range lines {
			p.add(k, tupleLine{"", "", l, l}, times[i], false)
		}
		if len(times) > 0 {
			f.lastDate = times[len(times)-1]
		}
	}
}

// reset empties p for n lines of filters filters, keeping its memory.
func (p *Prepared) reset(n, filters int) {
	p.n = n
	p.mem.Reset()
	if len(p.lines) != filters {
		p.lines = make([][]tupleLine, filters)
		p.whens = make([][]time.Time, filters)
		p.noDate = make([][]bool, filters)
		p.hits = make([][]hit, filters)
	}
	for k := range filters {
		p.lines[k], p.whens[k], p.noDate[k] = p.lines[k][:0], p.whens[k][:0], p.noDate[k][:0]
	}
}

func (p *Prepared) add(k int, tl tupleLine, when time.Time, noDate bool) {
	p.lines[k], p.whens[k], p.noDate[k] = append(p.lines[k], tl), append(p.whens[k], when), append(p.noDate[k], noDate)
}

// Match searches prepared lines (Search) and merges what they matched
// (Merge), calling emit for each filter and line with failures.
func (g *Group) Match(p *Prepared, emit func(filter, line int, fails []Failure)) error {
	if err := g.Search(p); err != nil {
		return err
	}
	g.Merge(p, emit)
	return nil
}

// Search runs every filter's regexes over prepared lines and keeps their
// matches in p, for Merge. A part with a prefilter scans its block once
// and runs only the candidate regexes of candidate lines. When Parallel
// holds, Search keeps no state from line to line, and clones of the group
// may search batches concurrently.
func (g *Group) Search(p *Prepared) error {
	for m := range p.hits {
		p.hits[m] = p.hits[m][:0]
	}
	g.lendFrom(p)
	defer g.lendFrom(nil)
	if len(p.scans) < len(g.parts) {
		p.scans = make([]partScan, len(g.parts))
	}
	p.spans = p.spans[:0]
	for pi := range g.parts {
		part := &g.parts[pi]
		if part.pre == nil {
			for _, m := range part.members {
				f := g.Filters[m]
				for i, tl := range p.lines[m] {
					p.hits[m] = f.searchHits(p.hits[m], i, tl, "", nil, p.whens[m][i], p.noDate[m][i], allRegexes)
				}
			}
			continue
		}
		if err := g.searchScanned(part, &p.scans[pi], p); err != nil {
			return err
		}
	}
	return nil
}

// Merge turns the matches Search kept in p into failures, in line order,
// with the state each filter keeps between lines (multi-line sessions),
// and calls emit for each filter and line with failures. It runs on the
// group whose state counts, in batch order, whichever clone searched.
// fails is valid only during the call to emit: copy what you keep.
func (g *Group) Merge(p *Prepared, emit func(filter, line int, fails []Failure)) {
	g.lendFrom(p)
	defer g.lendFrom(nil)
	for m, f := range g.Filters {
		f.mlfid.frozen = f.o.Now() // one clock reading per batch
		hits := p.hits[m]
		out := f.merged[:0]
		for k := 0; k < len(hits); {
			line := hits[k].line
			out = out[:0]
			stop := false
			for ; k < len(hits) && hits[k].line == line; k++ {
				h := &hits[k]
				switch {
				case h.done != nil:
					out = append(out, h.done...)
				case !stop:
					out, stop = f.mergeHit(out, h, p.lines[m][line], p.whens[m][line], p.spans)
				}
			}
			if len(out) > 0 {
				emit(m, line, out)
			}
		}
		clear(hits) // the failures keep their fields, not the batch
		clear(out[:cap(out)])
		f.merged = out[:0]
		f.mlfid.frozen = time.Time{}
	}
}

// lendFrom points the filters that lend their failures (Lend) at p's
// memory (nil: none).
func (g *Group) lendFrom(p *Prepared) {
	for _, f := range g.Filters {
		f.mem = nil
		if p != nil && g.Lend && f.lends {
			f.mem = &p.mem
		}
	}
}

// searchHits appends the hits of line i: a one-line filter's matches, or
// a multi-line filter's finished failures.
// view, when not empty, is the line's text in the batch's block, and
// arena the batch's offsets (see searchLine).
func (f *Filter) searchHits(hits []hit, i int, tl tupleLine, view string, arena *[]int, when time.Time, noDate bool, regexes uint64) []hit {
	if f.maxLines == 1 {
		return f.searchLine(hits, i, tl, view, arena, when, noDate, regexes)
	}
	if done := f.findMultiLine(tl, when, noDate, regexes); len(done) > 0 {
		hits = append(hits, hit{line: i, done: done})
	}
	return hits
}

func (g *Group) searchScanned(part *groupPart, sc *partScan, p *Prepared) error {
	stride := len(part.members)
	first := p.lines[part.members[0]]
	block, starts := sc.block[:0], sc.starts[:0]
	for i := range first {
		tl := &first[i]
		starts = append(starts, len(block))
		block = append(append(append(block, tl[0]...), tl[2]...), '\n')
	}
	sc.block, sc.starts = block, starts
	if cap(sc.cand) < p.n*stride {
		sc.cand = make([]uint64, p.n*stride)
	}
	sc.cand = sc.cand[:p.n*stride]
	if err := part.pre.scan(sc.block, sc.starts, sc.cand, stride); err != nil {
		return err
	}
	for k, m := range part.members {
		var same func(int) bool
		if k > 0 {
			same = func(i int) bool { return p.lines[m][i] == first[i] }
		}
		g.Filters[m].batchHeads(sc, k, stride, p.n, same)
	}
	for i := range p.n {
		for k, m := range part.members {
			f := g.Filters[m]
			tl := p.lines[m][i]
			mask := sc.cand[i*stride+k]
			view := ""
			if k > 0 && tl != first[i] {
				// This filter cut the line differently (its state differs):
				// the shared block does not apply, run every regex.
				mask = allRegexes
			} else if mask != 0 {
				view = sc.view(i)
			}
			if mask == 0 {
				continue
			}
			p.hits[m] = f.searchHits(p.hits[m], i, tl, view, &p.spans, p.whens[m][i], p.noDate[m][i], mask)
		}
	}
	return nil
}
