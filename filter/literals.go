package filter

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/f2bx/f2bx/filter/pyre"
)

// Limits of the literal analysis: sets of at most maxLiteralSet strings,
// each at most maxLiteralLen bytes; a set is worth scanning for when its
// shortest string has minLiteralLen bytes.
const (
	maxLiteralSet = 16
	maxLiteralLen = 64
	minLiteralLen = 3
)

// requiredLiterals returns strings of which every match of the failregex
// contains at least one, case-sensitively, none with a newline: a line
// none of them occurs in cannot match. ok is false when the regex has no
// such set worth scanning for. Constructs RE2 lacks are read as their
// superset (pyre.RE2Superset), so any regex has an answer.
func requiredLiterals(r *Regex) (lits []string, ok bool) {
	src, err := pyre.Translate(r.Expanded, pyre.RE2Superset, false)
	if err != nil {
		return nil, false
	}
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, false
	}
	info := literalInfo(re.Simplify())
	best := info.match
	if info.exact != nil && score(info.exact) > score(best) {
		best = info.exact
	}
	if score(best) < minLiteralLen {
		return nil, false
	}
	return minimalSet(best), true
}

// minimalSet drops the strings of a required set that contain another of
// its strings: where they occur, so does the other.
func minimalSet(set []string) []string {
	var out []string
	for _, s := range set {
		redundant := false
		for _, t := range set {
			if t != s && strings.Contains(s, t) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	return out
}

// litInfo is what the analysis knows of a node: exact, when not nil, is
// every string the node can match; match, when not nil, is a set one of
// which every match of the node contains.
type litInfo struct {
	exact []string
	match []string
}

// score rates a required set: the length of its shortest string (0 for
// none, or for a set with the empty string).
func score(set []string) int {
	if set == nil {
		return 0
	}
	m := maxLiteralLen + 1
	for _, s := range set {
		m = min(m, len(s))
	}
	return m
}

// better returns the more selective of two required sets.
func better(a, b []string) []string {
	sa, sb := score(a), score(b)
	if sa != sb {
		if sa > sb {
			return a
		}
		return b
	}
	if b != nil && (a == nil || len(b) < len(a)) {
		return b
	}
	return a
}

var emptyExact = []string{""}

func literalInfo(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: emptyExact}
	case syntax.OpLiteral:
		if slices.Contains(re.Rune, '\n') || slices.Contains(re.Rune, utf8.RuneError) {
			return litInfo{}
		}
		if re.Flags&syntax.FoldCase == 0 {
			return litInfo{exact: []string{string(re.Rune)}}
		}
		// Case-insensitive: every spelling ("[aA]" is parsed so too).
		set := emptyExact
		for _, r := range re.Rune {
			var forms []string
			for f := r; ; {
				forms = append(forms, string(f))
				if f = unicode.SimpleFold(f); f == r {
					break
				}
			}
			var ok bool
			if set, ok = cross(set, forms); !ok {
				return litInfo{}
			}
		}
		return litInfo{exact: set}
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			// A newline never occurs in a line; U+FFFD also stands for a
			// byte that is not UTF-8, which the literal would not find.
			if hi-lo >= maxLiteralSet || len(set)+int(hi-lo)+1 > 4 || (lo <= '\n' && '\n' <= hi) || (lo <= utf8.RuneError && utf8.RuneError <= hi) {
				return litInfo{}
			}
			for c := lo; c <= hi; c++ {
				set = append(set, string(c))
			}
		}
		if len(set) == 0 {
			return litInfo{}
		}
		return litInfo{exact: set}
	case syntax.OpCapture:
		return literalInfo(re.Sub[0])
	case syntax.OpQuest:
		sub := literalInfo(re.Sub[0])
		if sub.exact != nil && len(sub.exact) < maxLiteralSet && !slices.Contains(sub.exact, "") {
			return litInfo{exact: append(slices.Clone(sub.exact), "")}
		}
		return litInfo{}
	case syntax.OpPlus, syntax.OpRepeat:
		if re.Op == syntax.OpRepeat && re.Min == 0 {
			return litInfo{}
		}
		// At least once: what the part requires, the whole requires.
		sub := literalInfo(re.Sub[0])
		return litInfo{match: better(sub.match, sub.exact)}
	case syntax.OpConcat:
		return concatInfo(re.Sub)
	case syntax.OpAlternate:
		var exact, match []string
		allExact := true
		for _, s := range re.Sub {
			sub := literalInfo(s)
			if sub.exact == nil {
				allExact = false
			} else {
				exact = append(exact, sub.exact...)
			}
			req := better(sub.match, sub.exact)
			if req == nil {
				return litInfo{}
			}
			match = append(match, req...)
		}
		exact, match = dedupe(exact), dedupe(match)
		if !allExact || len(exact) > maxLiteralSet {
			exact = nil
		}
		if len(match) > maxLiteralSet {
			match = nil
		}
		return litInfo{exact: exact, match: match}
	}
	return litInfo{} // any character, stars
}

// concatInfo joins the exact sets of consecutive parts while they stay
// small; the best required set is among the runs so joined and the parts'
// own.
func concatInfo(subs []*syntax.Regexp) litInfo {
	cur := emptyExact
	var best []string
	allExact := true
	for _, s := range subs {
		sub := literalInfo(s)
		if sub.exact != nil {
			if joined, ok := cross(cur, sub.exact); ok {
				cur = joined
				continue
			}
		}
		best = better(best, better(cur, sub.match))
		if sub.exact != nil {
			best = better(best, sub.exact)
			cur = sub.exact
		} else {
			allExact = false
			cur = emptyExact
		}
	}
	best = better(best, cur)
	if allExact {
		return litInfo{exact: cur, match: best}
	}
	return litInfo{match: best}
}

// cross is every a followed by every b, when the result stays small.
func cross(a, b []string) ([]string, bool) {
	if len(a)*len(b) > maxLiteralSet {
		return nil, false
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if len(x)+len(y) > maxLiteralLen {
				return nil, false
			}
			out = append(out, x+y)
		}
	}
	return dedupe(out), true
}

// dedupe sorts a set and drops repeats.
func dedupe(set []string) []string {
	if set == nil {
		return nil
	}
	set = slices.Clone(set)
	slices.Sort(set)
	return slices.Compact(set)
}

// literalPattern is a Hyperscan pattern for a literal byte string.
func literalPattern(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(`\x`)
		b.WriteByte("0123456789abcdef"[s[i]>>4])
		b.WriteByte("0123456789abcdef"[s[i]&15])
	}
	return b.String()
}
