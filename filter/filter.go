// Package filter turns log lines into failures with fail2ban's semantics:
// the date found and cut out of the line, prefregex (whose <F-CONTENT> is
// what the failregexes see), failregexes (the first that matches wins),
// ignoreregexes, a buffer of maxlines lines for multi-line regexes, and
// multi-line failure ids (<F-MLFID>) with <F-NOFAIL>, <F-MLFFORGET> and
// <F-MLFGAINED>.
package filter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/fail2ban"
	"github.com/f2bx/f2bx/filter/date"
	"github.com/f2bx/f2bx/filter/fields"
	"github.com/f2bx/f2bx/filter/pcre"
	"github.com/f2bx/f2bx/internal/netaddr"
)

// Options configure a Filter.
type Options struct {
	// Now is the clock (for dates without year or day, and lines without
	// date). time.Now when nil.
	Now func() time.Time
	// Loc is the local time zone of log times without a zone.
	Loc *time.Location
	// TimeZone is logtimezone ("UTC", "+0200", ...), overriding Loc.
	TimeZone string
	// CheckAll runs every failregex on a line instead of stopping at the
	// first match (fail2ban's sample tests do this).
	CheckAll bool
	// RawHost keeps DNS names as failure ids instead of resolving them
	// (fail2ban-regex --raw, and fail2ban's sample tests).
	RawHost bool
	// AcceptNoDate keeps failures of lines without a date (fail2ban's
	// checkFindTime off, as in fail2ban-regex and its sample tests).
	AcceptNoDate bool
	// InOperation treats a line without date as happening now, as
	// fail2ban does once it follows a log (not while reading it first).
	InOperation bool
	// IgnorePending drops matches of multi-line sessions that have no
	// address yet (fail2ban-regex -o).
	IgnorePending bool
	// AnyYear accepts years from 1969 in %ExY dates (fail2ban-regex).
	AnyYear bool
	// Resolve turns a DNS name into addresses (usedns yes/warn); nil
	// resolves nothing.
	Resolve func(host string) []string
}

// Filter is a compiled filter. It keeps state between lines (the line
// buffer, the last date, multi-line sessions): one Filter per log stream.
type Filter struct {
	Pref *Regex
	// prefHead is Pref without its "<F-CONTENT>.+</F-CONTENT>$" end, plus
	// one character: on a one-line buffer it picks the same prefix, and the
	// content is the rest of the line.
	prefHead    *Regex
	Fail        []*Regex
	Ignore      []*Regex
	Dates       *date.Detector
	maxLines    int
	useDNS      string
	datePattern string
	o           Options
	buf         []tupleLine
	lastDate    time.Time
	lastText    string
	mlfid       *mlfidCache
	ignorePend  bool
	PrefMatches int   // lines the prefregex matched (on the exact path)
	FailCounts  []int // matches per failregex
	// PrefilterModes says per failregex how the batch path prefilters it
	// (nil without a prefilter).
	PrefilterModes []string
	pre            prefilter
	// alone is this filter as a group of one, and prepared its batch
	// memory, for ProcessLines.
	alone       *Group
	prepared    Prepared
	hitBuf      []hit     // ProcessLine's hits, reused
	merged      []Failure // Merge's failures of one line, reused
	IgnoreCount []int     // matches per ignoreregex
	// spans hold the offsets of searchLine's prefregex and failregex
	// matches, reused from line to line; ids, failureIDs' result.
	spans [2][]int
	ids   []string
	// batch searches the prefregex's head and each candidate line's first
	// failregex for a whole scanned block in one call into C (see
	// searchScanned); batchJob holds per line of the block scanned last
	// its job + 1 (0: none). searchLine reads it only for a view of that
	// block (batchHeads runs for each block before its lines are searched).
	batch    *pcre.Batch
	batchJob []int32
	// mem, while a group that lends its failures (Group.Lend) searches or
	// merges a batch, is the batch's arena: the fields and lines of this
	// filter's failures are made there. Only a one-line filter without
	// sessions lends (lends): a session's fields are its failures' too,
	// and change with its later lines after the jail took them, as
	// fail2ban's shared dict does, so they cannot be a copy the jail
	// takes of a batch's memory.
	mem   *fields.Arena
	lends bool
}

