package filter

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/f2bx/f2bx/config"
)

// A failure outlives its batch (the jail keeps it for findtime): none of
// its strings may point into the block of lines the source read, or each
// kept failure would keep a whole block (up to 256 KiB) alive.
func TestFailuresHoldNoSourceBlock(t *testing.T) {
	filters := map[string]config.Filter{
		"one-line": {FailRegex: []string{`^\s*\S+ fail <F-USER>\S+</F-USER> from <HOST>$`}},
		"session": {
			PrefRegex: `^\s*<F-MLFID>\S+\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$`,
			FailRegex: []string{`^fail <F-USER>\S+</F-USER> from <HOST>$`},
		},
		"multi-line": {FailRegex: []string{`^\s*\S+ fail <F-USER>\S+</F-USER>\n.* from <HOST>$`}, MaxLines: 2},
	}
	lines := []string{
		"2005-08-14 11:59:00 app[1]: fail root from 192.0.2.1",
		"2005-08-14 11:59:01 app[2]: fail admin",
		"2005-08-14 11:59:02 app[2]: from 192.0.2.2",
	}
	for name, c := range filters {
		t.Run(name, func(t *testing.T) {
			block := strings.Repeat(strings.Join(lines, "\n")+"\n", 4)
			var batch []string
			for l := range strings.Lines(block) {
				batch = append(batch, strings.TrimSuffix(l, "\n"))
			}
			lo := uintptr(unsafe.Pointer(unsafe.StringData(block)))
			hi := lo + uintptr(len(block))
			inBlock := func(s string) bool {
				p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
				return len(s) > 0 && p >= lo && p < hi
			}
			f := newFilter(t, c)
			found := 0
			err := f.ProcessLines(batch, func(_ int, fs []Failure) {
				for _, fl := range fs {
					found++
					if inBlock(fl.ID) {
						t.Errorf("id %q points into the source block", fl.ID)
					}
					for k, v := range fl.Fields.All() {
						var ss []string
						switch v := v.(type) {
						case string:
							ss = []string{v}
						case []string:
							ss = v
						}
						for _, s := range ss {
							if inBlock(s) {
								t.Errorf("field %s %q points into the source block", k, s)
							}
						}
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if found == 0 {
				t.Fatal("no failures found")
			}
		})
	}
}
