package filter

import "time"

// Group runs the filters of the jails that read one log source over the
// same lines, with one prefilter scan per block for all filters that cut
// dates alike (the same datepattern and time zone): one multi-pattern
// database per source, not per jail. Each filter keeps its own state, and
// results are those of each filter's own ProcessLines.
type Group struct {
	Filters []*Filter
	parts   []groupPart
}

// groupPart is the members that share one block and one database.
type groupPart struct {
	members []int // indexes into Filters
	pre     prefilter
	block   []byte
	starts  []int
	cand    []uint64
	lines   [][]tupleLine // per member
	whens   [][]time.Time
	noDate  [][]bool
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
		g.parts = append(g.parts, groupPart{members: []int{i}})
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
		if sp != nil {
			p.pre = sp
		}
		p.lines = make([][]tupleLine, len(p.members))
		p.whens = make([][]time.Time, len(p.members))
		p.noDate = make([][]bool, len(p.members))
	}
	return g, nil
}

// ProcessLines processes the lines with every filter, in order, and calls
// emit for each filter and line with failures.
func (g *Group) ProcessLines(lines []string, emit func(filter, line int, fails []Failure)) error {
	for pi := range g.parts {
		p := &g.parts[pi]
		if p.pre == nil {
			for _, m := range p.members {
				if err := g.Filters[m].ProcessLines(lines, func(i int, r []Failure) { emit(m, i, r) }); err != nil {
					return err
				}
			}
			continue
		}
		if err := g.processShared(p, lines, emit); err != nil {
			return err
		}
	}
	return nil
}

func (g *Group) processShared(p *groupPart, lines []string, emit func(filter, line int, fails []Failure)) error {
	stride := len(p.members)
	p.block, p.starts = p.block[:0], p.starts[:0]
	for k, m := range p.members {
		f := g.Filters[m]
		p.lines[k], p.whens[k], p.noDate[k] = p.lines[k][:0], p.whens[k][:0], p.noDate[k][:0]
		for _, l := range lines {
			tl, when, noDate := f.prepare(l)
			p.lines[k], p.whens[k], p.noDate[k] = append(p.lines[k], tl), append(p.whens[k], when), append(p.noDate[k], noDate)
		}
	}
	for _, tl := range p.lines[0] {
		p.starts = append(p.starts, len(p.block))
		p.block = append(p.block, tl[0]...)
		p.block = append(p.block, tl[2]...)
		p.block = append(p.block, '\n')
	}
	if cap(p.cand) < len(lines)*stride {
		p.cand = make([]uint64, len(lines)*stride)
	}
	p.cand = p.cand[:len(lines)*stride]
	if err := p.pre.scan(p.block, p.starts, p.cand, stride); err != nil {
		return err
	}
	for i := range lines {
		for k, m := range p.members {
			f := g.Filters[m]
			tl := p.lines[k][i]
			mask := p.cand[i*stride+k]
			if tl != p.lines[0][i] {
				// This filter cut the line differently (its state differs):
				// the shared block does not apply, run every regex.
				mask = allRegexes
			}
			if mask == 0 {
				f.buf = append(f.buf[:0], tl)
				continue
			}
			if r := f.findFailure(tl, p.whens[k][i], p.noDate[k][i], mask); len(r) > 0 {
				emit(m, i, r)
			}
		}
	}
	return nil
}
