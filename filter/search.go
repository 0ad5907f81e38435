package filter

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/f2bx/f2bx/filter/fields"
	"github.com/f2bx/f2bx/filter/pcre"
)

// A one-line filter (maxlines 1) works in two steps. searchLine runs the
// regexes over a line and reads the groups of the failregex that matched:
// it keeps no state, so clones of a filter may search lines concurrently.
// mergeHit then turns each hit into failures, in line order, with the
// state the filter keeps between lines: multi-line sessions (<F-MLFID>)
// and counters. A multi-line filter (maxlines > 1) does both at once.

// hit is one failregex match on one line: its groups, not yet merged into
// the filter's sessions. For a multi-line filter, done holds the line's
// finished failures instead.
type hit struct {
	line  int
	regex int
	fail  *fields.Set
	done  []Failure
	// matched is the line as the failure keeps it, when searchLine made
	// that copy already ("": merging makes it).
	matched string
	// A lazy hit only ends a session (see endsSessionOnly): its fields are
	// built by Merge, and only when the session it names exists. key is
	// that session's id, view and text the line and content searched (in
	// the batch's block), preRe the prefregex whose groups count (nil:
	// none) and spans the offsets of both matches in the batch's spans.
	lazy       bool
	key        string
	view, text string
	preRe      *Regex
	spans      [4]int32 // prefregex offsets: start, len; failregex's
}

// searchLine appends the hits of a one-line filter on line i (tl): the
// ignoreregexes (a line they match has none), the prefregex (a line it
// does not match has none; its content is what the failregexes see), then
// the candidate failregexes, the first that matches, or with CheckAll all
// of them. view, when not empty, is the text searched (tl[0]+tl[2]+"\n")
// in memory the caller reuses: the groups a hit keeps are then taken from
// one copy of the line, which the hit keeps as its matched line. With
// arena (where the view lives as long as the batch), a hit that only ends
// a session is left lazy, its offsets kept in arena.
func (f *Filter) searchLine(hits []hit, i int, tl tupleLine, view string, arena *[]int, when time.Time, noDate bool, regexes uint64) []hit {
	buf := view
	switch {
	case buf != "":
	case f.mem != nil:
		buf = f.mem.Append(tl[0], tl[2], "\n")
	default:
		buf = tl[0] + tl[2] + "\n"
	}
	if len(f.Ignore) > 0 && len(f.Ignore) < len(f.Fail)-2 && f.ignored(buf) {
		return hits
	}
	text := buf // what the failregexes search: the content, or the line
	if f.spans[0] == nil {
		f.spans = [2][]int{make([]int, 0, spanRoom), make([]int, 0, spanRoom)}
	}
	var pre *Match
	var preRe *Regex
	// first is a failregex whose search on the content came with the
	// prefregex's (firstMatch: its match; no spans when none): -1 for none.
	first := -1
	var firstMatch Match
	switch {
	case f.prefHead != nil:
		var m Match
		searched := false
		if r0 := firstCandidate(regexes, len(f.Fail)); r0 >= 0 {
			job := -1
			if view != "" && i < len(f.batchJob) {
				job = int(f.batchJob[i]) - 1
			}
			searched, m, first, firstMatch = f.searchAfterHead(buf, r0, job)
		}
		if !searched {
			var ok bool
			var err error
			if m, ok, err = f.prefHead.SearchInto(buf, f.spans[0]); err != nil || !ok {
				return hits
			}
		} else if m.spans == nil {
			return hits
		}
		f.PrefMatches++
		if len(f.prefHead.Names()) > 0 {
			pre, preRe = &m, f.prefHead
		}
		// The head ends one character into the content, which runs to the
		// end of the line.
		if end := strings.IndexByte(buf[m.End()-1:], '\n'); end > 0 {
			text = buf[m.End()-1 : m.End()+end]
		}
	case f.Pref != nil:
		m, ok, err := f.Pref.SearchInto(buf, f.spans[0])
		if err != nil || !ok {
			return hits
		}
		f.PrefMatches++
		if len(f.Pref.Names()) > 1 || !f.Pref.HasGroup("content") {
			pre, preRe = &m, f.Pref
		}
		if start, end, ok := m.span("content"); ok && end > start {
			if end < len(buf) && buf[end] == '\n' {
				text = buf[start : end+1]
			} else {
				text = buf[start:end] + "\n"
			}
		}
	default:
		// No prefregex: the block's batch may have searched the line's
		// first candidate failregex already.
		if view != "" && i < len(f.batchJob) && f.batchJob[i] > 0 {
			job := int(f.batchJob[i]) - 1
			if loc, ok := f.batch.Found(job, f.spans[1]); ok {
				first = f.batch.Regex(job)
				firstMatch = Match{Buf: text, spans: loc, re: f.Fail[first]}
			}
		}
	}
	for r, re := range f.Fail {
		if r < 64 && regexes&(1<<r) == 0 {
			continue
		}
		var m Match
		if r == first {
			if firstMatch.spans == nil {
				continue
			}
			m = firstMatch
		} else {
			var ok bool
			var err error
			if m, ok, err = re.SearchInto(text, f.spans[1]); err != nil || !ok {
				continue
			}
		}
		if len(f.Ignore) > 0 && f.ignored(text) {
			if !f.o.CheckAll {
				break
			}
			continue
		}
		if noDate && when.IsZero() && !f.o.AcceptNoDate {
			continue
		}
		if arena != nil && view != "" && !f.o.CheckAll {
			if key, ok := endsSessionOnly(pre, preRe, re, &m); ok {
				hits = append(hits, lazyHit(i, r, key, view, text, pre, preRe, &m, arena))
				break
			}
		}
		h := hit{line: i, regex: r}
		if view != "" {
			h.fail, h.matched = keptFields(tl, view, f.mem, pre, preRe, re, &m)
		} else {
			h.fail = groupFields(pre, preRe, re, &m, &lineCopy{a: f.mem})
		}
		hits = append(hits, h)
		if !f.o.CheckAll {
			break
		}
	}
	return hits
}

