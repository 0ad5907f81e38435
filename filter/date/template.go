package date

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/f2bx/f2bx/filter/pyre"
)

// Template flags.
const (
	lineBegin = 8
	lineEnd   = 4
	wordBegin = 2
	wordEnd   = 1
)

// templateKind is how a template turns its match into a time.
type templateKind int

const (
	kindPattern   templateKind = iota // strptime fields
	kindEpoch                         // seconds since the epoch
	kindLongEpoch                     // also milli- and microseconds
	kindTAI64N
)

// Template finds one date format in a line.
type Template struct {
	// Name is the pattern with codes named (as fail2ban-regex shows it).
	Name string
	// Pattern is the datepattern it came from.
	Pattern string
	// Regex is the expression searched (Python dialect).
	Regex  string
	flags  int
	kind   templateKind
	grpIdx int
	re     *regexp2.Regexp
	re2    *regexp.Regexp // the exact RE2 form, when there is one
	window int            // bytes of a line the RE2 form needs (0: all)
	fast   fastMatcher    // a matcher without regex engine, when there is one
	// re2Fields and r2Fields map group numbers to field codes (-1: none).
	re2Fields []int8
	r2Fields  map[int]int
}

// fastMatcher matches one template's regex by hand: the date span, or ok
// false; bail when the regex must decide. fresh returns a matcher like it
// without its state (what it remembers of the lines it saw).
type fastMatcher interface {
	match(line string, fv *fields) (start, end int, ok, bail bool)
	fresh() fastMatcher
}

// fieldOf maps a group name to its field code, or -1.
func fieldOf(name string) int8 {
	if c, ok := fieldCodes[name]; ok {
		return int8(c)
	}
	return -1
}

// Anchored reports whether the template only matches at the start (or end)
// of a line.
func (t *Template) Anchored() bool { return t.flags&(lineBegin|lineEnd) != 0 }

var (
	reGrouped       = regexp2.MustCompile(`(?<!(?:\(\?))(?<!\\)\((?!\?)`, regexp2.None)
	reGroup         = regexp2.MustCompile(`^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$`, regexp2.Singleline)
	reGlobalFlags   = regexp.MustCompile(`\(\?[a-z]+\)`)
	reNoWordBegin   = regexp2.MustCompile(`^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)`, regexp2.None)
	reNoWordEnd     = regexp2.MustCompile(`(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$`, regexp2.None)
	reDelWordBounds = regexp2.MustCompile(`^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$`, regexp2.None)
	reLineBoundBeg  = regexp2.MustCompile(`^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))`, regexp2.None)
	reLineBoundEnd  = regexp2.MustCompile(`(?<![\\\|])(?:\$\)?)$`, regexp2.None)
	reAlphaField    = regexp2.MustCompile(`(?<!\%)\%[aAbBpc]`, regexp2.None)
	reEpochField    = regexp2.MustCompile(`(?<!\\)\{L?EPOCH\}`, regexp2.IgnoreCase)
)

func match2(re *regexp2.Regexp, s string) bool {
	ok, _ := re.MatchString(s)
	return ok
}

// setRegex applies fail2ban's boundaries to a date expression: a word
// boundary in front (or, with begin "start", the start of the line after
// at most two non-word characters) and behind, unless the expression
// anchors itself; "**" at either end disables that boundary.
func (t *Template) setRegex(regex string, begin string, end bool) error {
	regex = strings.TrimSpace(regex)
	gf := ""
	if loc := reGlobalFlags.FindStringIndex(regex); loc != nil {
		gf = regex[loc[0]:loc[1]]
		regex = regex[:loc[0]] + regex[loc[1]:]
	}
	boundBegin := begin != "" && !match2(reNoWordBegin, regex)
	boundEnd := end && !match2(reNoWordEnd, regex)
	if !match2(reGrouped, regex) {
		regex, _ = reGroup.Replace(regex, "$1($2)$3", -1, 1)
	}
	body := regex
	t.flags = 0
	if boundBegin {
		if begin == "start" {
			t.flags |= lineBegin
			regex = `^(?:\W{0,2})?` + regex
			if !strings.HasPrefix(t.Name, "{^LN-BEG}") {
				t.Name = "{^LN-BEG}" + t.Name
			}
		} else {
			t.flags |= wordBegin
			regex = `(?=^|\b|\W)` + regex
		}
	}
	if boundEnd {
		t.flags |= wordEnd
		regex += `(?=\b|\W|$)`
	}
	if t.flags&lineBegin == 0 && match2(reLineBoundBeg, regex) {
		t.flags |= lineBegin
	}
	if t.flags&lineEnd == 0 && match2(reLineBoundEnd, regex) {
		t.flags |= lineEnd
	}
	regex, _ = reDelWordBounds.ReplaceFunc(regex, func(m regexp2.Match) string {
		return strings.ReplaceAll(m.String(), "**", "")
	}, -1, -1)
	t.Regex = gf + regex
	mode := ""
	if boundBegin {
		mode = begin
	}
	cleanBody, _ := reDelWordBounds.ReplaceFunc(body, func(m regexp2.Match) string {
		return strings.ReplaceAll(m.String(), "**", "")
	}, -1, -1)
	if t.kind == kindPattern || t.kind == kindTAI64N {
		t.re2, _ = re2Form(gf, cleanBody, mode, boundEnd)
	}
	if t.re2 != nil {
		t.window = windowOf(t.re2)
		for _, n := range t.re2.SubexpNames() {
			t.re2Fields = append(t.re2Fields, fieldOf(n))
		}
	}
	tr, err := pyre.Translate(t.Regex, pyre.Regexp2, false)
	if err != nil {
		return err
	}
	re, err := regexp2.Compile(tr, regexp2.None)
	if err != nil {
		return err
	}
	re.MatchTimeout = 100 * time.Millisecond
	t.re = re
	t.r2Fields = map[int]int{}
	for _, n := range re.GetGroupNames() {
		if c := fieldOf(n); c >= 0 {
			t.r2Fields[re.GroupNumberFromName(n)] = int(c)
		}
	}
	return nil
}

