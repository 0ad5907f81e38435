package filter

import (
	"slices"
	"strings"
	"testing"
)

// TestRequiredLiterals checks which strings a failregex is prefiltered by:
// joined across classes and optional parts while the set stays small, the
// most selective set of the regex, none when no string of three bytes is
// required.
func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		regex string
		want  []string // nil: none worth scanning for
	}{
		{`^Failed password for <F-USER>.*</F-USER> from <HOST>`, []string{"Failed password for "}},
		{`^[aA]uthentication (?:failure|error) for`, []string{"Authentication error for", "Authentication failure for", "authentication error for", "authentication failure for"}},
		// Optional parts: the shorter string is enough.
		{`^(?:error: )?Received disconnect from <HOST>`, []string{"Received disconnect from "}},
		// A branch without a required string makes the alternation's
		// requirement void; the rest of the regex still counts.
		{`^(?:foo|.*) user <F-USER>\S+</F-USER> from <HOST>`, []string{" user "}},
		// Backtracking constructs read as their superset.
		{`^(?P<a>Failed )?(?(a)\S+|Other) for (?!root)<F-USER>\S+</F-USER> from <HOST>`, []string{" from "}},
		{`^(?=.*Invalid)(?:.*) from <HOST>`, []string{" from "}},
		// Case-insensitive text: every spelling, while they are few.
		{`(?i)^fail <HOST>`, []string{"FAIL ", "FAIl ", "FAiL ", "FAil ", "FaIL ", "FaIl ", "FaiL ", "Fail ", "fAIL ", "fAIl ", "fAiL ", "fAil ", "faIL ", "faIl ", "faiL ", "fail "}},
		{`(?i)^failed for <HOST>`, nil},
		{`^k(?i:s)k`, []string{"kSk", "ksk", "kſk"}},
		// Repetitions that may be absent give nothing to scan for.
		{`^\w+ <HOST>`, nil},
		{`^(?:ab)* <HOST>`, nil},
		// One or more: the repeated part is required.
		{`^(?:login failed)+ <HOST>`, []string{"login failed"}},
	} {
		r, err := CompileRegex(tc.regex, "no", false)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := requiredLiterals(r)
		if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %q %v, want %q", tc.regex, got, ok, tc.want)
		}
	}
}

// FuzzRequiredLiterals checks the prefilter's promise: a line a failregex
// matches contains one of its required strings.
func FuzzRequiredLiterals(f *testing.F) {
	for _, s := range [][2]string{
		{`^[aA]uthentication (?:failure|error) for (?P<user>.*) from \d+`, "authentication error for x from 1"},
		{`^(?:error: )?Received disconnect from \S+(?: port \d+)?:\s*11:`, "Received disconnect from a:11:"},
		{`(?P<a>x)?(?(a)yy|zzz)(?=q)q+`, "zzzq"},
		{`(?:ab|cd)e?(?:fg){2}`, "cdfgfg"},
		{`é[ü-ÿ]k`, "éük"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, regex, line string) {
		if strings.Contains(line, "\n") || strings.Contains(regex, "<") {
			return
		}
		r, err := CompileRegex(regex, "no", false)
		if err != nil {
			return
		}
		lits, ok := requiredLiterals(r)
		if !ok {
			return
		}
		if _, matched, err := r.Search(line + "\n"); err != nil || !matched {
			return
		}
		for _, l := range lits {
			if strings.Contains(line, l) {
				return
			}
		}
		t.Fatalf("%q matches %q, which has none of %q", regex, line, lits)
	})
}