// firstCandidate is the first failregex regexes selects (of n), -1 for
// none.
func firstCandidate(regexes uint64, n int) int {
	if n > 64 && regexes == 0 {
		return 64
	}
	if regexes == 0 {
		return -1
	}
	if r := bits.TrailingZeros64(regexes); r < n {
		return r
	}
	return -1
}

// searchAfterHead searches the prefregex's head in a one-line buf and,
// when it matches, failregex r in the content, with one call into PCRE2,
// when both run there (searched); job >= 0 is the line's search in
// f.batch, made already. m is the head's match (no spans: none); first is
// r when r's search was made too (fm its match, no spans when none), else
// -1.
func (f *Filter) searchAfterHead(buf string, r, job int) (searched bool, m Match, first int, fm Match) {
	h, re := f.prefHead, f.Fail[r]
	if !f.headRuns(re) {
		return false, Match{}, -1, Match{}
	}
	var a pcre.After
	var ok bool
	switch {
	case job >= 0 && f.batch.Regex(job) == r:
		// The batch left a line with a "\n" inside unsearched (ok false).
		a, ok = f.batch.Result(job, f.spans[0], f.spans[1])
	case strings.IndexByte(buf, '\n') != len(buf)-1:
		return false, Match{}, -1, Match{}
	default:
		a, ok = pcre.FindAfter(h.jit, re.jit, buf, 1, f.spans[0], f.spans[1])
	}
	switch {
	case !ok:
		return false, Match{}, -1, Match{}
	case a.Head == nil:
		return true, Match{}, -1, Match{}
	}
	m = Match{Buf: buf, spans: a.Head, re: h}
	switch {
	case !a.RestOK:
		return true, m, -1, Match{}
	case a.Rest == nil:
		return true, m, r, Match{}
	}
	return true, m, r, Match{Buf: buf[a.Start:a.End], spans: a.Rest, re: re}
}

// headRuns reports whether the prefregex's head and failregex re run
// together on PCRE2 (searchAfterHead).
func (f *Filter) headRuns(re *Regex) bool { return f.headOnJIT() && re.jit != nil && re.re2 != nil }

// headOnJIT reports a prefregex head that runs on PCRE2.
func (f *Filter) headOnJIT() bool {
	h := f.prefHead
	return h != nil && h.jit != nil && h.re2 != nil
}