// newPatternTemplate builds a template from a datepattern with strptime
// codes ("%Y-%m-%d %H:%M:%S", "{^LN-BEG}%b %d", "{UNB}...").
func newPatternTemplate(pattern string, now time.Time, first int) (*Template, error) {
	t := &Template{Pattern: pattern, kind: kindPattern, grpIdx: 1}
	begin, end := "word", true
	p := pattern
	if strings.HasPrefix(p, "{UNB}") {
		p, begin, end = p[len("{UNB}"):], "", false
	}
	if begin != "" && strings.HasPrefix(p, "{^LN-BEG}") {
		p, begin = p[len("{^LN-BEG}"):], "start"
	}
	fields := fieldRE(now, first)
	switch pattern {
	case syslogPattern:
		t.fast = &syslogMatcher{years: centurySet(now, first)}
	case isoPattern:
		t.fast = &isoMatcher{years: centurySet(now, first)}
	}
	var name, regex strings.Builder
	last := 0
	for _, loc := range codeRE.FindAllStringSubmatchIndex(p, -1) {
		lit := p[last:loc[0]]
		if strings.Contains(lit, "%") {
			return nil, fmt.Errorf("datepattern %q: unknown code or unescaped %% at %q", pattern, lit[strings.IndexByte(lit, '%'):])
		}
		code := p[loc[2]:loc[3]]
		name.WriteString(lit + fieldName(code))
		regex.WriteString(lit + fields[code])
		last = loc[1]
	}
	if rest := p[last:]; strings.Contains(rest, "%") {
		return nil, fmt.Errorf("datepattern %q: unknown code or unescaped %% at %q", pattern, rest[strings.IndexByte(rest, '%'):])
	} else {
		name.WriteString(rest)
		regex.WriteString(rest)
	}
	t.Name = name.String()
	r := regex.String()
	if match2(reAlphaField, p) {
		r = `(?iu)` + r
	}
	if err := t.setRegex(r, begin, end); err != nil {
		return nil, fmt.Errorf("datepattern %q: %w", pattern, err)
	}
	return t, nil
}

const (
	epochRE     = `\d{10,11}\b(?:\.\d{3,6})?`
	longEpochRE = `\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?`
)

// newEpochTemplate builds the EPOCH/LEPOCH templates: at the start of the
// line, in "[...]" at the start, or in SELinux's "audit(...:n)"; or, with
// pattern, where {EPOCH} stands in it.
func newEpochTemplate(lineBeginOnly, long bool, pattern string) (*Template, error) {
	t := &Template{Name: "Epoch", kind: kindEpoch, grpIdx: 1, Pattern: pattern}
	re := epochRE
	if long {
		t.Name, t.kind, re = "LongEpoch", kindLongEpoch, longEpochRE
	}
	switch {
	case pattern != "":
		t.Name, t.grpIdx = pattern, 2
		sub, _ := reEpochField.Replace(pattern, "("+strings.ReplaceAll(re, "$", "$$")+")", -1, -1)
		return t, t.setRegex("("+sub+")", "word", true)
	case !lineBeginOnly:
		return t, t.setRegex(`((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))`+re+`)(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))`, "", true)
	default:
		return t, t.setRegex(`((?P<square>(?<=^\[))?`+re+`)(?(square)(?=\]))`, "start", true)
	}
}

// newTAI64NTemplate builds the TAI64N template (daemontools' "@4000...").
func newTAI64NTemplate(lineBeginOnly bool) (*Template, error) {
	t := &Template{Name: "TAI64N", kind: kindTAI64N, grpIdx: 1}
	begin := "word"
	if lineBeginOnly {
		begin = "start"
	}
	return t, t.setRegex(`@[0-9a-f]{24}`, begin, true)
}

