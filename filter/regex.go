package filter

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/f2bx/f2bx/filter/pcre"
	"github.com/f2bx/f2bx/filter/pyre"
)

// Engines a regex can run on.
const (
	EngineRE2     = "re2"     // Go's regexp: linear time
	EngineRegexp2 = "regexp2" // backtracking, with a match timeout
)

// MatchTimeout bounds one regexp2 search, so that a pathological line
// cannot stall matching.
const MatchTimeout = 100 * time.Millisecond

// Regex is one compiled fail2ban regex (tags expanded).
type Regex struct {
	// Source is the regex as written; Expanded with tags replaced.
	Source, Expanded string
	// Engine is EngineRE2 or EngineRegexp2; Why says why regexp2 was needed.
	Engine, Why string
	re2         *regexp.Regexp
	jit         *pcre.Regexp // re2's regex on PCRE2's JIT (same matches), when built in
	r2          *regexp2.Regexp
	py          *pcre.Regexp // the Python form on PCRE2's JIT, before r2
	pyGroups    []int        // its group number per name index
	multiline   bool
	names       []string // per group number, "" for unnamed
	named       []string // the named groups
	namedIdx    []int    // their group numbers
	alts        []linkedGroup
	tuples      []linkedGroup // sorted by name
	flagIdx     [4]int        // group numbers of sessionFlags, -1: none
	nameIndex   map[string]int
	r2Groups    []int // regexp2 group number per name index
	// layouts are how a match's groups become its fields, without and
	// with its filter's prefregex (see groupLayout); set by New.
	layouts [2]*groupLayout
}

// CompileRegex expands fail2ban's tags in src and compiles it, on RE2 when
// the translation allows, else on regexp2.
func CompileRegex(src, useDNS string, multiline bool) (*Regex, error) {
	r := &Regex{Source: src, Expanded: ExpandTags(src, useDNS)}
	if err := checkGroupNames(r.Expanded); err != nil {
		return nil, fmt.Errorf("compile %q: %w", src, err)
	}
	if err := r.compile(multiline); err != nil {
		return nil, fmt.Errorf("compile %q: %w", src, err)
	}
	return r, nil
}

// pyGroupName finds Python's named groups.
var pyGroupName = regexp.MustCompile(`\(\?P<(\w+)>`)

// checkGroupNames refuses a group name used twice, as Python's re does
// ("redefinition of group name"): a tag such as <HOST> may appear once.
func checkGroupNames(expanded string) error {
	seen := map[string]bool{}
	for _, m := range pyGroupName.FindAllStringSubmatchIndex(expanded, -1) {
		if m[0] > 0 && expanded[m[0]-1] == '\\' {
			continue // an escaped parenthesis
		}
		name := expanded[m[2]:m[3]]
		if seen[name] {
			return fmt.Errorf("redefinition of group name %q (a tag may appear once in a regex)", name)
		}
		seen[name] = true
	}
	return nil
}

func (r *Regex) compile(multiline bool) error {
	r.multiline = multiline
	t, err := pyre.Translate(r.Expanded, pyre.RE2, multiline)
	if err == nil {
		re, cerr := regexp.Compile(t)
		if cerr == nil {
			r.Engine, r.re2 = EngineRE2, re
			r.setNames(re.SubexpNames())
			if pcre.Available {
				r.jit, _ = pcre.Compile(t) // else Go's regexp alone
			}
			return nil
		}
		r.Why = cerr.Error()
	} else if errors.Is(err, pyre.ErrNeedsBacktracking) {
		r.Why = err.Error()
	} else {
		return err
	}
	if err := r.compileRegexp2(); err != nil {
		return err
	}
	r.Engine = EngineRegexp2
	return nil
}

