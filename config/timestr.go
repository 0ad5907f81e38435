package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Seconds of one month and one year as fail2ban counts them (a year is
// 365.25 days, a month a twelfth of that).
const (
	secondsPerMonth = (365*3 + 366) * 24 * 60 * 60 / 4.0 / 12
	secondsPerYear  = (365*3 + 366) * 24 * 60 * 60 / 4.0
)

// timeUnits are fail2ban's unit words in the order it rewrites them.
var timeUnits = []struct {
	re     *regexp.Regexp
	factor string
}{
	{regexp.MustCompile(`^(?i)(?:days?|da|dd?)\b`), "*86400"},
	{regexp.MustCompile(`^(?i)(?:weeks?|wee?|ww?)\b`), "*604800"},
	{regexp.MustCompile(`^(?i)(?:months?|mon?)\b`), "*" + strconv.FormatFloat(secondsPerMonth, 'f', 1, 64)},
	{regexp.MustCompile(`^(?i)(?:years?|yea?|yy?)\b`), "*" + strconv.FormatFloat(secondsPerYear, 'f', 1, 64)},
	{regexp.MustCompile(`^(?i)(?:seconds?|sec?|ss?)\b`), "*1"},
	{regexp.MustCompile(`^(?i)(?:minutes?|min?|mm?)\b`), "*60"},
	{regexp.MustCompile(`^(?i)(?:hours?|hou?|hh?)\b`), "*3600"},
}

var spaceBetweenDigits = regexp.MustCompile(`(\d)\s+(\d)`)

// ParseSeconds converts a fail2ban time string to seconds exactly as
// fail2ban's str2seconds does: numbers with units (s, m, h, d, w, mo, y and
// their long forms, case-insensitive), run together ("1d12h") or separated
// by spaces (added up), and arithmetic ("1h+30m", "1y-6mo", "-1").
func ParseSeconds(s string) (float64, error) {
	expr := rewriteTimeUnits(s)
	v, err := evalArith(expr)
	if err != nil {
		return 0, fmt.Errorf("invalid time %q: %v", s, err)
	}
	return v, nil
}

// rewriteTimeUnits turns "1d12h" into the arithmetic "1*86400+12*3600".
func rewriteTimeUnits(s string) string {
	// A digit right after a letter starts a new group: "1d12h" -> "1d 12h".
	var b strings.Builder
	prev := rune(-1)
	for _, r := range s {
		if r >= '0' && r <= '9' && ((prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z')) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prev = r
	}
	s = b.String()
	// A unit word after a digit or a space becomes a multiplication.
	for _, u := range timeUnits {
		var out strings.Builder
		prev := rune(-1)
		for i := 0; i < len(s); {
			if prev >= 0 && (unicode.IsDigit(prev) || unicode.IsSpace(prev)) {
				if m := u.re.FindString(s[i:]); m != "" {
					out.WriteString(u.factor)
					i += len(m)
					prev = rune(m[len(m)-1])
					continue
				}
			}
			r, size := rune(s[i]), 1
			if r >= 0x80 {
				r, size = []rune(s[i:])[0], len(string([]rune(s[i:])[0]))
			}
			out.WriteString(s[i : i+size])
			prev = r
			i += size
		}
		s = out.String()
	}
	// Groups separated by spaces add up.
	return spaceBetweenDigits.ReplaceAllString(s, "$1+$2")
}

// evalArith evaluates + - * / and parentheses over decimal numbers.
func evalArith(s string) (float64, error) {
	p := &arith{s: s}
	v, err := p.sum()
	if err != nil {
		return 0, err
	}
	p.space()
	if p.i != len(p.s) {
		return 0, fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	return v, nil
}

type arith struct {
	s string
	i int
}

func (p *arith) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *arith) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *arith) sum() (float64, error) {
	v, err := p.product()
	for err == nil {
		switch p.peek() {
		case '+':
			p.i++
			var w float64
			w, err = p.product()
			v += w
		case '-':
			p.i++
			var w float64
			w, err = p.product()
			v -= w
		default:
			return v, nil
		}
	}
	return 0, err
}

func (p *arith) product() (float64, error) {
	v, err := p.unary()
	for err == nil {
		switch p.peek() {
		case '*':
			p.i++
			var w float64
			w, err = p.unary()
			v *= w
		case '/':
			p.i++
			var w float64
			if w, err = p.unary(); err == nil && w == 0 {
				err = fmt.Errorf("division by zero")
			}
			v /= w
		default:
			return v, nil
		}
	}
	return 0, err
}

func (p *arith) unary() (float64, error) {
	switch p.peek() {
	case '-':
		p.i++
		v, err := p.unary()
		return -v, err
	case '+':
		p.i++
		return p.unary()
	case '(':
		p.i++
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.peek() != ')' {
			return 0, fmt.Errorf("missing )")
		}
		p.i++
		return v, nil
	}
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.' || p.s[p.i] == '_') {
		p.i++
	}
	if start == p.i {
		if p.i < len(p.s) {
			return 0, fmt.Errorf("unexpected %q", p.s[p.i:])
		}
		return 0, fmt.Errorf("unexpected end")
	}
	return strconv.ParseFloat(strings.ReplaceAll(p.s[start:p.i], "_", ""), 64)
}
