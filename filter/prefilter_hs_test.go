//go:build hyperscan

package filter

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	"github.com/f2bx/f2bx/filter/pyre"
	"github.com/flier/gohs/hyperscan"
)

// FuzzHyperscanSuperset checks the prefilter's promise: whenever a regex
// matches a line (Python semantics, regexp2), its Hyperscan form in byte
// mode matches too.
func FuzzHyperscanSuperset(f *testing.F) {
	for _, s := range [][2]string{
		{`^Failed \S+ for (?P<u>.*) from \d+\.\d+`, "Failed pässword for ünï from 1.2"},
		{`x[^:]y\w+.\s`, "xéyñandú\u00a0"},
		{`[é-ü]+\d`, "ö٣"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, line string) {
		// Filters are valid UTF-8 (configuration files are checked), and
		// regexp2 would read a bad byte as U+FFFD.
		if strings.ContainsAny(line, "\n") || !utf8.ValidString(pattern) || !utf8.ValidString(line) {
			return
		}
		py, err := pyre.Translate(pattern, pyre.Regexp2, false)
		if err != nil {
			return
		}
		re, err := regexp2.Compile(py, regexp2.None)
		if err != nil {
			return
		}
		re.MatchTimeout = 1e9
		if ok, err := re.MatchString(line + "\n"); err != nil || !ok {
			return
		}
		hs, err := pyre.HyperscanSuperset(relaxAnchors(pattern, false, false))
		if err != nil {
			t.Fatalf("%q: %v", pattern, err)
		}
		pat := hyperscan.NewPattern(hs, hyperscan.MultiLine|hyperscan.AllowEmpty)
		db, err := hyperscan.NewBlockDatabase(pat)
		if err != nil {
			pat = hyperscan.NewPattern(hs, hyperscan.MultiLine|hyperscan.AllowEmpty|hyperscan.PrefilterMode)
			if db, err = hyperscan.NewBlockDatabase(pat); err != nil {
				return // runs on every line
			}
		}
		defer db.Close()
		s, _ := hyperscan.NewScratch(db)
		defer s.Free()
		n := 0
		db.Scan([]byte(line+"\n"), s, func(id uint, from, to uint64, flags uint, ctx interface{}) error { n++; return nil }, nil)
		if n == 0 {
			t.Fatalf("%q matches %q, but its Hyperscan form %q does not", pattern, line, hs)
		}
	})
}