// tupleLine is a line split around its date: before, date, after, and
// (when it is their concatenation) the original line.
type tupleLine [4]string

func (t tupleLine) text() string { return t[0] + t[2] }

func (t tupleLine) full() string {
	if t[3] != "" {
		return t[3]
	}
	return t[0] + t[1] + t[2]
}

// matched is the line as a failure keeps it ("matches"): a copy, so that
// a failure kept for findtime holds its own line, not the block of lines
// the source read it in; made in a (when not nil) for a failure lent.
func (t tupleLine) matched(a *fields.Arena) string {
	switch {
	case a != nil && t[3] != "":
		return a.Text(t[3])
	case a != nil:
		return a.Append(t[0], t[1], t[2])
	case t[3] != "":
		return strings.Clone(t[3])
	}
	return t[0] + t[1] + t[2]
}

// Failure is one failure found in a line.
type Failure struct {
	// Regex is the index of the failregex that matched.
	Regex int
	// ID is the failure id: the address (normalised), or the <F-ID> text.
	// Empty for a multi-line session still waiting for its address, and
	// for a DNS name left to the caller to resolve (see Host).
	ID string
	// Host is a DNS name the filter found but did not resolve (usedns
	// yes/warn without Options.Resolve): resolving is the caller's, off the
	// matching path.
	Host string
	// Addr is ID parsed, when ID is an address written canonically
	// (invalid otherwise): its reader need not parse it again.
	Addr netip.Addr
	// Time is the line's date.
	Time time.Time
	// Fields are the captured groups (user, and any <F-NAME>), plus
	// "matches" (the matched lines), "users", "nofail", ...
	Fields *fields.Set
	// Lent marks a failure whose ID, Host and Fields (texts included) are
	// the batch's memory (Group.Lend): valid until its Prepared is
	// prepared again. Copy what you keep (fields.Set.Own).
	Lent bool
}

// NoFail reports a match that is not a failure (<F-NOFAIL>, a session
// not failed yet).
func (f *Failure) NoFail() bool { return f.Fields.Truthy("nofail") }

// failureIDGroups are the groups that can hold a failure id, by priority.
var failureIDGroups = []string{"fid", "ip4", "ip6", "dns"}

