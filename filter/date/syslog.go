package date

// syslogPattern is the default template of syslog lines, anchored at the
// line start: "Aug 14 11:22:33", optionally with weekday, fraction, year.
const syslogPattern = `{^LN-BEG}(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`

// syslogMatcher matches syslogPattern without a regex engine. It follows
// the template's regex exactly, taking its alternatives in the order a
// backtracking engine would; on any non-ASCII character it gives up and
// the caller uses the regex (the regex's \d and \w are Unicode-aware).
type syslogMatcher struct {
	years *yearPrefixes // first three digits %ExY accepts
	line  string
	fv    *fields
	bail  bool
	// The last date found, for lines that start alike (a log's lines of
	// one second): its line, span and fields.
	memo struct {
		line       string
		start, end int
		fv         fields
	}
}

// memoReach is how far past a date's end the matcher may look (a
// fraction's digits, then a year and the character after it).
const memoReach = 13

// asciiPrefix reports whether the first 64 bytes of line (at most) are
// ASCII: beyond them the matcher does not look for other characters.
func asciiPrefix(line string) bool {
	// Eight bytes at a time (the compiler makes each one load), no branch
	// per byte.
	s := line[:min(len(line), 64)]
	var or uint64
	for ; len(s) >= 8; s = s[8:] {
		or |= uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	}
	for i := range len(s) {
		or |= uint64(s[i])
	}
	return or&0x8080808080808080 == 0
}

var (
	dayNames   = [...]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	monthNames = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)

func lower3(s string) (string, bool) {
	if len(s) < 3 {
		return "", false
	}
	var b [3]byte
	for i := 0; i < 3; i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return string(b[:]), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIIWord(c byte) bool {
	return c == '_' || isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func (m *syslogMatcher) fresh() fastMatcher { return &syslogMatcher{years: m.years} }

// match returns the date span, or ok false; bail reports that the regex
// must decide.
func (m *syslogMatcher) match(line string, fv *fields) (start, end int, ok, bail bool) {
	if !asciiPrefix(line) {
		return 0, 0, false, true
	}
	// A line that starts as the last one did, up to as far past the date
	// as the matcher looks, has the same date.
	if mm := &m.memo; mm.end > 0 {
		if n := mm.end + memoReach; len(line) >= n && len(mm.line) >= n && line[:n] == mm.line[:n] {
			*fv = mm.fv
			return mm.start, mm.end, true, false
		}
	}
	m.line, m.fv, m.bail = line, fv, false
	k, ok := lineStart(line)
	if !ok {
		return 0, 0, false, false
	}
	*fv = fields{}
	if e, ok := m.weekday(k); ok {
		if !m.bail {
			m.memo.line, m.memo.start, m.memo.end, m.memo.fv = line, k, e, *fv
		}
		return k, e, true, m.bail
	}
	return 0, 0, false, m.bail
}

// Each step tries its alternatives in the regex's order and returns the
// end of the date when the rest matched.

func (m *syslogMatcher) weekday(p int) (int, bool) {
	if d, ok := lower3(m.line[p:]); ok && p+3 < len(m.line) && m.line[p+3] == ' ' {
		for _, n := range dayNames {
			if d == n {
				if e, ok := m.month(p + 4); ok {
					m.fv[fa] = m.line[p : p+3]
					return e, true
				}
			}
		}
	}
	return m.month(p)
}

func (m *syslogMatcher) month(p int) (int, bool) {
	mo, ok := lower3(m.line[p:])
	if !ok || p+3 >= len(m.line) || m.line[p+3] != ' ' {
		return 0, false
	}
	for _, n := range monthNames {
		if mo == n {
			if e, ok := m.day(p + 4); ok {
				m.fv[fb] = m.line[p : p+3]
				return e, true
			}
			return 0, false
		}
	}
	return 0, false
}

// day: %d, then " ".
func (m *syslogMatcher) day(p int) (int, bool) {
	a := dayAlts(m.line, p)
	for _, n := range a.list() {
		if followedBy(m.line, p+n, ' ') {
			if e, ok := m.hour(p + n + 1); ok {
				m.fv[fd] = m.line[p : p+n]
				return e, true
			}
		}
	}
	return 0, false
}

// hour: " ?[0-2]?\d" then ":".
func (m *syslogMatcher) hour(p int) (int, bool) {
	l := m.line
	for _, sp := range []int{1, 0} {
		q := p + sp
		if sp == 1 && (p >= len(l) || l[p] != ' ') {
			continue
		}
		for _, two := range []bool{true, false} {
			n := 1
			if two {
				if q+1 >= len(l) || l[q] < '0' || l[q] > '2' || !isDigit(l[q+1]) {
					continue
				}
				n = 2
			} else if q >= len(l) || !isDigit(l[q]) {
				continue
			}
			if q+n < len(l) && l[q+n] == ':' {
				if e, ok := minuteSecond(m.line, m.fv, q+n+1, m.fraction); ok {
					m.fv[fH] = l[q : q+n]
					return e, true
				}
			}
		}
	}
	return 0, false
}

// fraction: (?:\.[0-9]{1,6})?, greedy.
func (m *syslogMatcher) fraction(p int) (int, bool) {
	l := m.line
	if p < len(l) && l[p] == '.' {
		n := 0
		for n < 6 && p+1+n < len(l) && isDigit(l[p+1+n]) {
			n++
		}
		for ; n >= 1; n-- {
			if e, ok := m.year(p + 1 + n); ok {
				return e, true // fail2ban ignores the fraction
			}
		}
	}
	return m.year(p)
}

// year: (?: %ExY)?, greedy, then the end of the date.
func (m *syslogMatcher) year(p int) (int, bool) {
	l := m.line
	if p+5 <= len(l) && l[p] == ' ' && m.years.has(l[p+1:p+4]) && isDigit(l[p+4]) {
		if m.after(p + 5) {
			m.fv[fY] = l[p+1 : p+5]
			return p + 5, true
		}
	}
	if m.after(p) {
		return p, true
	}
	return 0, false
}

// after checks the template's end: the end of the line or a non-word
// character.
func (m *syslogMatcher) after(p int) bool {
	return p >= len(m.line) || !isASCIIWord(m.line[p])
}