// templateFor builds the template for one datepattern line (not the
// {DEFAULT}, {^LN-BEG} and {DATE} forms, which the detector expands).
func templateFor(pattern string, now time.Time, first int) (*Template, error) {
	key := pattern
	if !strings.Contains(pattern, "%") {
		key = strings.ToUpper(pattern)
	}
	if strings.Contains(key, "EPOCH") {
		long := strings.Contains(key, "LEPOCH")
		switch {
		case match2(reEpochField, pattern):
			return newEpochTemplate(false, long, pattern)
		case key == "EPOCH" || key == "LEPOCH":
			return newEpochTemplate(false, long, "")
		case key == "{^LN-BEG}EPOCH" || key == "^EPOCH" || key == "{^LN-BEG}LEPOCH" || key == "^LEPOCH":
			return newEpochTemplate(true, long, "")
		}
	}
	switch key {
	case "TAI64N":
		return newTAI64NTemplate(false)
	case "{^LN-BEG}TAI64N", "^TAI64N":
		return newTAI64NTemplate(true)
	case "{NONE}":
		return newPatternTemplate("{UNB}^", now, first)
	}
	return newPatternTemplate(pattern, now, first)
}

// compiledTemplates holds the templates built so far, by pattern and
// year: a detector takes copies instead of compiling the regexes again
// (fail2ban's default list alone is 34 regexes on two engines, some 13 ms
// here, and every filter has its detector).
var compiledTemplates struct {
	sync.Mutex
	m map[templateKey]*Template
}

// templateKey is what a template is built from: its pattern, and the
// current year and first year that set which centuries %ExY accepts.
type templateKey struct {
	pattern     string
	year, first int
}

// maxCompiledTemplates bounds compiledTemplates (datepatterns come from
// configuration files and the command line).
const maxCompiledTemplates = 1024

// sharedTemplate is templateFor, compiled once per pattern and year. The
// copy it returns shares the compiled regexes (safe for concurrent use)
// and has a hand-written matcher of its own.
func sharedTemplate(pattern string, now time.Time, first int) (*Template, error) {
	k := templateKey{pattern, now.Year(), first}
	c := &compiledTemplates
	c.Lock()
	t, ok := c.m[k]
	c.Unlock()
	if !ok {
		var err error
		if t, err = templateFor(pattern, now, first); err != nil {
			return nil, err
		}
		c.Lock()
		if c.m == nil || len(c.m) >= maxCompiledTemplates {
			c.m = map[templateKey]*Template{}
		}
		c.m[k] = t
		c.Unlock()
	}
	cp := *t
	if t.fast != nil {
		cp.fast = t.fast.fresh()
	}
	return &cp, nil
}

// match searches the template in line; it returns the span of the date
// text (group 1) and fills fv with the fields and the value (grpIdx).
func (t *Template) match(line string, fv *fields) (start, end int, ok bool) {
	if t.fast != nil {
		if s, e, ok, bail := t.fast.match(line, fv); !bail {
			if ok {
				fv[fValue] = line[s:e]
			}
			return s, e, ok
		}
	}
	*fv = fields{}
	if t.re2 != nil {
		var loc []int
		if t.window > 0 && len(line) > t.window {
			// A match anchored at the start that ends before the window's
			// end is the match in the whole line: no alternative of the
			// template can look further.
			if loc = t.re2.FindStringSubmatchIndex(line[:t.window]); loc != nil && loc[1] >= t.window {
				loc = nil
			}
			if loc == nil {
				loc = t.re2.FindStringSubmatchIndex(line)
			}
		} else {
			loc = t.re2.FindStringSubmatchIndex(line)
		}
		if loc == nil || loc[2] < 0 {
			return 0, 0, false
		}
		for i, c := range t.re2Fields {
			if c >= 0 && loc[2*i] >= 0 {
				fv[c] = line[loc[2*i]:loc[2*i+1]]
			}
		}
		fv[fValue] = line[loc[2]:loc[3]]
		return loc[2], loc[3], true
	}
	m, err := t.re.FindStringMatch(line)
	if err != nil || m == nil {
		return 0, 0, false
	}
	// The date text fail2ban cuts out is group 1; the value is grpIdx.
	g := m.GroupByNumber(1)
	if g == nil || len(g.Captures) == 0 {
		return 0, 0, false
	}
	for num, c := range t.r2Fields {
		if gg := m.GroupByNumber(num); gg != nil && len(gg.Captures) > 0 {
			fv[c] = gg.String()
		}
	}
	if v := m.GroupByNumber(t.grpIdx); v != nil && len(v.Captures) > 0 {
		fv[fValue] = v.String()
	}
	offs := pyre.RuneOffsets(line)
	return offs(g.Index), offs(g.Index + g.Length), true
}
