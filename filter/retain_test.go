package filter

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/filter/fields"
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

// The prefilter's block of lines is reused from batch to batch: what a
// failure keeps (id, groups before, after and across the date's cut) must
// not change when the next batch is searched.
func TestFailuresOutliveTheBlock(t *testing.T) {
	f := newFilter(t, config.Filter{
		PrefRegex: `^<F-MLFID>\S+\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex: []string{`^\s*<F-USER>\S.*\S</F-USER> from <HOST>\s*$`},
	})
	type kept struct {
		id, user, mlfid string
		fields          *fields.Set
	}
	batch := func(a, b, c string, octet int) (out []kept) {
		// Sessions of their own: a session shared with the next batch
		// would change (as fail2ban's shared dict does).
		p := 10 * octet
		lines := []string{
			fmt.Sprintf("app[%d]: %s 2005-08-14 11:59:00 %s from 192.0.2.%d", p, a[:2], a[2:], octet), // across the cut
			fmt.Sprintf("app[%d]: 2005-08-14 11:59:01 %s from 192.0.2.%d", p+1, b, octet),             // after it
			fmt.Sprintf("app[%d]: %s from 192.0.2.%d 2005-08-14 11:59:02", p+2, c, octet),             // before it
		}
		err := f.ProcessLines(lines, func(_ int, fs []Failure) {
			for _, fl := range fs {
				out = append(out, kept{fl.ID, fl.Fields.Str("user"), fl.Fields.Str("mlfid"), fl.Fields})
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := batch("abcd", "efgh", "ijkl", 1)
	if len(first) != 3 {
		t.Fatalf("found %d failures, want 3", len(first))
	}
	batch("zyxw", "vuts", "rqpo", 2)
	for i, want := range []string{"ab  cd", "efgh", "ijkl"} {
		k := first[i]
		if k.id != "192.0.2.1" || k.user != want || k.mlfid != fmt.Sprintf("app[%d]:", 10+i) {
			t.Errorf("failure %d found as %q, user %q, mlfid %q", i, k.id, k.user, k.mlfid)
		}
		if got := k.fields.Str("user"); got != want {
			t.Errorf("failure %d: user %q after the next batch, want %q", i, got, want)
		}
		if got := k.fields.Str("mlfid"); got != k.mlfid {
			t.Errorf("failure %d: mlfid %q after the next batch, want %q", i, got, k.mlfid)
		}
		if got := k.fields.Strings("matches"); len(got) != 1 || !strings.Contains(got[0], "192.0.2.1") {
			t.Errorf("failure %d: matches %q after the next batch", i, got)
		}
	}
}