// New compiles a filter.
func New(c config.Filter, o Options) (*Filter, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Loc == nil {
		o.Loc = time.Local
	}
	f := &Filter{maxLines: c.MaxLines, useDNS: c.UseDNS, o: o, mlfid: newMLFIDCache(100, o.Now), ignorePend: o.IgnorePending}
	if f.maxLines < 1 {
		f.maxLines = 1
	}
	if f.useDNS == "" {
		f.useDNS = config.DefaultUseDNS
	}
	var err error
	if c.PrefRegex != "" {
		if f.Pref, err = CompileRegex(c.PrefRegex, f.useDNS, false); err != nil {
			return nil, fmt.Errorf("prefregex: %w", err)
		}
		if head, ok := strings.CutSuffix(c.PrefRegex, "<F-CONTENT>.+</F-CONTENT>$"); ok && f.maxLines == 1 && !strings.Contains(head, "F-CONTENT") {
			if h, err := CompileRegex(head+`[^\n]`, f.useDNS, false); err == nil && h.Engine == EngineRE2 {
				f.prefHead = h
			}
		}
	}
	for _, s := range c.FailRegex {
		r, err := CompileRegex(s, f.useDNS, f.maxLines > 1)
		if err != nil {
			return nil, fmt.Errorf("failregex: %w", err)
		}
		if !hasFailureID(r) && (f.Pref == nil || !hasFailureID(f.Pref)) {
			return nil, fmt.Errorf("failregex %q: no failure-id group (<HOST>, <ADDR>, <F-ID>, <F-MLFID>, ...)", s)
		}
		f.Fail = append(f.Fail, r)
	}
	if len(f.Fail) == 0 {
		return nil, fmt.Errorf("no failregex")
	}
	pre := f.prefHead
	if pre == nil {
		pre = f.Pref
	}
	for _, r := range f.Fail {
		r.layouts[0] = newGroupLayout(nil, r)
		if pre != nil {
			r.layouts[1] = newGroupLayout(pre, r)
		}
	}
	for _, s := range c.IgnoreRegex {
		r, err := CompileRegex(s, f.useDNS, f.maxLines > 1)
		if err != nil {
			return nil, fmt.Errorf("ignoreregex: %w", err)
		}
		f.Ignore = append(f.Ignore, r)
	}
	f.datePattern = c.DatePattern
	if f.Dates, err = date.New(c.DatePattern, date.Options{Now: o.Now, Loc: o.Loc, TimeZone: o.TimeZone, AnyYear: o.AnyYear}); err != nil {
		return nil, fmt.Errorf("datepattern: %w", err)
	}
	f.FailCounts = make([]int, len(f.Fail))
	f.IgnoreCount = make([]int, len(f.Ignore))
	if f.pre, f.PrefilterModes, err = newPrefilter(f.Pref, f.Fail, f.maxLines); err != nil {
		return nil, err
	}
	f.lends = f.maxLines == 1 && !hasGroupFlag(flagMLFID, append([]*Regex{f.Pref, f.prefHead}, f.Fail...))
	return f, nil
}

// hasGroupFlag reports whether any of rs (nil entries skipped) has flag
// k's group.
func hasGroupFlag(k int, rs []*Regex) bool {
	for _, r := range rs {
		if r != nil && r.flagIdx[k] >= 0 {
			return true
		}
	}
	return false
}

// clone returns a filter with the same compiled regexes and state of its
// own (line buffer, dates, sessions, counters, prefilter scratch). Clones
// may search concurrently only with maxlines 1: a multi-line buffer
// compiles a regex's regexp2 form lazily.
func (f *Filter) clone() (*Filter, error) {
	c := *f
	c.buf, c.lastDate, c.lastText = nil, time.Time{}, ""
	c.mlfid = newMLFIDCache(100, f.o.Now)
	c.alone, c.prepared, c.hitBuf, c.merged = nil, Prepared{}, nil, nil
	c.spans, c.ids = [2][]int{}, nil
	c.batch, c.batchJob = nil, nil
	c.mem = nil
	c.PrefMatches = 0
	c.FailCounts = make([]int, len(f.Fail))
	c.IgnoreCount = make([]int, len(f.Ignore))
	if f.pre != nil {
		pre, err := f.pre.clone()
		if err != nil {
			return nil, err
		}
		c.pre = pre
	}
	return &c, nil
}

func hasFailureID(r *Regex) bool {
	for _, g := range append(failureIDGroups, "mlfid") {
		if r.HasGroup(g) {
			return true
		}
	}
	return false
}

// ProcessLine finds the date of a log line and its failures.
func (f *Filter) ProcessLine(line string) []Failure {
	tl, when, noDate := f.prepare(line)
	return f.findFailure(tl, when, noDate, allRegexes)
}

// allRegexes selects every failregex.
const allRegexes = ^uint64(0)

