package pyre

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
)

func TestTranslateRE2(t *testing.T) {
	tests := []struct{ in, want string }{
		{`^a$`, `^a(?m:$)`},
		{`\Z`, `\z`},
		{`[$]`, `[$]`},
		{`(?P<n>x)`, `(?P<n>x)`},
		{`a{,3}`, `a{0,3}`},
		{`a{2,}`, `a{2,}`},
		{`\d`, `\p{Nd}`},
		{`\w+`, `[\p{L}\p{N}_]+`},
		{`[\w.]`, `[\p{L}\p{N}_.]`},
		{`\S`, `[^\t\n\v\f\r \x{1c}-\x{1f}\x{85}\p{Z}]`},
		{`\u00e9`, `\x{00e9}`},
		{`(?i)x`, `(?i)x`},
		{`(?iu)x`, `(?i)x`},
		{`(?#comment)x`, `x`},
		{`[]a]`, `[\]a]`},
		{`[^]a]`, `[^\]a]`},
		{`[[:alpha:]]`, `[\[:alpha:]]`},
	}
	for _, tc := range tests {
		got, err := Translate(tc.in, RE2, false)
		if err != nil || got != tc.want {
			t.Errorf("Translate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if _, err := regexp.Compile(got); err != nil {
			t.Errorf("%q does not compile: %v", got, err)
		}
	}
	if got, _ := Translate(`^a$`, RE2, true); got != `(?m)^a$` {
		t.Errorf("multiline: %q", got)
	}
}

// The superset form drops what only a backtracking engine checks, so that
// it matches at least the regex's lines.
func TestTranslateRE2Superset(t *testing.T) {
	tests := []struct{ in, want string }{
		{`a(?=b)c`, `ac`},
		{`a(?!(?:b|\)))[)]c`, `a[)]c`},
		{`(?<=x)y(?<![(])`, `y`},
		{`(?P<h>a)?(?(h)b|c)`, `(?P<h>a)?(?:b|c)`},
		{`(a)?(?(1)b)`, `(a)?(?:b)`},
		{`(?P<x>a)(?P=x)\1`, `(?P<x>a)(?s:.*)(?s:.*)`},
		{`(?>a+)b$`, `(?:a+)b(?m:$)`},
	}
	for _, tc := range tests {
		got, err := Translate(tc.in, RE2Superset, false)
		if err != nil || got != tc.want {
			t.Errorf("Translate(%q, RE2Superset) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := Translate(`a(?=b`, RE2Superset, false); err == nil {
		t.Error("an unterminated lookahead translated")
	}
}

func TestTranslateNeedsBacktracking(t *testing.T) {
	for _, in := range []string{`(?=a)`, `(?!a)`, `(?<=a)b`, `(?<!a)b`, `(a)\1`, `(?P<x>a)(?P=x)`, `(a)?(?(1)b|c)`, `(?>a)`, `(?x) a`} {
		_, err := Translate(in, RE2, false)
		if !errors.Is(err, ErrNeedsBacktracking) {
			t.Errorf("%q: %v, want ErrNeedsBacktracking", in, err)
		}
		out, err := Translate(in, Regexp2, false)
		if err != nil {
			t.Errorf("%q for regexp2: %v", in, err)
			continue
		}
		if _, err := regexp2.Compile(out, regexp2.None); err != nil {
			t.Errorf("%q → %q does not compile on regexp2: %v", in, out, err)
		}
	}
	for _, bad := range []string{`[a`, `(?Q)`, `a\`} {
		if _, err := Translate(bad, RE2, false); err == nil || errors.Is(err, ErrNeedsBacktracking) {
			t.Errorf("%q: %v, want a syntax error", bad, err)
		}
	}
}

// The two translations agree with each other on what they match.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{`^Failed \S+ for (?P<user>.*) from (?P<ip>\d+\.\d+\.\d+\.\d+)$`, `a{,3}b$`, `[\w.]+@\w+`, `\s*$`} {
		f.Add(s, "Failed password for root from 1.2.3.4")
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		a, err := Translate(pattern, RE2, false)
		if err != nil {
			return
		}
		re, err := regexp.Compile(a)
		if err != nil {
			return
		}
		b, err := Translate(pattern, Regexp2, false)
		if err != nil {
			t.Fatalf("RE2 accepts %q but regexp2 translation fails: %v", pattern, err)
		}
		re2, err := regexp2.Compile(b, regexp2.None)
		if err != nil {
			return
		}
		re2.MatchTimeout = 1e9
		// Both search fail2ban's one-line buffer.
		if strings.Contains(subject, "\n") {
			return
		}
		buf := subject + "\n"
		m2, err := re2.MatchString(buf)
		if err != nil {
			return
		}
		// Python's \d, \w, \s and \b are Unicode-aware like regexp2's; RE2's
		// \b is ASCII only: compare on ASCII text.
		ascii := regexp.MustCompile(`^[ -~]*$`).MatchString(pattern + subject)
		if m1 := re.MatchString(buf); m1 != m2 && ascii {
			t.Fatalf("%q on %q: re2 %v, regexp2 %v", pattern, subject, m1, m2)
		}
	})
}
