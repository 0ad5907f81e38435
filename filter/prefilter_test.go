package filter

import "testing"

// TestPrefilterPatterns checks how a failregex becomes a prefilter
// pattern: "^" dropped (the content starts inside the line), "$" kept only
// when the content runs to the line's end, and ".*$" added so each line is
// reported once.
func TestPrefilterPatterns(t *testing.T) {
	for _, tc := range []struct {
		pref, fail, want string
		ok               bool
	}{
		{"", `^Failed for \S+$`, `Failed for \S+$`, true},
		{"", `^Failed for \S+`, `(?:Failed for \S+).*$`, true},
		{`^\S+: <F-CONTENT>.+</F-CONTENT>$`, `^Failed for \S+$`, `Failed for \S+$`, true},
		// Something after the content: "$" of the failregex is not the
		// line's end.
		{`^\S+: <F-CONTENT>.+</F-CONTENT> \[\d+\]$`, `^Failed for \S+$`, `(?:Failed for \S+).*$`, true},
		// No content group: the failregex sees the whole line.
		{`^\S+: `, `^Failed$`, `Failed$`, true},
		// "$" in one branch only; an escaped "$"; one inside a class.
		{"", `^a$|b`, `(?:a|b).*$`, true},
		{"", `^cost \d+\$`, `(?:cost \d+\$).*$`, true},
		{"", `^x[$^]$`, `x[$^]$`, true},
		{"", `\bword\b`, ``, false},
	} {
		var pref *Regex
		if tc.pref != "" {
			var err error
			if pref, err = CompileRegex(tc.pref, "no", false); err != nil {
				t.Fatal(err)
			}
		}
		fail, err := CompileRegex(tc.fail, "no", false)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := prefilterPatterns(pref, []*Regex{fail})
		if got[0] != tc.want || ok[0] != tc.ok {
			t.Errorf("prefregex %q, failregex %q: got %q %v, want %q %v", tc.pref, tc.fail, got[0], ok[0], tc.want, tc.ok)
		}
	}
}