// prepare finds the line's date and cuts it out.
func (f *Filter) prepare(line string) (tupleLine, time.Time, bool) {
	var (
		tl      tupleLine
		when    time.Time
		hasDate bool
	)
	found, ok := f.Dates.Match(line)
	switch {
	case !ok:
		tl = tupleLine{"", "", line, line}
	case found.Start == found.End:
		// An empty date (datepattern {NONE}): the last date when recent,
		// else now.
		tl = tupleLine{line[:found.Start], "", line[found.End:]}
		now := f.o.Now()
		if !f.lastDate.IsZero() && f.lastDate.After(now.Add(-time.Minute)) {
			tl = tupleLine{"", f.lastText, line}
			when = f.lastDate
		} else {
			when = now
		}
		hasDate = true
	default:
		tl = tupleLine{line[:found.Start], line[found.Start:found.End], line[found.End:], line}
		if !found.Time.IsZero() {
			when, hasDate = found.Time, true
			f.lastText, f.lastDate = tl[1], when
		}
	}
	noDate := false
	if !hasDate {
		noDate = true
		now := f.o.Now()
		if !f.lastDate.IsZero() && f.lastDate.After(now.Add(-time.Minute)) {
			tl = tupleLine{"", f.lastText, line}
			when, hasDate = f.lastDate, true
		} else if f.o.InOperation {
			when = now
		}
	}
	return tl, when, noDate
}

// Buffer returns a copy of the lines the filter holds for multi-line
// regexes (before, date, after, and the whole line when known).
func (f *Filter) Buffer() [][4]string {
	out := make([][4]string, len(f.buf))
	for i, t := range f.buf {
		out[i] = [4]string(t)
	}
	return out
}

// ProcessLineAt processes a line whose time is known (a journal entry):
// no date is looked for.
func (f *Filter) ProcessLineAt(line string, when time.Time) []Failure {
	f.lastDate = when
	return f.findFailure(tupleLine{"", "", line, line}, when, false, allRegexes)
}

func joinBuf(lines []tupleLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.text())
		b.WriteByte('\n')
	}
	return b.String()
}

// search runs a regex on buf and works out which of orgLines it matched.
type searchResult struct {
	m         Match
	matched   []tupleLine
	unmatched []tupleLine
}

func (f *Filter) search(r *Regex, buf string, orgLines []tupleLine) (res searchResult, ok bool) {
	m, ok, err := r.Search(buf)
	if err != nil || !ok {
		return res, false
	}
	res.m = m
	if len(orgLines) <= 1 {
		res.matched = orgLines
		return res, true
	}
	start := strings.LastIndexByte(buf[:min(m.Start()+1, len(buf))], '\n') + 1
	if m.Start() == 0 {
		start = 0
	}
	end := len(buf)
	if e := m.End() - 1; e >= 0 {
		if i := strings.IndexByte(buf[e:], '\n'); i >= 0 {
			end = e + i + 1
		}
	}
	c1 := strings.Count(buf[:start], "\n")
	c2 := strings.Count(buf[:end], "\n")
	c1, c2 = min(c1, len(orgLines)), min(c2, len(orgLines))
	res.matched = append([]tupleLine(nil), orgLines[c1:c2]...)
	res.unmatched = append([]tupleLine(nil), orgLines[:c1]...)
	n := 0
	for _, skipped := range skippedLines(&m) {
		for i := n; i < len(res.matched); i++ {
			if res.matched[i].text() == skipped {
				res.unmatched = append(res.unmatched, res.matched[i])
				res.matched = append(res.matched[:i], res.matched[i+1:]...)
				n = i
				break
			}
		}
	}
	res.unmatched = append(res.unmatched, orgLines[c2:]...)
	return res, true
}

// skippedLines are the lines <SKIPLINES> swallowed.
func skippedLines(m *Match) []string {
	var all strings.Builder
	for i := 0; ; i++ {
		name := "skiplines" + strconv.Itoa(i)
		if !m.re.HasGroup(name) {
			break
		}
		if s, ok := m.Group(name); ok {
			all.WriteString(s)
		}
	}
	if all.Len() == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n")
}

