package filter

import "time"

// batchState is ProcessLines' reusable memory.
type batchState struct {
	block  []byte
	starts []int
	cand   []uint64
	lines  []tupleLine
	whens  []time.Time
	noDate []bool
}

// ProcessLines processes lines in order, as ProcessLine would one by one,
// and calls emit for every line with failures. With a prefilter
// (Hyperscan builds), the dates are cut out of all lines first, one scan
// of the block finds which failregexes may match which line, and only
// those run.
func (f *Filter) ProcessLines(lines []string, emit func(i int, fails []Failure)) error {
	if f.pre == nil {
		for i, l := range lines {
			if r := f.ProcessLine(l); len(r) > 0 {
				emit(i, r)
			}
		}
		return nil
	}
	b := &f.batch
	b.block, b.starts = b.block[:0], b.starts[:0]
	b.lines, b.whens, b.noDate = b.lines[:0], b.whens[:0], b.noDate[:0]
	for _, l := range lines {
		tl, when, noDate := f.prepare(l)
		b.lines, b.whens, b.noDate = append(b.lines, tl), append(b.whens, when), append(b.noDate, noDate)
		b.starts = append(b.starts, len(b.block))
		b.block = append(b.block, tl[0]...)
		b.block = append(b.block, tl[2]...)
		b.block = append(b.block, '\n')
	}
	if cap(b.cand) < len(lines) {
		b.cand = make([]uint64, len(lines))
	}
	b.cand = b.cand[:len(lines)]
	if err := f.pre.scan(b.block, b.starts, b.cand, 1); err != nil {
		return err
	}
	for i, tl := range b.lines {
		if b.cand[i] == 0 {
			f.buf = append(f.buf[:0], tl)
			continue
		}
		if r := f.findFailure(tl, b.whens[i], b.noDate[i], b.cand[i]); len(r) > 0 {
			emit(i, r)
		}
	}
	return nil
}