// batchHeads searches, in one call into C, the prefregex's head and the
// first candidate failregex of each line of a scanned block (sc) that
// searchLine will search in the block: lines whose mask in sc.cand (at
// k, every stride) is not 0 and, unless same is nil, for which same says
// so. It records in f.batchJob where each line's result is; searchLine
// then takes it instead of calling searchAfterHead's FindAfter. A filter
// without a prefregex has its lines' first candidate failregex searched
// so (a call into C a block, not a line).
func (f *Filter) batchHeads(sc *partScan, k, stride, n int, same func(i int) bool) {
	f.batchJob = f.batchJob[:0]
	headless := f.Pref == nil
	if f.maxLines != 1 || !headless && !f.headOnJIT() {
		return
	}
	if f.batch == nil {
		res := make([]*pcre.Regexp, len(f.Fail))
		for r, re := range f.Fail {
			if headless && re.jit != nil && re.re2 != nil || !headless && f.headRuns(re) {
				res[r] = re.jit
			}
		}
		var head *pcre.Regexp
		if !headless {
			head = f.prefHead.jit
		}
		f.batch = pcre.NewBatch(head, res)
	}
	f.batch.Reset()
	f.batchJob = slices.Grow(f.batchJob, n)[:n]
	clear(f.batchJob)
	for i := range n {
		mask := sc.cand[i*stride+k]
		if mask == 0 || (same != nil && !same(i)) {
			continue
		}
		// Add refuses r -1 (no candidate failregex).
		if j, ok := f.batch.Add(sc.view(i), sc.starts[i], firstCandidate(mask, len(f.Fail))); ok {
			f.batchJob[i] = int32(j + 1)
		}
	}
	f.batch.Run(sc.block)
}

// spanRoom is the room in a filter's reused match offsets: two per group
// of a regex with up to 31 groups (a larger one gets its own slice).
const spanRoom = 64

// lineCopy maps text found in a view of a reused block (view: the line
// before and after its date, then "\n") onto an owned copy of the line
// (line: before, date, after), so that what a failure keeps holds none of
// the batch's memory.
type lineCopy struct {
	view, line string
	cut, date  int // where the date was cut out of the view, and its length
	// a, when not nil, is where the set and copies are made (see
	// Filter.mem).
	a *fields.Arena
}

// arena is where the fields are made: nil for the heap.
func (c *lineCopy) arena() *fields.Arena {
	if c == nil {
		return nil
	}
	return c.a
}

// keep returns s as the failure keeps it: when s lies in the view, the
// same text in the line's copy (a new string only when s spans the date's
// cut or the final "\n"); any other text is owned already.
func (c *lineCopy) keep(s string) string {
	if c == nil || s == "" {
		return s
	}
	off := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.StringData(c.view)))
	if off >= uintptr(len(c.view)) || off+uintptr(len(s)) > uintptr(len(c.view)) {
		return s
	}
	start, end := int(off), int(off)+len(s)
	switch {
	case end <= c.cut:
		return c.line[start:end]
	case start >= c.cut && end < len(c.view):
		return c.line[start+c.date : end+c.date]
	case c.a != nil:
		return c.a.Text(s)
	}
	return strings.Clone(s)
}

// groupFields are a failregex match's groups, with those of the
// prefregex's match (pre, of preRe; nil when its groups do not count)
// except its content; texts go through c (nil: kept as found).
func groupFields(pre *Match, preRe, r *Regex, m *Match, c *lineCopy) *fields.Set {
	if l := r.layoutFor(pre, preRe); l != nil {
		return l.fields.Build(c.arena(), l.room, func(i int) (string, bool) {
			g, mm := l.src[i], m
			if g.pre {
				mm = pre
			}
			s, ok := mm.text(g.idx)
			return c.keep(s), ok
		})
	}
	fail := c.arena().New(fieldsRoom(pre != nil, preRe, r))
	if pre != nil {
		fillGroups(fail, preRe, pre, "content", c)
	}
	fillGroups(fail, r, m, "", c)
	return fail
}

// fieldsRoom is the room groupFields gives a match's fields: its groups
// and the few fields merging adds ("matches", "users", ...), as far as
// the set stays one allocation (it grows when they do not fit).
func fieldsRoom(withPre bool, preRe, r *Regex) int {
	n := len(r.named) + len(r.tuples)
	if withPre {
		n += len(preRe.named)
	}
	if n <= fields.InlineRoom {
		return min(n+3, fields.InlineRoom)
	}
	return n + 3
}

