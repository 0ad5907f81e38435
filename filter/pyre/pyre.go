// Package pyre translates regular expressions written in Python's dialect
// (fail2ban's filters) into Go's RE2 syntax, when RE2 can express them with
// the same meaning, and otherwise into regexp2's (.NET) syntax or PCRE2's.
//
// Both forms are searched on fail2ban's buffer, "line\n". Python's "$"
// without re.MULTILINE matches at the end and before a final newline; the
// RE2 form writes it "(?m:$)", which is the same on a buffer of one line
// (and only there: on several lines use the regexp2 form).
package pyre

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrNeedsBacktracking reports a construct RE2 lacks: lookaround,
// backreferences, conditionals, atomic groups or verbose mode.
var ErrNeedsBacktracking = errors.New("needs a backtracking engine")

// Unicode forms of Python's str-pattern classes (Python's \d, \w and \s
// are Unicode-aware; Go's are ASCII).
const (
	digitClass = `\p{Nd}`
	wordInner  = `\p{L}\p{N}_`
	spaceInner = `\t\n\v\f\r \x{1c}-\x{1f}\x{85}\p{Z}`
)

// Target is the dialect to translate to.
type Target int

// Targets.
const (
	RE2 Target = iota
	Regexp2
	// PCRE2 is PCRE2's syntax for a pattern compiled with UTF, with UCP
	// unless Python's ASCII flag is set (see ASCII), and LF newlines:
	// Python's semantics, backtracking included.
	PCRE2
	// RE2Superset is RE2's syntax for a regex that matches at least what
	// the Python regex matches: lookarounds are dropped, a conditional
	// becomes an alternation of its branches, a backreference any text,
	// an atomic group a plain one. It is for prefilters, never for
	// matching.
	RE2Superset
)

// ErrVerbose reports Python's verbose mode, which the PCRE2 target does
// not translate (its whitespace rules differ in details).
var ErrVerbose = errors.New("verbose mode")

// ASCII reports whether p sets Python's ASCII flag "(?a)", under which
// \w, \d, \s and \b are ASCII-only.
func ASCII(p string) bool {
	tr := &translator{src: p, t: Regexp2, unicode: true}
	return tr.run() == nil && !tr.unicode
}

// Translate converts p. With multiline (Python's re.MULTILINE), "$" and
// "^" match at every line. For RE2 a construct it lacks gives an error
// wrapping ErrNeedsBacktracking, naming the construct.
func Translate(p string, t Target, multiline bool) (string, error) {
	tr := &translator{src: p, t: t, multiline: multiline, unicode: true}
	if err := tr.run(); err != nil {
		return "", err
	}
	out := tr.out.String()
	if multiline {
		out = "(?m)" + out
	}
	return out, nil
}

type translator struct {
	src       string
	i         int
	out       strings.Builder
	t         Target
	multiline bool
	unicode   bool
	inClass   bool
}

// anyText stands for a backreference in a superset: any text.
const anyText = `(?s:.*)`

// re2 reports whether the target is Go's syntax.
func (tr *translator) re2() bool { return tr.t == RE2 || tr.t == RE2Superset }

// skipGroup skips the group starting at tr.i (a lookaround: in a superset
// it asserts nothing).
func (tr *translator) skipGroup() error {
	end := -1
	WalkStructure(tr.src, tr.i, func(i int, c byte, depth int) bool {
		if c == ')' && depth == 0 {
			end = i + 1
		}
		return end < 0
	})
	if end < 0 {
		return fmt.Errorf("missing ), unterminated group at offset %d", tr.i)
	}
	tr.i = end
	return nil
}

// WalkStructure calls visit with each character of p from "from" on that
// is outside escapes and character classes, and the group depth after it,
// until visit returns false.
func WalkStructure(p string, from int, visit func(i int, c byte, depth int) bool) {
	depth, inClass := 0, false
	for i := from; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			i++
			continue
		case inClass:
			if c == ']' {
				inClass = false
			}
			continue
		case c == '[':
			inClass = true
			if i+1 < len(p) && p[i+1] == '^' {
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
			}
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
		}
		if !visit(i, c, depth) {
			return
		}
	}
}

func (tr *translator) needs(what string) error {
	return fmt.Errorf("%s at offset %d: %w", what, tr.i, ErrNeedsBacktracking)
}