// compileRegexp2 compiles the regexp2 form, the only one for regexes RE2
// cannot run, and the one for a single-line regex on a multi-line buffer.
func (r *Regex) compileRegexp2() error {
	t, err := pyre.Translate(r.Expanded, pyre.Regexp2, r.multiline)
	if err != nil {
		return err
	}
	re, err := regexp2.Compile(t, regexp2.None)
	if err != nil {
		return err
	}
	re.MatchTimeout = MatchTimeout
	r.r2 = re
	if r.re2 == nil {
		names := []string{""}
		for _, n := range re.GetGroupNames() {
			if !isNumber(n) {
				names = append(names, n)
			}
		}
		r.setNames(names)
	}
	r.r2Groups = make([]int, len(r.names))
	for i, n := range r.names {
		r.r2Groups[i] = -1
		if n != "" {
			r.r2Groups[i] = re.GroupNumberFromName(n)
		}
	}
	r.compilePython()
	return nil
}

// compilePython compiles the Python form for PCRE2's JIT, which answers
// for regexp2 when it can; without PCRE2, or for a regex it does not
// take, regexp2 answers alone.
func (r *Regex) compilePython() {
	if !pcre.Available {
		return
	}
	t, err := pyre.Translate(r.Expanded, pyre.PCRE2, r.multiline)
	if err != nil {
		return
	}
	py, err := pcre.CompileNative(t, pyre.ASCII(r.Expanded))
	if err != nil {
		return
	}
	groups := make([]int, len(r.names))
	for i, n := range r.names {
		groups[i] = -1
		if n != "" {
			if groups[i] = py.GroupNumber(n); groups[i] < 0 {
				return
			}
		}
	}
	r.py, r.pyGroups = py, groups
}

// linkedGroup is an alt_NAME or tuple_NAME group, which adds to NAME's
// field: an alt_ value stands in for NAME's when NAME has no text, tuple_
// values join it into a tuple. mainIdx is NAME's group (-1: none).
type linkedGroup struct {
	idx     int
	main    string
	mainIdx int
}

// sessionFlags are the groups that tell, before any field is built, that
// a hit only ends a session (endsSessionOnly), indexed by the flag*
// constants.
var sessionFlags = [...]string{flagNoFail: "nofail", flagMLFGained: "mlfgained", flagMLFForget: "mlfforget", flagMLFID: "mlfid"}

const (
	flagNoFail = iota
	flagMLFGained
	flagMLFForget
	flagMLFID
)

// linked reports alt_ or tuple_ groups, whose fields depend on others'
// (fillGroups).
func (r *Regex) linked() bool { return len(r.alts)+len(r.tuples) > 0 }

func (r *Regex) setNames(names []string) {
	r.names = names
	r.named, r.namedIdx, r.alts, r.tuples = nil, nil, nil, nil
	r.nameIndex = map[string]int{}
	for i, n := range names {
		if n != "" {
			if _, dup := r.nameIndex[n]; !dup {
				r.named = append(r.named, n)
			}
			r.nameIndex[n] = i
		}
	}
	link := func(n, prefix string) (linkedGroup, bool) {
		main, ok := strings.CutPrefix(n, prefix)
		if !ok {
			return linkedGroup{}, false
		}
		main = trimIndex(main)
		mi, has := r.nameIndex[main]
		if !has {
			mi = -1
		}
		return linkedGroup{r.nameIndex[n], main, mi}, true
	}
	for k, n := range sessionFlags {
		r.flagIdx[k] = -1
		if i, ok := r.nameIndex[n]; ok {
			r.flagIdx[k] = i
		}
	}
	for _, n := range r.named {
		r.namedIdx = append(r.namedIdx, r.nameIndex[n])
		if g, ok := link(n, "alt_"); ok {
			r.alts = append(r.alts, g)
		}
	}
	sorted := slices.Clone(r.named)
	sort.Strings(sorted)
	for _, n := range sorted {
		if g, ok := link(n, "tuple_"); ok {
			r.tuples = append(r.tuples, g)
		}
	}
}

func isNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// JIT reports whether the regex runs on PCRE2's JIT compiler, in a build
// with PCRE2: an re2 regex (Go's regexp answers what PCRE2 cannot), or a
// regexp2 one in its Python form (regexp2 answers what PCRE2 cannot).
func (r *Regex) JIT() bool {
	if r.Engine == EngineRegexp2 {
		return r.py != nil
	}
	return r.jit != nil
}

// HasGroup reports whether the regex has the named group.
func (r *Regex) HasGroup(name string) bool {
	_, ok := r.nameIndex[name]
	return ok
}