// groupLayout is how fillGroups turns a match's named groups into fields
// when neither its regex nor its prefregex has alt_ or tuple_ groups: the
// keys in the order they are first set, each taken from the last group
// that sets it (a later group replaces an earlier one's text, None too),
// so that groupFields builds the set without looking each key up.
type groupLayout struct {
	pre    *Regex // the prefregex whose groups come first; nil: none
	fields *fields.Layout
	src    []groupSource // per key
	room   int
}

// groupSource is where a key's value comes from: a group of the
// prefregex's match (pre) or of the failregex's.
type groupSource struct {
	pre bool
	idx int
}

// newGroupLayout is the layout of r's groups after preRe's (nil: none),
// or nil when fillGroups must decide (alt_ or tuple_ groups).
func newGroupLayout(preRe, r *Regex) *groupLayout {
	if r.linked() || (preRe != nil && preRe.linked()) {
		return nil
	}
	l := &groupLayout{pre: preRe, room: fieldsRoom(preRe != nil, preRe, r)}
	var keys []string
	set := func(n string, g groupSource) {
		if i := slices.Index(keys, n); i >= 0 {
			l.src[i] = g
			return
		}
		keys, l.src = append(keys, n), append(l.src, g)
	}
	if preRe != nil {
		for k, n := range preRe.named {
			if n != "content" {
				set(n, groupSource{true, preRe.namedIdx[k]})
			}
		}
	}
	for k, n := range r.named {
		set(n, groupSource{false, r.namedIdx[k]})
	}
	l.fields = fields.NewLayout(keys)
	return l
}

// layoutFor is r's layout for a match with pre (of preRe; nil: none), or
// nil when groupFields must fill the fields one by one.
func (r *Regex) layoutFor(pre *Match, preRe *Regex) *groupLayout {
	if pre == nil {
		return r.layouts[0]
	}
	if l := r.layouts[1]; l != nil && l.pre == preRe {
		return l
	}
	return nil
}

// ignored runs the ignoreregexes over a one-line buffer and counts those
// that match (the first, or with CheckAll all).
func (f *Filter) ignored(buf string) bool {
	found := false
	for i, r := range f.Ignore {
		if _, ok, err := r.Search(buf); err != nil || !ok {
			continue
		}
		found = true
		f.IgnoreCount[i]++
		if !f.o.CheckAll {
			break
		}
	}
	return found
}

// mergeHit appends the failures of a one-line filter's hit on line tl,
// merged into its multi-line session if it has one. stop reports that the
// line's later hits do not count (a session's helper line, or a session
// still without an address when pending ones are dropped).
func (f *Filter) mergeHit(out []Failure, h *hit, tl tupleLine, when time.Time, arena []int) (_ []Failure, stop bool) {
	f.FailCounts[h.regex]++
	if h.lazy {
		if f.mlfid.get(h.key) == nil {
			// No session to end: merging would change nothing, and the
			// match is no failure (<F-NOFAIL>): the line's later hits do
			// not count.
			return out, true
		}
		h.fail, h.matched = h.build(f.Fail[h.regex], tl, arena)
	}
	matched := h.matched
	if matched == "" {
		matched = tl.matched(f.mem)
	}
	fail, session, stop := f.intoSession(h.fail, []string{matched})
	if stop {
		return out, true
	}
	return f.appendFailures(out, h.regex, fail, session, when)
}

// endsSessionOnly reports a match whose fields would name a session
// (key, its mlfid) and end it (<F-MLFFORGET>) without failing
// (<F-NOFAIL> or <F-MLFGAINED>): merged into no session it changes
// nothing and yields no failure. It reads the groups as fillGroups would
// set them (the failregex's over the prefregex's); a regex with alt_ or
// tuple_ groups is left to the fields.
func endsSessionOnly(pre *Match, preRe, r *Regex, m *Match) (key string, ok bool) {
	if r.linked() || (pre != nil && preRe.linked()) {
		return "", false
	}
	group := func(k int) (string, bool) {
		if i := r.flagIdx[k]; i >= 0 {
			return m.text(i)
		}
		if pre != nil {
			if i := preRe.flagIdx[k]; i >= 0 {
				return pre.text(i)
			}
		}
		return "", false
	}
	truthy := func(k int) bool { s, ok := group(k); return ok && s != "" }
	if !truthy(flagMLFForget) || !(truthy(flagNoFail) || truthy(flagMLFGained)) {
		return "", false
	}
	return group(flagMLFID)
}

