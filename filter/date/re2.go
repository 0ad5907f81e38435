package date

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/f2bx/f2bx/filter/pyre"
)

// A date template's word boundaries are lookarounds, which RE2 lacks:
// "(?=^|\b|\W)" in front and "(?=\b|\W|$)" behind. When the date body always
// starts with a word character, the front one holds exactly when the
// character before is not a word character (or there is none), which RE2
// can consume outside the date group; likewise behind when the body always
// ends with a word character, and when it always ends with another
// character the lookahead always holds. The "(?P<_sep>[-/.])...(?P=_sep)"
// backreference becomes an alternation over its few characters. Templates
// that do not fit stay on regexp2.

const notWordRE2 = `[^\p{L}\p{N}_]`

var sepRE = regexp.MustCompile(`\(\?P<_sep>\[([^\]]+)\]\)`)

// expandSep rewrites "(?P<_sep>[abc])MID(?P=_sep)" into
// "(?:a MID a|b MID b|c MID c)" (MID repeated, its groups duplicated).
func expandSep(body string) (string, bool) {
	loc := sepRE.FindStringSubmatchIndex(body)
	if loc == nil {
		return body, !strings.Contains(body, "(?P=")
	}
	rest := body[loc[1]:]
	end := strings.Index(rest, "(?P=_sep)")
	if end < 0 {
		return "", false
	}
	mid, after := rest[:end], rest[end+len("(?P=_sep)"):]
	var alts []string
	for _, c := range unescapeClass(body[loc[2]:loc[3]]) {
		lit := regexp.QuoteMeta(string(c))
		alts = append(alts, lit+mid+lit)
	}
	out := body[:loc[0]] + "(?:" + strings.Join(alts, "|") + ")" + after
	return out, !strings.Contains(out, "(?P=")
}

func unescapeClass(s string) []rune {
	var out []rune
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		out = append(out, rune(s[i]))
	}
	return out
}

// edge tells what characters a regex can start or end with.
type edge struct {
	word, other, empty bool
}

func (e edge) or(f edge) edge {
	return edge{e.word || f.word, e.other || f.other, e.empty || f.empty}
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// classEdge classifies the runes of a character class (pairs of ranges).
func classEdge(ranges []rune) edge {
	var e edge
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if hi-lo > 4096 {
			return edge{word: true, other: true}
		}
		for r := lo; r <= hi; r++ {
			if isWordRune(r) {
				e.word = true
			} else {
				e.other = true
			}
			if e.word && e.other {
				return e
			}
		}
	}
	return e
}

// edgeOf classifies the first (last, with fromEnd) character of re.
func edgeOf(re *syntax.Regexp, fromEnd bool) edge {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return edge{empty: true}
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return edge{empty: true}
		}
		r := re.Rune[0]
		if fromEnd {
			r = re.Rune[len(re.Rune)-1]
		}
		if re.Flags&syntax.FoldCase != 0 {
			r = unicode.SimpleFold(r)
		}
		if isWordRune(r) {
			return edge{word: true}
		}
		return edge{other: true}
	case syntax.OpCharClass:
		return classEdge(re.Rune)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return edge{word: true, other: true}
	case syntax.OpCapture:
		return edgeOf(re.Sub[0], fromEnd)
	case syntax.OpStar, syntax.OpQuest:
		e := edgeOf(re.Sub[0], fromEnd)
		e.empty = true
		return e
	case syntax.OpPlus:
		return edgeOf(re.Sub[0], fromEnd)
	case syntax.OpRepeat:
		e := edgeOf(re.Sub[0], fromEnd)
		if re.Min == 0 {
			e.empty = true
		}
		return e
	case syntax.OpAlternate:
		var e edge
		for _, s := range re.Sub {
			e = e.or(edgeOf(s, fromEnd))
		}
		return e
	case syntax.OpConcat:
		subs := re.Sub
		var e edge
		for i := range subs {
			s := subs[i]
			if fromEnd {
				s = subs[len(subs)-1-i]
			}
			f := edgeOf(s, fromEnd)
			e = edge{e.word || f.word, e.other || f.other, false}
			if !f.empty {
				return e
			}
		}
		e.empty = true
		return e
	}
	return edge{word: true, other: true, empty: true}
}

// re2Form builds the RE2 form of a template from its parts; ok is false
// when the template must stay on regexp2.
func re2Form(gf, body, begin string, end bool) (*regexp.Regexp, bool) {
	body, ok := expandSep(body)
	if !ok {
		return nil, false
	}
	tb, err := pyre.Translate(body, pyre.RE2, false)
	if err != nil {
		return nil, false
	}
	parsed, err := syntax.Parse(tb, syntax.Perl)
	if err != nil {
		return nil, false
	}
	var pre, post string
	switch begin {
	case "start":
		pre = `^(?:` + notWordRE2 + `{0,2})?`
	case "word":
		switch e := edgeOf(parsed, false); {
		case e.empty || (e.word && e.other):
			return nil, false
		case e.word:
			pre = `(?:^|` + notWordRE2 + `)`
		}
	}
	if end {
		switch e := edgeOf(parsed, true); {
		case e.empty || (e.word && e.other):
			return nil, false
		case e.word:
			post = `(?:$|` + notWordRE2 + `)`
		}
	}
	flags := ""
	if gf != "" {
		f, err := pyre.Translate(gf, pyre.RE2, false)
		if err != nil {
			return nil, false
		}
		flags = f
	}
	re, err := regexp.Compile(flags + pre + tb + post)
	if err != nil {
		return nil, false
	}
	return re, true
}

// windowOf is how much of a line a template's RE2 form needs to see: its
// longest match and one character more (what a failing alternative can
// look at), or 0 when unbounded or not anchored at the start.
func windowOf(re *regexp.Regexp) int {
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return 0
	}
	if parsed.Op != syntax.OpConcat || len(parsed.Sub) == 0 || parsed.Sub[0].Op != syntax.OpBeginText {
		return 0
	}
	n := maxLen(parsed.Simplify())
	if n < 0 {
		return 0
	}
	return n + utf8.UTFMax
}

// maxLen is the longest match of re in bytes (UTF-8), or -1 when
// unbounded.
func maxLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		if re.Flags&syntax.FoldCase != 0 {
			n *= 3 // a folded letter may be wider
		}
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture:
		return maxLen(re.Sub[0])
	case syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpRepeat:
		if re.Max < 0 {
			return -1
		}
		n := maxLen(re.Sub[0])
		if n < 0 {
			return -1
		}
		return n * re.Max
	case syntax.OpAlternate:
		m := 0
		for _, s := range re.Sub {
			n := maxLen(s)
			if n < 0 {
				return -1
			}
			m = max(m, n)
		}
		return m
	case syntax.OpConcat:
		sum := 0
		for _, s := range re.Sub {
			n := maxLen(s)
			if n < 0 {
				return -1
			}
			sum += n
		}
		return sum
	}
	return -1
}
