package date

// isoPattern is the default template of lines that start with an ISO 8601
// date: "2005-08-14 11:22:33", with "/" or "." between the date's parts,
// "T" or one or two spaces before the time, a fraction and a zone.
const isoPattern = `{^LN-BEG}%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`

// isoMatcher matches isoPattern without a regex engine, as syslogMatcher
// does syslogPattern: each step takes the regex's alternatives in the
// order a backtracking engine would, and the matcher gives up (bail) on
// characters whose class differs between Python's Unicode regexes and
// ASCII (non-ASCII, control characters in the zone's \s*).
type isoMatcher struct {
	years *yearPrefixes // first three digits %ExY accepts
	line  string
	fv    *fields
	bail  bool
	// fractions counts the calls of fraction in one match, fracAt is
	// where the last one started.
	fractions, fracAt int
	// memo is the last match up to its seconds: the date from the start
	// of the line to q (where the fraction may begin) and its fields. The
	// steps before the fraction look at no byte past q, so a line with the
	// same bytes up to q, included, goes the same way up to the fraction;
	// when that match reached the fraction once only (no earlier
	// alternative got there and failed on what follows), its result is the
	// fraction's and zone's on the new line, if they match.
	memo struct {
		line string
		k, q int
		fv   fields
	}
}

func (m *isoMatcher) fresh() fastMatcher { return &isoMatcher{years: m.years} }

// match returns the date span, or ok false; bail reports that the regex
// must decide.
func (m *isoMatcher) match(line string, fv *fields) (start, end int, ok, bail bool) {
	if !asciiPrefix(line) {
		return 0, 0, false, true
	}
	m.line, m.fv, m.bail = line, fv, false
	if mm := &m.memo; mm.q > 0 && len(line) > mm.q && len(mm.line) > mm.q && line[:mm.q+1] == mm.line[:mm.q+1] {
		*fv = mm.fv
		if e, ok := m.fraction(mm.q); ok && !m.bail {
			return mm.k, e, true, false
		}
		m.bail = false
	}
	k, ok := lineStart(line)
	if !ok {
		return 0, 0, false, false
	}
	*fv = fields{}
	m.fractions = 0
	if e, ok := m.year(k); ok {
		m.remember(k)
		return k, e, true, m.bail
	}
	return 0, 0, false, m.bail
}

// remember keeps a match that started at k as the memo, when it reached
// the fraction only once and the regex need not decide.
func (m *isoMatcher) remember(k int) {
	mm := &m.memo
	mm.q = 0
	if m.fractions != 1 || m.bail {
		return
	}
	q := m.fracAt // the one fraction tried: after the seconds
	if q <= k || q >= len(m.line) {
		return
	}
	mm.line, mm.k, mm.q, mm.fv = m.line, k, q, *m.fv
	mm.fv[fz] = ""
}

// year: a century %ExY accepts and a digit, then the separator.
func (m *isoMatcher) year(p int) (int, bool) {
	l := m.line
	if p+5 > len(l) || !m.years.has(l[p:p+3]) || !isDigit(l[p+3]) {
		return 0, false
	}
	sep := l[p+4]
	if sep != '-' && sep != '/' && sep != '.' {
		return 0, false
	}
	if e, ok := m.month(p+5, sep); ok {
		m.fv[fY] = l[p : p+4]
		return e, true
	}
	return 0, false
}

// month: %m, then the same separator.
func (m *isoMatcher) month(p int, sep byte) (int, bool) {
	a := monthAlts(m.line, p)
	for _, n := range a.list() {
		if followedBy(m.line, p+n, sep) {
			if e, ok := m.day(p + n + 1); ok {
				m.fv[fm] = m.line[p : p+n]
				return e, true
			}
		}
	}
	return 0, false
}

// day: %d, then the time's separator.
func (m *isoMatcher) day(p int) (int, bool) {
	a := dayAlts(m.line, p)
	for _, n := range a.list() {
		if e, ok := m.timeSep(p + n); ok {
			m.fv[fd] = m.line[p : p+n]
			return e, true
		}
	}
	return 0, false
}