// lazyHit is a hit of failregex r on line i that only ends session key,
// its fields left to Merge: its matches' offsets (m's, and pre's of preRe
// when the prefregex's groups count) go to arena.
func lazyHit(i, r int, key, view, text string, pre *Match, preRe *Regex, m *Match, arena *[]int) hit {
	h := hit{line: i, regex: r, lazy: true, key: key, view: view, text: text}
	h.spans[2], h.spans[3] = int32(len(*arena)), int32(len(m.spans))
	*arena = append(*arena, m.spans...)
	if pre != nil {
		h.preRe = preRe
		h.spans[0], h.spans[1] = int32(len(*arena)), int32(len(pre.spans))
		*arena = append(*arena, pre.spans...)
	}
	return h
}

// build makes a lazy hit's fields and matched line, as searchLine would
// have (re: its failregex; arena: the batch's offsets).
func (h *hit) build(re *Regex, tl tupleLine, arena []int) (*fields.Set, string) {
	m := Match{Buf: h.text, spans: arena[h.spans[2] : h.spans[2]+h.spans[3]], re: re}
	var pre *Match
	if h.preRe != nil {
		pre = &Match{Buf: h.view, spans: arena[h.spans[0] : h.spans[0]+h.spans[1]], re: h.preRe}
	}
	return keptFields(tl, h.view, nil, pre, h.preRe, re, &m)
}

// keptFields are a match's groups (see groupFields) found in view, a
// reused block's text of line tl, taken from one copy of the line, which
// is also its matched line.
func keptFields(tl tupleLine, view string, a *fields.Arena, pre *Match, preRe, re *Regex, m *Match) (*fields.Set, string) {
	matched := tl.matched(a)
	c := lineCopy{view: view, line: matched, cut: len(tl[0]), date: len(tl[1]), a: a}
	return groupFields(pre, preRe, re, m, &c), matched
}

// intoSession merges a match's fields, with the lines it matched, into
// its multi-line session when it has one (session), or gives them their
// lines. stop reports a session's helper line (<F-NOFAIL>): the line's
// later hits do not count. matched is not kept (a copy is), so that the
// caller's list may live on its stack.
func (f *Filter) intoSession(fail *fields.Set, matched []string) (_ *fields.Set, session, stop bool) {
	mlfid, session := sessionID(fail)
	if !session {
		if len(matched) == 1 {
			fail.SetList("matches", fail.OneList(matched[0]))
		} else {
			fail.SetList("matches", slices.Clone(matched))
		}
		return fail, false, false
	}
	fail = f.mergeFailure(mlfid, fail, matched)
	return fail, true, fail.Truthy("nofail") && !f.o.CheckAll
}

// sessionID returns the multi-line session a match belongs to: its mlfid
// group's text (or the value printed), unless that is absent or None.
func sessionID(fail *fields.Set) (string, bool) {
	if s, ok := fail.Text("mlfid"); ok {
		return s, true
	}
	if v := fail.Get("mlfid"); v != nil {
		return fmt.Sprint(v), true
	}
	return "", false
}

// appendFailures appends a matched failregex's failures, one per failure
// id (a DNS name may resolve to several addresses).
func (f *Filter) appendFailures(out []Failure, i int, fail *fields.Set, session bool, when time.Time) (_ []Failure, stop bool) {
	ids, addr, pending := f.failureIDs(fail)
	host := ""
	if len(ids) == 1 && ids[0] == "" && !pending {
		host = fail.Str("dns")
	}
	if pending {
		fail.Set("mlfpending", 1)
		if !f.o.CheckAll && f.ignorePend {
			return out, true
		}
	}
	if f.o.CheckAll && session {
		fail = fail.Clone()
	}
	for _, id := range ids {
		out = append(out, Failure{Regex: i, ID: id, Addr: addr, Host: host, Time: when, Fields: fail, Lent: f.mem != nil})
	}
	return out, false
}
