// Package pcre runs regexes written for Go's regexp on PCRE2's JIT
// compiler, about ten times faster on fail2ban's failregexes, with the
// same matches and groups: both choose the leftmost match a backtracking
// matcher finds first. The pattern given to PCRE2 is generated from Go's
// own parse of the regex (character classes as explicit code point
// ranges, anchors and boundaries with Go's meaning), not passed on as
// text. PCRE2 backtracks: each match has a step limit linear in the
// line's length, and a line that reaches it, or that is not valid UTF-8,
// is left to Go's regexp (Find's ok is false), so matching stays linear
// whatever an attacker writes into a log line.
//
// It needs cgo and libpcre2 (build tag pcre2, Debian's libpcre2-dev);
// without them Available is false and Compile fails.
package pcre

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
)

// ErrUnsupported means the regex is left to Go's regexp: PCRE2 is not
// built in, or the regex has a construct whose groups PCRE2 could set
// differently (a repetition of something that can match empty).
var ErrUnsupported = errors.New("pcre: not supported")

// pattern returns the PCRE2 form of a Go regex and its number of groups.
func pattern(expr string) (string, int, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", 0, err
	}
	var b strings.Builder
	if err := emit(&b, re); err != nil {
		return "", 0, err
	}
	return b.String(), re.MaxCap(), nil
}

func emit(b *strings.Builder, re *syntax.Regexp) error {
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString("(*FAIL)")
	case syntax.OpEmptyMatch:
		b.WriteString("(?:)")
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			b.WriteString("(?i:")
		}
		for _, r := range re.Rune {
			if err := emitRune(b, r); err != nil {
				return err
			}
		}
		if re.Flags&syntax.FoldCase != 0 {
			b.WriteString(")")
		}
	case syntax.OpCharClass:
		emitClass(b, re.Rune)
	case syntax.OpAnyCharNotNL:
		b.WriteString(`[^\n]`)
	case syntax.OpAnyChar:
		b.WriteString(`(?s:.)`)
	case syntax.OpBeginLine:
		b.WriteString(`(?m:^)`)
	case syntax.OpEndLine:
		b.WriteString(`(?m:$)`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		b.WriteString(`\z`)
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpCapture:
		// Unnamed: the caller knows the names by number, and PCRE2 takes
		// fewer names than Go (none starting with a digit).
		b.WriteString("(")
		if err := emit(b, re.Sub[0]); err != nil {
			return err
		}
		b.WriteString(")")
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		if re.Op != syntax.OpQuest && !(re.Op == syntax.OpRepeat && re.Max >= 0 && re.Max <= 1) && nullable(re.Sub[0]) {
			return fmt.Errorf("%w: a repetition of %s, which can match empty", ErrUnsupported, re.Sub[0])
		}
		b.WriteString("(?:")
		if err := emit(b, re.Sub[0]); err != nil {
			return err
		}
		b.WriteString(")")
		switch re.Op {
		case syntax.OpStar:
			b.WriteString("*")
		case syntax.OpPlus:
			b.WriteString("+")
		case syntax.OpQuest:
			b.WriteString("?")
		default:
			b.WriteString("{" + strconv.Itoa(re.Min) + ",")
			if re.Max >= 0 {
				b.WriteString(strconv.Itoa(re.Max))
			}
			b.WriteString("}")
		}
		if re.Flags&syntax.NonGreedy != 0 {
			b.WriteString("?")
		}
	case syntax.OpConcat:
		b.WriteString("(?:")
		for _, s := range re.Sub {
			if err := emit(b, s); err != nil {
				return err
			}
		}
		b.WriteString(")")
	case syntax.OpAlternate:
		b.WriteString("(?:")
		for i, s := range re.Sub {
			if i > 0 {
				b.WriteString("|")
			}
			if err := emit(b, s); err != nil {
				return err
			}
		}
		b.WriteString(")")
	default:
		return fmt.Errorf("%w: %v", ErrUnsupported, re.Op)
	}
	return nil
}

// Surrogates are no characters: valid UTF-8 (all PCRE2 is given) never
// holds them, and PCRE2 refuses them in a pattern.
const surrogateLo, surrogateHi = 0xD800, 0xDFFF

func emitRune(b *strings.Builder, r rune) error {
	switch {
	case r >= surrogateLo && r <= surrogateHi:
		return fmt.Errorf("%w: surrogate U+%04X", ErrUnsupported, r)
	case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '_'):
		b.WriteRune(r)
	default:
		fmt.Fprintf(b, `\x{%x}`, r)
	}
	return nil
}

// emitClass writes a class of code point ranges (pairs, as Go's parser
// leaves them: case folding already applied), without surrogates.
func emitClass(b *strings.Builder, ranges []rune) {
	var kept []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if lo < surrogateLo && hi >= surrogateLo {
			kept = append(kept, lo, surrogateLo-1)
			lo = surrogateHi + 1
		}
		if lo >= surrogateLo && lo <= surrogateHi {
			lo = surrogateHi + 1
		}
		if lo <= hi {
			kept = append(kept, lo, hi)
		}
	}
	if len(kept) == 0 {
		b.WriteString("(*FAIL)")
		return
	}
	b.WriteString("[")
	for i := 0; i < len(kept); i += 2 {
		fmt.Fprintf(b, `\x{%x}`, kept[i])
		if kept[i+1] != kept[i] {
			fmt.Fprintf(b, `-\x{%x}`, kept[i+1])
		}
	}
	b.WriteString("]")
}

// nullable reports whether re can match the empty string.
func nullable(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpLiteral:
		return len(re.Rune) == 0
	case syntax.OpCapture, syntax.OpPlus:
		return nullable(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || nullable(re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !nullable(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if nullable(s) {
				return true
			}
		}
		return false
	}
	return false
}