func (tr *translator) run() error {
	s := tr.src
	for tr.i < len(s) {
		c := s[tr.i]
		switch {
		case c == '\\':
			if err := tr.escape(); err != nil {
				return err
			}
		case tr.inClass:
			if c == ']' {
				tr.inClass = false
			} else if c == '[' && tr.t != Regexp2 && strings.HasPrefix(s[tr.i:], "[:") {
				// Python has no POSIX classes: "[:" is literal.
				tr.out.WriteString(`\[`)
				tr.i++
				continue
			}
			tr.out.WriteByte(c)
			tr.i++
		case c == '[':
			tr.inClass = true
			tr.out.WriteByte('[')
			tr.i++
			if tr.i < len(s) && s[tr.i] == '^' {
				tr.out.WriteByte('^')
				tr.i++
			}
			if tr.i < len(s) && s[tr.i] == ']' {
				tr.out.WriteString(`\]`)
				tr.i++
			}
		case c == '(':
			if err := tr.group(); err != nil {
				return err
			}
		case c == '$':
			if tr.re2() && !tr.multiline {
				tr.out.WriteString(`(?m:$)`)
			} else {
				tr.out.WriteByte('$')
			}
			tr.i++
		case c == '{':
			tr.brace()
		case (c == '+' || c == '*' || c == '?' || c == '}') && tr.i+1 < len(s) && s[tr.i+1] == '+':
			if tr.re2() {
				return tr.needs("possessive quantifier")
			}
			return fmt.Errorf("possessive quantifier at offset %d is not supported", tr.i)
		default:
			_, size := utf8.DecodeRuneInString(s[tr.i:])
			tr.out.WriteString(s[tr.i : tr.i+size])
			tr.i += size
		}
	}
	if tr.inClass {
		return fmt.Errorf("unterminated character set")
	}
	return nil
}

// brace normalises a quantifier ("{,n}" is "{0,n}", numbers lose leading
// zeros); other braces are literal, as in Python.
func (tr *translator) brace() {
	s := tr.src
	if m := quantRE.FindStringSubmatch(s[tr.i:]); m != nil && (m[1] != "" || m[2] != "") {
		lo, hi := trimZeros(m[1]), trimZeros(m[3])
		if lo == "" {
			lo = "0"
		}
		switch {
		case m[2] == "":
			tr.out.WriteString("{" + lo + "}")
		default:
			tr.out.WriteString("{" + lo + "," + hi + "}")
		}
		tr.i += len(m[0])
		return
	}
	tr.out.WriteString(`\{`)
	tr.i++
}

var quantRE = regexp.MustCompile(`^\{(\d*)(,?)(\d*)\}`)

func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" && s != "" {
		return "0"
	}
	return t
}

func (tr *translator) escape() error {
	s := tr.src
	if tr.i+1 >= len(s) {
		return fmt.Errorf("bad escape (end of pattern)")
	}
	c := s[tr.i+1]
	tr.i += 2
	w := &tr.out
	uni := tr.unicode && tr.t != Regexp2
	switch {
	case c == 'd' && uni:
		w.WriteString(digitClass)
	case c == 'D' && uni && !tr.inClass:
		w.WriteString(`\P{Nd}`)
	case c == 'w' && uni:
		tr.classOf(wordInner, false)
	case c == 'W' && uni && !tr.inClass:
		tr.classOf(wordInner, true)
	case c == 's' && uni:
		tr.classOf(spaceInner, false)
	case c == 'S' && uni && !tr.inClass:
		tr.classOf(spaceInner, true)
	case c == 'Z' && !tr.inClass:
		w.WriteString(`\z`)
	case c >= '1' && c <= '9' && !tr.inClass:
		switch tr.t {
		case RE2:
			return tr.needs("backreference")
		case RE2Superset:
			for tr.i < len(s) && s[tr.i] >= '0' && s[tr.i] <= '9' {
				tr.i++
			}
			w.WriteString(anyText)
			return nil
		}
		w.WriteByte('\\')
		w.WriteByte(c)
	case c == 'u' || c == 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if tr.i+n > len(s) {
			return fmt.Errorf("bad escape \\%c", c)
		}
		fmt.Fprintf(w, `\x{%s}`, s[tr.i:tr.i+n])
		tr.i += n
	case c == 'x' && tr.t == Regexp2 && tr.i+2 <= len(s):
		w.WriteString(`\x`)
	default:
		w.WriteByte('\\')
		w.WriteByte(c)
	}
	return nil
}

