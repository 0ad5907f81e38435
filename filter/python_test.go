//go:build pcre2 && cgo

package filter

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// pythonSearch is Python's re.search on one buffer: the match's byte span
// and each named group's (nil: no match; [-1 -1]: group not taken).
type pythonSearch struct {
	Span   []int            `json:"span"`
	Groups map[string][]int `json:"groups"`
}

// pythonOracle runs Python's re on every (regex, buffer) pair in one
// python3 process; the test skips when python3 is missing.
func pythonOracle(t *testing.T, cases [][2]string) []pythonSearch {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: Python's re is the oracle")
	}
	const prog = `
import json, re, sys
def b(s, i):
    return -1 if i < 0 else len(s[:i].encode())
out = []
for p, s in json.load(sys.stdin):
    m = re.search(p, s)
    if m is None:
        out.append({"span": None, "groups": {}})
        continue
    g = {n: [b(s, m.start(n)), b(s, m.end(n))] for n in m.re.groupindex}
    out.append({"span": [b(s, m.start()), b(s, m.end())], "groups": g})
json.dump(out, sys.stdout)
`
	in, _ := json.Marshal(cases)
	cmd := exec.Command(py, "-c", prog)
	cmd.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var res []pythonSearch
	if err := json.Unmarshal(outb, &res); err != nil {
		t.Fatalf("python3 output: %v", err)
	}
	return res
}

// The Python form of a regex on PCRE2's JIT finds what Python's re finds:
// the constructs only a backtracking engine has, and those whose meaning
// differs between dialects, on lines that tell the meanings apart.
func TestPythonFormSameAsPython(t *testing.T) {
	tests := []struct {
		regex string
		lines []string
	}{
		// fail2ban's sshd shape: a conditional on an optional group.
		{`^(?P<pre>Failed \S+ for )?(?(pre)(?:invalid user )?(?P<user>.*?)|(?P<other>\w+) ) from (?P<ip4>\d+\.\d+\.\d+\.\d+)(?: port \d+)?$`,
			[]string{"Failed password for invalid user x from 10.9.9.9 port 22 from 1.2.3.4 port 5", "fooé from 1.2.3.4", "Failed none for  from 1.2.3.4 port 22"}},
		// Lookahead, negative lookahead, lookbehind (of two lengths).
		{`user (?P<user>(?!root)\w+)(?= from) from (?P<ip4>\S+)`, []string{"user admin from 1.2.3.4", "user root from 1.2.3.4", "user bob at x"}},
		{`(?<=\[)(?P<ip4>[\d.]+)(?<!\.0)\]|(?<=ab|xc)d`, []string{"[1.2.3.4]", "[1.2.3.0]", "abd", "xcd", "cd"}},
		// Backreferences by name and number.
		{`(?P<q>['"])(?P<user>.*?)(?P=q) from (\d+)\.\3`, []string{`'a"b' from 7.7`, `"x' from 1.1`, `"o" from 1.2`}},
		// Atomic groups.
		{`(?>a+)b|(?>x*)x`, []string{"aaab", "xxx"}},
		// Python's "$": the end or before a final newline; "\Z" the end.
		{`a$`, []string{"a\n", "a", "a\nb"}},
		{`a\Z|b$`, []string{"a\n", "a", "b\n"}},
		{`(?m)^b$`, []string{"a\nb\n", "ab"}},
		// Unicode \w, \d, \s and \b as Python's str patterns have them; the
		// ASCII flag.
		{`\b(?P<w>\w+)\b \d+\s\S`, []string{"héllo ١٢ x", "x ١\u00a0y", "é 1\x1cz"}},
		{`(?a)\b\w+\b`, []string{"éab", "héllo"}},
		{`(?i)k+ſ|straße`, []string{"KK\u212as", "STRASSE", "Straße"}},
		// Quantifier spellings and literal braces.
		{`a{,2}b{2}c{x}`, []string{"aabbc{x}", "bbc{x}", "aaabbc{x}"}},
		{`[[:alpha:]]+`, []string{"[:a", "abc"}},
		// Groups inside repetitions that can match empty.
		{`(?P<a>a|)*(?P<b>b?)*c`, []string{"aac", "abbc", "c"}},
		{`(?P<x>\w)*?y`, []string{"abcy", "y"}},
		// Lazy and greedy user names with the words the address follows.
		{`for (?P<user>.+?) from (?P<ip4>\S+)(?: port \d+)?(?: ssh\d)?$`, []string{"for x from 10.9.9.9 port 22 from 1.2.3.4 port 5 ssh2"}},
		{`for (?P<user>.+) from (?P<ip4>\S+)(?: port \d+)?(?: ssh\d)?$`, []string{"for x from 10.9.9.9 port 22 from 1.2.3.4 port 5 ssh2"}},
	}
	var cases [][2]string
	for _, tc := range tests {
		for _, l := range tc.lines {
			if !strings.HasSuffix(l, "\n") {
				l += "\n"
			}
			cases = append(cases, [2]string{tc.regex, l})
		}
	}
	want := pythonOracle(t, cases)
	for i, c := range cases {
		re, err := CompileRegex(c[0], "no", false)
		if err != nil {
			t.Fatalf("%q: %v", c[0], err)
		}
		if err := re.compileRegexp2(); err != nil {
			t.Fatalf("%q: %v", c[0], err)
		}
		if re.py == nil {
			t.Errorf("%q has no Python form on PCRE2", c[0])
			continue
		}
		m, ok, answered := re.searchPython(c[1], nil)
		if !answered {
			t.Errorf("%q on %q: PCRE2 did not answer", c[0], c[1])
			continue
		}
		w := want[i]
		if ok != (w.Span != nil) {
			t.Errorf("%q on %q: match %v, Python %v", c[0], c[1], ok, w.Span)
			continue
		}
		if !ok {
			continue
		}
		if m.Start() != w.Span[0] || m.End() != w.Span[1] {
			t.Errorf("%q on %q: span [%d %d], Python %v", c[0], c[1], m.Start(), m.End(), w.Span)
		}
		for name, span := range w.Groups {
			s, e, took := m.span(name)
			if !took {
				s, e = -1, -1
			}
			if s != span[0] || e != span[1] {
				t.Errorf("%q on %q: group %s [%d %d], Python %v", c[0], c[1], name, s, e, span)
			}
		}
	}
}
