//go:build pcre2 && cgo

package pcre

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// same checks that PCRE2 finds what Go's regexp finds, groups included.
func same(t *testing.T, expr, s string) {
	t.Helper()
	want := regexp.MustCompile(expr).FindStringSubmatchIndex(s)
	re, err := Compile(expr)
	if errors.Is(err, ErrUnsupported) {
		return
	}
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	got, ok := re.Find(s)
	if !ok {
		return // left to Go's regexp
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%q on %q: PCRE2 %v, Go %v", expr, s, got, want)
	}
}

// Constructs whose meaning PCRE2 and Go could disagree on, each checked
// against Go on lines that tell the meanings apart.
func TestSameAsGo(t *testing.T) {
	for _, tc := range []struct {
		expr  string
		lines []string
	}{
		// fail2ban's shape: the greedy user name gives the last address.
		{`^Failed password for (?P<user>.*) from (?P<ip4>(?:\d{1,3}\.){3}\d{1,3}) port \d+(?: ssh\d*)?\s*(?m:$)`,
			[]string{"Failed password for x from 10.9.9.9 port 22 from 1.2.3.4 port 5 ssh2\n", "Failed password for  from 1.2.3.4 port 5\n", "nope\n"}},
		// Anchors: Go's "$" is the end of the text, "(?m:$)" a line's end;
		// "(?m:^)" also after a final newline.
		{`a$`, []string{"a\n", "a", "ba\nc"}},
		{`(?m)a$`, []string{"a\n", "a\nb", "ab"}},
		{`(?m)^$`, []string{"\n", "x\n", ""}},
		{`(?m)^b`, []string{"a\nb", "b", "ab"}},
		{`\Aa|b\z`, []string{"ab", "ba", "cab"}},
		// Boundaries are ASCII in Go.
		{`\bé\b|\bx\b`, []string{"é", "aéb", " x ", "éx"}},
		{`\Bo\B`, []string{"foo", "o", "ö o"}},
		// Classes: Unicode ones, negations (with the surrogate hole),
		// case folding including its non-ASCII partners (K, ſ).
		{`\p{Nd}+|\p{L}+`, []string{"١٢٣", "héllo", "--"}},
		{`[^a-z]+`, []string{"abcÄÖ😀d", "abc"}},
		{`(?i)k+s`, []string{"Kkﬀ\u212aſ", "KS", "\u212a\u017f"}},
		{`(?i)[a-c]+`, []string{"ABCabc", "xyz"}},
		{`.+`, []string{"a\nb", "\x00é"}},
		{`(?s).+`, []string{"a\nb"}},
		// Greedy and lazy, counted, alternatives in order.
		{`(a+?)(a*)`, []string{"aaaa"}},
		{`(a{2,3})(a{1,}?)`, []string{"aaaaaa"}},
		{`(a|ab)(c|bcd)(d*)`, []string{"abcd"}},
		{`(x)?(y)?z`, []string{"yz", "z"}},
		{`(?U)(a+)(a*)`, []string{"aaa"}},
		// Literals PCRE2 would read otherwise.
		{`\.\*\\\$\(\)\[\]\{\}\|\?\+\^#`, []string{`.*\$()[]{}|?+^#`}},
		{`\Qa.b\E\x{1F600}`, []string{"a.b😀", "axb😀"}},
	} {
		for _, l := range tc.lines {
			same(t, tc.expr, l)
		}
	}
}

// A repetition of something that can match empty is left to Go: the
// two disagree on its groups.
func TestNullableRepetitionUnsupported(t *testing.T) {
	for _, expr := range []string{`(a*)*`, `(a|)+`, `(?:x?){2,}`} {
		if _, err := Compile(expr); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: %v, want ErrUnsupported", expr, err)
		}
	}
	for _, expr := range []string{`(a*)?`, `(?:a?){0,1}`, `(ab?)+`} {
		if _, err := Compile(expr); err != nil {
			t.Errorf("%q: %v", expr, err)
		}
	}
}