// timeSep: T | " " followed by an optional " " (greedy).
func (m *isoMatcher) timeSep(p int) (int, bool) {
	l := m.line
	if p >= len(l) {
		return 0, false
	}
	if l[p] == 'T' {
		return m.hour(p + 1)
	}
	if l[p] != ' ' {
		return 0, false
	}
	if p+1 < len(l) && l[p+1] == ' ' {
		if e, ok := m.hour(p + 2); ok {
			return e, true
		}
	}
	return m.hour(p + 1)
}

// hour: %H, then ":".
func (m *isoMatcher) hour(p int) (int, bool) {
	a := isoHourAlts(m.line, p)
	for _, n := range a.list() {
		if followedBy(m.line, p+n, ':') {
			if e, ok := minuteSecond(m.line, m.fv, p+n+1, m.fraction); ok {
				m.fv[fH] = m.line[p : p+n]
				return e, true
			}
		}
	}
	return 0, false
}

// fraction: (?:[.,][0-9]{1,6})?, greedy (fail2ban ignores its value).
func (m *isoMatcher) fraction(p int) (int, bool) {
	m.fractions++
	m.fracAt = p
	l := m.line
	if p < len(l) && (l[p] == '.' || l[p] == ',') {
		n := 0
		for n < 6 && p+1+n < len(l) && isDigit(l[p+1+n]) {
			n++
		}
		for ; n >= 1; n-- {
			if e, ok := m.zone(p + 1 + n); ok {
				return e, true
			}
		}
	}
	return m.zone(p)
}

// zone: (?:\s*(?:Z|UTC|GMT|[+-][01]\d(?::?\d{2})?))?, greedy, then the
// end of the date. Only the end of the spaces can start a zone.
func (m *isoMatcher) zone(p int) (int, bool) {
	l := m.line
	q := p
	for q < len(l) && (l[q] == ' ' || l[q] == '\t') {
		q++
	}
	if q < len(l) && l[q] < 0x20 {
		// Other white space (Python's \s is wider than ASCII's): the
		// regex decides.
		m.bail = true
		return 0, false
	}
	for i := q; i < len(l) && i < q+7; i++ {
		if l[i] >= 0x80 { // a zone's digits may be Unicode digits to Python
			m.bail = true
			return 0, false
		}
	}
	if e, ok := m.zoneAt(q); ok {
		return e, true
	}
	if m.after(p) {
		return p, true
	}
	return 0, false
}

func (m *isoMatcher) zoneAt(q int) (int, bool) {
	l := m.line
	end := func(n int) (int, bool) {
		if m.after(q + n) {
			m.fv[fz] = l[q : q+n]
			return q + n, true
		}
		return 0, false
	}
	if q >= len(l) {
		return 0, false
	}
	switch c := l[q]; {
	case c == 'Z':
		return end(1)
	case len(l)-q >= 3 && (l[q:q+3] == "UTC" || l[q:q+3] == "GMT"):
		return end(3)
	case (c == '+' || c == '-') && q+2 < len(l) && (l[q+1] == '0' || l[q+1] == '1') && isDigit(l[q+2]):
		// [+-][01]\d then (?::?\d{2})?: ":dd", "dd", nothing.
		if q+5 < len(l) && l[q+3] == ':' && isDigit(l[q+4]) && isDigit(l[q+5]) {
			if e, ok := end(6); ok {
				return e, true
			}
		}
		if q+4 < len(l) && isDigit(l[q+3]) && isDigit(l[q+4]) {
			if e, ok := end(5); ok {
				return e, true
			}
		}
		return end(3)
	}
	return 0, false
}

// after checks the template's end: the end of the line or a non-word
// character (a non-ASCII one is the regex's to judge).
func (m *isoMatcher) after(p int) bool {
	if p < len(m.line) && m.line[p] >= 0x80 {
		m.bail = true
		return false
	}
	return p >= len(m.line) || !isASCIIWord(m.line[p])
}