// fillGroups sets a match's named groups in dst (nil for a group that did
// not take part), skipping skip; an alt_NAME group fills NAME when the
// regex's own NAME is empty, as fail2ban resolves them before merging the
// prefregex's groups in. Texts go through c (see lineCopy.keep).
func fillGroups(dst *fields.Set, r *Regex, m *Match, skip string, c *lineCopy) {
	for k, n := range r.named {
		if n == skip {
			continue
		}
		if s, ok := m.text(r.namedIdx[k]); ok {
			dst.SetText(n, c.keep(s))
		} else {
			dst.Set(n, nil)
		}
	}
	for _, a := range r.alts {
		v, _ := m.text(a.idx)
		own := ""
		if a.mainIdx >= 0 {
			own, _ = m.text(a.mainIdx)
		}
		if v != "" && own == "" {
			dst.SetText(a.main, c.keep(v))
		}
	}
	// tuple_NAME groups join NAME into a tuple, in the order of their
	// names: (NAME, tuple_NAME_1, tuple_NAME_2, ...).
	for _, g := range r.tuples {
		var v any
		if s, ok := m.text(g.idx); ok {
			v = c.keep(s)
		}
		if t, ok := dst.Get(g.main).(Tuple); ok {
			dst.Set(g.main, append(t, v))
		} else {
			dst.Set(g.main, Tuple{dst.Get(g.main), v})
		}
	}
}

// Tuple is the value of a group that <F-TUPLE_x> groups join; as a failure
// id it is written as Python writes a tuple.
type Tuple []any

