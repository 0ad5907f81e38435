package filter

import (
	"strings"
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
// superset of the lines fail2ban's two steps match: the prefregex with its
// <F-CONTENT> group replaced by the failregex, whose own anchors are
// dropped (they refer to the content, not the line). ok[i] is false for a
// failregex that cannot be prefiltered (it must run on every line).
func prefilterPatterns(pref *Regex, fails []*Regex) (patterns []string, ok []bool) {
	outer := ""
	if pref != nil {
		outer = relaxAnchors(pref.Expanded, false)
		start, end, found := groupSpan(outer, "content")
		if !found {
			// No content group: the failregexes see the whole line after a
			// prefregex match; test both on the line independently.
			outer = ""
		} else {
			outer = outer[:start] + "\x00" + outer[end:]
		}
	}
	for _, r := range fails {
		if strings.Contains(r.Expanded, `\b`) || strings.Contains(r.Expanded, `\B`) || strings.Contains(r.Expanded, "(?P=") || strings.Contains(r.Expanded, "\\1") {
			// Word boundaries at the content's edges see other characters
			// inside the line; backreferences may refer to dropped groups.
			patterns, ok = append(patterns, ""), append(ok, false)
			continue
		}
		// The failregex is searched in the content: it may match anywhere
		// in it, with anything around.
		body := "(?:" + relaxAnchors(r.Expanded, true) + ")"
		p := body
		if outer != "" {
			p = strings.Replace(outer, "\x00", "(?:.*"+body+".*)", 1)
		}
		patterns, ok = append(patterns, p), append(ok, true)
	}
	return patterns, ok
}

// relaxAnchors drops "^", "$", "\A", "\Z" and "\z" outside character
// classes (all of them with all, else only the text anchors, keeping "^"
// and "$", which mean line boundaries in a multi-line scan).
func relaxAnchors(p string, all bool) string {
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
		case all && (c == '^' || c == '$'):
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// groupSpan finds the named group "(?P<name>...)" in a Python regex.
func groupSpan(p, name string) (start, end int, ok bool) {
	open := "(?P<" + name + ">"
	start = strings.Index(p, open)
	if start < 0 {
		return 0, 0, false
	}
	depth, inClass := 0, false
	for i := start; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(p) && p[i+1] == '^' {
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return start, i + 1, true
			}
		}
	}
	return 0, 0, false
}