// classOf writes a Unicode class (its inner ranges when inside a class).
func (tr *translator) classOf(inner string, negated bool) {
	switch {
	case tr.inClass:
		tr.out.WriteString(inner)
	case negated:
		tr.out.WriteString("[^" + inner + "]")
	default:
		tr.out.WriteString("[" + inner + "]")
	}
}

func (tr *translator) group() error {
	s := tr.src[tr.i:]
	w := &tr.out
	switch {
	case strings.HasPrefix(s, "(?P<"):
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return fmt.Errorf("unterminated group name at offset %d", tr.i)
		}
		name := s[4:end]
		if tr.re2() {
			w.WriteString("(?P<" + name + ">")
		} else {
			w.WriteString("(?<" + name + ">")
		}
		tr.i += end + 1
	case strings.HasPrefix(s, "(?P="):
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return fmt.Errorf("unterminated backreference at offset %d", tr.i)
		}
		switch tr.t {
		case RE2:
			return tr.needs("backreference")
		case RE2Superset:
			w.WriteString(anyText)
		default:
			w.WriteString(`\k<` + s[4:end] + ">")
		}
		tr.i += end + 1
	case strings.HasPrefix(s, "(?="), strings.HasPrefix(s, "(?!"):
		switch tr.t {
		case RE2:
			return tr.needs("lookahead")
		case RE2Superset:
			return tr.skipGroup()
		}
		w.WriteString(s[:3])
		tr.i += 3
	case strings.HasPrefix(s, "(?<="), strings.HasPrefix(s, "(?<!"):
		switch tr.t {
		case RE2:
			return tr.needs("lookbehind")
		case RE2Superset:
			return tr.skipGroup()
		}
		w.WriteString(s[:4])
		tr.i += 4
	case strings.HasPrefix(s, "(?("):
		switch tr.t {
		case RE2:
			return tr.needs("conditional")
		case RE2Superset:
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return fmt.Errorf("unterminated conditional at offset %d", tr.i)
			}
			w.WriteString("(?:")
			tr.i += end + 1
			return nil
		}
		w.WriteString("(?(")
		tr.i += 3
	case strings.HasPrefix(s, "(?>"):
		switch tr.t {
		case RE2:
			return tr.needs("atomic group")
		case RE2Superset:
			w.WriteString("(?:")
			tr.i += 3
			return nil
		}
		w.WriteString("(?>")
		tr.i += 3
	case strings.HasPrefix(s, "(?#"):
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return fmt.Errorf("missing ), unterminated comment at offset %d", tr.i)
		}
		tr.i += end + 1
	case strings.HasPrefix(s, "(?:"):
		w.WriteString("(?:")
		tr.i += 3
	case strings.HasPrefix(s, "(?"):
		return tr.flags()
	default:
		w.WriteByte('(')
		tr.i++
	}
	return nil
}

// flags handles "(?aiLmsux)" and "(?aiLmsux-imsx:...)".
func (tr *translator) flags() error {
	s := tr.src[tr.i:]
	j := 2
	for j < len(s) && strings.IndexByte("aiLmsux-", s[j]) >= 0 {
		j++
	}
	if j >= len(s) || (s[j] != ')' && s[j] != ':') {
		return fmt.Errorf("unknown extension %q at offset %d", head(s, 4), tr.i)
	}
	var keep strings.Builder
	for _, f := range s[2:j] {
		switch f {
		case 'x':
			switch tr.t {
			case RE2, RE2Superset:
				return tr.needs("verbose mode")
			case PCRE2:
				return fmt.Errorf("at offset %d: %w", tr.i, ErrVerbose)
			}
			keep.WriteRune(f)
		case 'a':
			tr.unicode = false
		case 'u', 'L':
		default:
			keep.WriteRune(f)
		}
	}
	flags := strings.TrimSuffix(keep.String(), "-")
	tr.i += j + 1
	switch {
	case s[j] == ':':
		tr.out.WriteString("(?" + flags + ":")
	case flags != "":
		tr.out.WriteString("(?" + flags + ")")
	}
	return nil
}

func head(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// RuneOffsets maps rune indexes of s (regexp2 reports positions in runes)
// to byte offsets.
func RuneOffsets(s string) func(int) int {
	if utf8.RuneCountInString(s) == len(s) {
		return func(i int) int { return i }
	}
	table := make([]int, 0, len(s)+1)
	for i := range s {
		table = append(table, i)
	}
	table = append(table, len(s))
	return func(i int) int { return table[i] }
}