func (t Tuple) String() string {
	parts := make([]string, len(t))
	for i, v := range t {
		parts[i] = fail2ban.PyRepr(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// trimIndex drops a trailing "_N" (alt_user_1 is an alternative for user).
func trimIndex(s string) string {
	if i := strings.LastIndexByte(s, '_'); i > 0 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			s = s[:i]
		}
	}
	switch s {
	case "id":
		return "fid"
	case "port":
		return "fport"
	}
	return s
}

func linesOf(t []tupleLine) []string {
	out := make([]string, len(t))
	for i, l := range t {
		out[i] = l.matched(nil)
	}
	return out
}

// ignoreLine runs the ignoreregexes; it returns the index of the one that
// matched, or -1.
func (f *Filter) ignoreLine(buf string, org []tupleLine, fr *searchResult) int {
	if fr != nil && f.maxLines > 1 {
		org = fr.matched
		buf = joinBuf(org)
	}
	found := -1
	for i, r := range f.Ignore {
		if _, ok := f.search(r, buf, org); !ok {
			continue
		}
		found = i
		f.IgnoreCount[i]++
		if !f.o.CheckAll || f.maxLines > 1 {
			if fr != nil {
				f.buf = fr.unmatched
			}
		}
		if !f.o.CheckAll {
			break
		}
	}
	return found
}

// findFailure runs the filter on a line; only the failregexes whose bit is
// set in regexes (all past the 64th) are tried.
func (f *Filter) findFailure(tl tupleLine, when time.Time, noDate bool, regexes uint64) []Failure {
	if f.maxLines == 1 {
		hits := f.searchLine(f.hitBuf[:0], 0, tl, "", nil, when, noDate, regexes)
		f.hitBuf = hits[:0]
		var out []Failure
		for k := range hits {
			var stop bool
			if out, stop = f.mergeHit(out, &hits[k], tl, when, nil); stop {
				break
			}
		}
		clear(hits)
		return out
	}
	return f.findMultiLine(tl, when, noDate, regexes)
}

// findMultiLine runs a filter of maxlines > 1 on a line: the line joins
// the buffer, and the regexes search the buffer's lines joined.
func (f *Filter) findMultiLine(tl tupleLine, when time.Time, noDate bool, regexes uint64) []Failure {
	var out []Failure
	f.buf = append(f.buf, tl)
	if len(f.buf) > f.maxLines {
		f.buf = f.buf[len(f.buf)-f.maxLines:]
	}
	org := f.buf
	buf := joinBuf(org)
	valid := true

	if len(f.Ignore) > 0 && len(f.Ignore) < len(f.Fail)-2 {
		if f.ignoreLine(buf, org, nil) >= 0 {
			return nil
		}
	}
	var pre *Match // the prefregex's match, its groups merged into failures
	var preRe *Regex
	if f.Pref != nil {
		pr, ok := f.search(f.Pref, buf, org)
		if !ok {
			return nil
		}
		f.PrefMatches++
		if len(f.Pref.Names()) > 1 || !f.Pref.HasGroup("content") {
			pre, preRe = &pr.m, f.Pref
		}
		if s, ok := pr.m.Group("content"); ok && s != "" {
			f.buf, valid = []tupleLine{{"", "", s, s}}, false
		}
	}
	for i, r := range f.Fail {
		if i < 64 && regexes&(1<<i) == 0 {
			continue
		}
		if !valid {
			buf, valid = joinBuf(f.buf), true
		}
		fr, ok := f.search(r, buf, org)
		if !ok {
			continue
		}
		if len(f.Ignore) > 0 && f.ignoreLine(buf, org, &fr) >= 0 {
			valid = false
			if !f.o.CheckAll {
				break
			}
			continue
		}
		if noDate && when.IsZero() && !f.o.AcceptNoDate {
			continue
		}
		f.FailCounts[i]++
		f.buf, valid = fr.unmatched, false
		fail, session, stop := f.intoSession(groupFields(pre, preRe, r, &fr.m, nil), linesOf(fr.matched))
		if stop {
			return out
		}
		if out, stop = f.appendFailures(out, i, fail, session, when); stop || !f.o.CheckAll {
			break
		}
	}
	return out
}

// failureIDs picks the failure id: <F-ID>, else the IPv4, IPv6 or DNS
// address. pending is true for a multi-line session without one yet. The
// ids are valid until the next call. addr is the one id parsed, when it
// is an address written canonically.
func (f *Filter) failureIDs(fail *fields.Set) (ids []string, addr netip.Addr, pending bool) {
	one := func(id string) []string {
		f.ids = append(f.ids[:0], id)
		return f.ids
	}
	raw := f.useDNS == "raw" || f.o.RawHost
	fid, hasFID := fail.Text("fid")
	if !hasFID {
		if t, ok := fail.Get("fid").(Tuple); ok {
			fid, hasFID = t.String(), true
		}
	}
	var ip string
	cidr, family := -1, 0
	if v, ok := fail.Text("ip4"); ok {
		ip, family, raw = v, 4, true
	} else if v, ok := fail.Text("ip6"); ok {
		ip, family, raw = v, 6, true
	} else if v, ok := fail.Text("dns"); ok {
		ip = v
	} else if hasFID {
		ip, raw = fid, true
	} else {
		return one(""), netip.Addr{}, true
	}
	if c := fail.Str("cidr"); c != "" {
		cidr, _ = strconv.Atoi(c)
	}
	if raw {
		id, a := normalizeAddr(ip, family, cidr)
		if !hasFID || fid == ip {
			return one(id), a, false
		}
		fail.SetText("ip", id)
		return one(fid), netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		return one(netaddr.String(a, ip)), a.Unmap(), false
	}
	if f.useDNS == "no" {
		return nil, netip.Addr{}, false
	}
	if f.o.Resolve == nil {
		return one(""), netip.Addr{}, false // the caller resolves fail["dns"]
	}
	return f.o.Resolve(ip), netip.Addr{}, false
}

// normalizeAddr renders an address as fail2ban does: canonical when it
// parses, with /cidr when that is narrower than the address, else as it
// was written. addr is the address when the text is its canonical form.
func normalizeAddr(s string, family, cidr int) (_ string, addr netip.Addr) {
	a, err := netip.ParseAddr(s)
	if err != nil || (family == 4 && !a.Is4()) {
		return s, netip.Addr{}
	}
	dotted := a.Is4() // ParseAddr takes IPv4 in its one spelling only
	a = a.Unmap()
	if cidr >= 0 && cidr < a.BitLen() {
		if p, err := a.Prefix(cidr); err == nil {
			return p.String(), netip.Addr{}
		}
	}
	if dotted {
		return s, a
	}
	return netaddr.String(a, s), a
}