// Names returns the named groups (the slice is shared: do not change it).
func (r *Regex) Names() []string { return r.named }

// Match is a successful search: byte spans of the whole match and of each
// group in the searched buffer (-1 when a group did not take part).
type Match struct {
	Buf   string
	spans []int
	re    *Regex
}

// Start and End are the byte offsets of the whole match.
func (m *Match) Start() int { return m.spans[0] }

// End is the byte offset after the match.
func (m *Match) End() int { return m.spans[1] }

// Group returns the named group's text; ok is false when it did not take
// part (Python's None).
func (m *Match) Group(name string) (string, bool) {
	i, ok := m.re.nameIndex[name]
	if !ok {
		return "", false
	}
	return m.text(i)
}

// text returns group i's text; ok is false when it did not take part.
func (m *Match) text(i int) (string, bool) {
	if m.spans[2*i] < 0 {
		return "", false
	}
	return m.Buf[m.spans[2*i]:m.spans[2*i+1]], true
}

// span returns the named group's byte offsets in Buf.
func (m *Match) span(name string) (start, end int, ok bool) {
	i, ok := m.re.nameIndex[name]
	if !ok || m.spans[2*i] < 0 {
		return 0, 0, false
	}
	return m.spans[2*i], m.spans[2*i+1], true
}

// Search finds the leftmost match in buf, which ends with "\n" as
// fail2ban's buffers do; ok is false when there is none. An error is a
// regexp2 timeout.
func (r *Regex) Search(buf string) (m Match, ok bool, err error) { return r.SearchInto(buf, nil) }

// SearchInto is Search with the match's offsets in spans' memory when
// PCRE2 answers and spans has room: the match is valid until spans is
// used again.
func (r *Regex) SearchInto(buf string, spans []int) (m Match, ok bool, err error) {
	if r.re2 != nil && (r.multiline || strings.IndexByte(buf, '\n') >= len(buf)-1) {
		if r.jit != nil {
			if loc, ok := r.jit.FindInto(buf, spans); ok {
				if loc == nil {
					return Match{}, false, nil
				}
				return Match{Buf: buf, spans: loc, re: r}, true, nil
			}
		}
		loc := r.re2.FindStringSubmatchIndex(buf)
		if loc == nil {
			return Match{}, false, nil
		}
		return Match{Buf: buf, spans: loc, re: r}, true, nil
	}
	if r.r2 == nil {
		if err := r.compileRegexp2(); err != nil {
			return Match{}, false, err
		}
	}
	if m, ok, answered := r.searchPython(buf, spans); answered {
		return m, ok, nil
	}
	return r.searchRegexp2(buf)
}

// searchPython searches with the Python form on PCRE2's JIT; answered is
// false when there is none or PCRE2 cannot answer (see pcre.Regexp.Find).
func (r *Regex) searchPython(buf string, spans []int) (m Match, ok, answered bool) {
	if r.py == nil {
		return Match{}, false, false
	}
	loc, answered := r.py.FindGroupsInto(buf, r.pyGroups, spans)
	if !answered || loc == nil {
		return Match{}, false, answered
	}
	return Match{Buf: buf, spans: loc, re: r}, true, true
}

func (r *Regex) searchRegexp2(buf string) (Match, bool, error) {
	m, err := r.r2.FindStringMatch(buf)
	if err != nil || m == nil {
		return Match{}, false, err
	}
	offs := pyre.RuneOffsets(buf)
	spans := make([]int, 2*len(r.names))
	for i := range r.names {
		g := &m.Group
		if i > 0 {
			if r.r2Groups[i] < 0 {
				spans[2*i], spans[2*i+1] = -1, -1
				continue
			}
			g = m.GroupByNumber(r.r2Groups[i])
		}
		if g == nil || len(g.Captures) == 0 {
			spans[2*i], spans[2*i+1] = -1, -1
			continue
		}
		spans[2*i], spans[2*i+1] = offs(g.Index), offs(g.Index+g.Length)
	}
	return Match{Buf: buf, spans: spans, re: r}, true, nil
}