// Invalid UTF-8 and a line that exhausts the step limit are left to Go's
// regexp, so matching stays linear.
func TestLeftToGo(t *testing.T) {
	re, err := Compile(`^(a|aa)*$`)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := re.Find("a\xffc"); ok {
		t.Fatal("invalid UTF-8 answered")
	}
	// Exponential for a backtracking matcher.
	if _, ok := re.Find(strings.Repeat("a", 60) + "x"); ok {
		t.Fatal("a catastrophic line answered: no step limit")
	}
	if loc, ok := re.Find("aaaaa"); !ok || loc == nil {
		t.Fatalf("aaaaa: %v %v", loc, ok)
	}
}

// FuzzSameAsGo compares PCRE2 with Go's regexp on random regexes and
// lines.
func FuzzSameAsGo(f *testing.F) {
	f.Add(`^Failed (?:password|publickey) for (?P<user>.*) from (\S+)(?: port \d+)?\s*$`, "Failed password for a from b from c port 1 ")
	f.Add(`(?i)(x+?)(\w*)\b`, "XxK\u212a y")
	f.Add(`[^\s\d]{2,4}|(?m)^$`, "\n\nab1")
	f.Fuzz(func(t *testing.T, expr, s string) {
		if _, err := regexp.Compile(expr); err != nil || !utf8.ValidString(s) || len(expr) > 200 {
			return
		}
		same(t, expr, s)
	})
}

// FindAfter finds what FindInto of the head, then FindInto of the regex
// on the rest of the head's line, find.
func TestFindAfterAgreesWithTwoFinds(t *testing.T) {
	head := mustCompile(t, `^\s*(?P<mlfid>(?:\S+\s+)?sshd(?:\[\d+\])?:\s+)?[^\n]`)
	re := mustCompile(t, `^Failed password for (?P<user>.*) from (?P<ip4>(?:\d{1,3}\.){3}\d{1,3})(?: port \d+)?\s*(?m:$)`)
	for _, s := range []string{
		"host sshd[1]: Failed password for root from 192.0.2.1 port 22\n",
		"host sshd[1]: Failed password for x from 10.9.9.9 port 1 from 192.0.2.2\n",
		"Failed password for root from 192.0.2.3\n", // no prefix: the rest is the line
		"host sshd[1]: Accepted password for root from 192.0.2.4\n",
		"host sshd[1]: é Failed password for root from 192.0.2.5\n",
		"host sshd[1]: éFailed\n", // the rest starts inside "é"
		"\n",                      // the head does not match
		"host sshd[1]: Failed password for root from 192.0.2.6\nFailed password for b from 192.0.2.7\n",
	} {
		hwant, ok := head.Find(s)
		if !ok {
			t.Fatalf("%q: head not answered", s)
		}
		a, ok := FindAfter(head, re, s, 1, nil, nil)
		if !ok || !slices.Equal(a.Head, hwant) {
			t.Fatalf("%q: head %v, %v; want %v", s, a.Head, ok, hwant)
		}
		if hwant == nil {
			continue
		}
		start := hwant[1] - 1
		end := start + strings.IndexByte(s[start:], '\n') + 1
		if !utf8.RuneStart(s[start]) {
			if a.RestOK {
				t.Errorf("%q: rest inside a UTF-8 sequence answered", s)
			}
			continue
		}
		want, _ := re.Find(s[start:end])
		if !a.RestOK || a.Start != start || a.End != end || !slices.Equal(a.Rest, want) {
			t.Errorf("%q: rest [%d:%d] %v (%v), want [%d:%d] %v", s, a.Start, a.End, a.Rest, a.RestOK, start, end, want)
		}
	}
	if _, ok := FindAfter(head, re, "host sshd[1]: \xff\n", 1, nil, nil); ok {
		t.Error("invalid UTF-8 answered")
	}
}

func mustCompile(t *testing.T, expr string) *Regexp {
	t.Helper()
	re, err := Compile(expr)
	if err != nil {
		t.Fatal(err)
	}
	return re
}
