package filter

// ProcessLines processes lines in order, as ProcessLine would one by one,
// and calls emit for every line with failures. It is a Group of this one
// filter: with a prefilter (Hyperscan builds), the dates are cut out of all
// lines first, one scan of the block finds which failregexes may match
// which line, and only those run. fails is valid only during the call to
// emit.
func (f *Filter) ProcessLines(lines []string, emit func(i int, fails []Failure)) error {
	if f.alone == nil {
		f.alone = &Group{Filters: []*Filter{f}, parts: []groupPart{{members: []int{0}, pre: f.pre}}}
	}
	f.alone.Prepare(lines, &f.prepared)
	return f.alone.Match(&f.prepared, func(_, i int, fs []Failure) { emit(i, fs) })
}
