package filter

import (
	"strings"

	"github.com/f2bx/f2bx/filter/pyre"
)

// A prefilter tells, for a block of lines (dates already cut out), which
// failregexes may match which line. It must never miss a line the exact
// path would match: it may only report too much. With it, the exact path
// runs only the candidate failregexes of candidate lines.
type prefilter interface {
	// scan reports candidate failregexes per line and member filter:
	// cand[i*stride+m] gets bit r set when failregex r of member m may
	// match line i. block is the lines, each followed by "\n"; starts are
	// their offsets.
	scan(block []byte, starts []int, cand []uint64, stride int) error
	// clone returns a prefilter for another goroutine.
	clone() (prefilter, error)
}

// prefilterSource is one filter's regexes, for a prefilter shared by the
// filters of a group.
type prefilterSource struct {
	pref  *Regex
	fails []*Regex
}

// maxPrefilterRegexes is how many failregexes one candidate mask holds.
const maxPrefilterRegexes = 64

// prefilterPatterns builds one pattern per failregex that matches a
// superset of the lines fail2ban's two steps match (the prefregex, then
// the failregex on its <F-CONTENT>): the failregex alone, anywhere in the
// line. Its "^" anchors refer to the content's start and are dropped; its
// "$" anchors stay when the content runs to the end of the line (no
// prefregex, or one that ends with "<F-CONTENT>...</F-CONTENT>$"), since
// "$" then means the end of the line in a multi-line scan too. A pattern
// that does not end in "$" gets ".*$", so that each line is reported once,
// not at every end of the match. Lines the prefregex does not match may be
// candidates; the exact path drops them. A "$" inside such a pattern is
// dropped (Hyperscan takes none followed by more). ok[i] is false for a failregex
// that cannot be prefiltered (it must run on every line).
func prefilterPatterns(pref *Regex, fails []*Regex) (patterns []string, ok []bool) {
	contentAtEnd := true
	if pref != nil {
		outer := relaxAnchors(pref.Expanded, false, false)
		if _, end, found := groupSpan(outer, "content"); found {
			contentAtEnd = outer[end:] == "$"
		}
	}
	for _, r := range fails {
		if strings.Contains(r.Expanded, `\b`) || strings.Contains(r.Expanded, `\B`) || strings.Contains(r.Expanded, "(?P=") || strings.Contains(r.Expanded, "\\1") {
			// Word boundaries at the content's edges see other characters
			// inside the line; backreferences may refer to dropped groups.
			patterns, ok = append(patterns, ""), append(ok, false)
			continue
		}
		p := relaxAnchors(r.Expanded, true, !contentAtEnd)
		if !endsWithDollar(p) {
			p = "(?:" + relaxAnchors(r.Expanded, true, true) + ").*$"
		}
		patterns, ok = append(patterns, p), append(ok, true)
	}
	return patterns, ok
}

// endsWithDollar reports whether p ends in an unescaped "$" outside any
// alternation at its top level, so that every match ends at a line's end.
func endsWithDollar(p string) bool {
	if !strings.HasSuffix(p, "$") {
		return false
	}
	backslashes := 0
	for i := len(p) - 2; i >= 0 && p[i] == '\\'; i-- {
		backslashes++
	}
	if backslashes%2 == 1 {
		return false
	}
	return !topLevelAlternation(p)
}

// topLevelAlternation reports whether p has a "|" outside groups and
// classes.
func topLevelAlternation(p string) bool {
	found := false
	pyre.WalkStructure(p, 0, func(_ int, c byte, depth int) bool {
		found = c == '|' && depth == 0
		return !found
	})
	return found
}

// relaxAnchors drops "\A", "\Z" and "\z" outside character classes, and
// "^" (caret) and "$" (dollar) when asked: in a multi-line scan those two
// mean a line's boundaries.
func relaxAnchors(p string, caret, dollar bool) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			if !inClass && (n == 'A' || n == 'Z' || n == 'z') {
				i++
				continue
			}
			b.WriteByte(c)
			b.WriteByte(n)
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case caret && c == '^', dollar && c == '$':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// groupSpan finds the named group "(?P<name>...)" in a Python regex.
func groupSpan(p, name string) (start, end int, ok bool) {
	start = strings.Index(p, "(?P<"+name+">")
	if start < 0 {
		return 0, 0, false
	}
	pyre.WalkStructure(p, start, func(i int, c byte, depth int) bool {
		if c == ')' && depth == 0 {
			end, ok = i+1, true
		}
		return !ok
	})
	if !ok {
		return 0, 0, false
	}
	return start, end, true
}
