package date

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// isoLines are lines around the ISO template's edge cases: separators,
// one- and two-digit fields, out-of-range values, fractions, zones and
// what follows the date.
var isoLines = []string{
	"2005-08-14 11:22:33 host", "2005/08/14 11:22:33", "2005.08.14T11:22:33", "2005-08/14 11:22:33", "2005-8-4 1:2:3",
	"2005-08-14  11:22:33", "2005-08-14   11:22:33", "2005-08-14T11:22:33.123456 x", "2005-08-14 11:22:33,1234567",
	"2005-08-14 11:22:33.", "2005-08-14 11:22:33.x", "2005-08-14 11:22:33Z", "2005-08-14 11:22:33 Z", "2005-08-14 11:22:33  UTC x",
	"2005-08-14 11:22:33 GMTx", "2005-08-14 11:22:33 GMT host", "2005-08-14 11:22:33 +0200", "2005-08-14 11:22:33+02:00 x", "2005-08-14 11:22:33 -05",
	"2005-08-14 11:22:33 +02:0", "2005-08-14 11:22:33 +0200x", "2005-08-14 11:22:33 +2200", "2005-08-14 11:22:33 +02:00:00",
	"2005-08-14 11:22:33\t+0200", "2005-08-14 11:22:33\v+0200", "2005-08-14 11:22:33 \u00a0x", "2005-08-14 11:22:33é",
	"2005-12-31 23:59:61", "2005-13-01 11:22:33", "2005-00-01 11:22:33", "2005-10-10 11:22:33", "2005-11-12 11:22:33",
	"2005-12-32 11:22:33", "2005-12-30 24:00:00", "2005-12-30 20:00:00", "2005-12-30 2:00:00", "2005-12-3 11:22:33",
	"2005-12- 3 11:22:33", "2005-12-03 11:22:3", "2005-12-03 11:22", "2005-12-03 11:62:33", "2005-12-03 11:22:33_",
	"1905-08-14 11:22:33", "2105-08-14 11:22:33", "20051-08-14 11:22:33", "[2005-08-14 11:22:33]", "::2005-08-14 11:22:33",
	":::2005-08-14 11:22:33", "x2005-08-14 11:22:33", "2005-08-14 11:22:33" + strings.Repeat(" ", 70) + "+0200",
	"2005-08-14 11:22:33" + strings.Repeat(" ", 70) + "+0\u0663", "2005-08-14 11:22:33 +01:\u0663\u0663",
	"2005-08-14T1:2:3Z", "2005-08-14 11:22:33.123456+0200", "2005-08-14 11:22:33,5 UTC",
}

func isoTemplate(t testing.TB) *Template {
	tp, err := templateFor(isoPattern, testNow, 2000)
	if err != nil || tp.re2 == nil {
		t.Fatalf("ISO template: %v", err)
	}
	if _, ok := tp.fast.(*isoMatcher); !ok {
		t.Fatalf("ISO template %s has no hand-written matcher", tp.Name)
	}
	return tp
}

// The default templates' start-of-line ISO form is the one with the
// hand-written matcher.
func TestDefaultsUseISOMatcher(t *testing.T) {
	ts := allTemplates(t)
	n := 0
	for _, tp := range ts {
		if _, ok := tp.fast.(*isoMatcher); ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d default templates use the ISO matcher, want 1", n)
	}
}

// The hand-written ISO matcher agrees with the template's regex.
func TestISOMatcherAgreesWithRegex(t *testing.T) {
	tp := isoTemplate(t)
	matched := 0
	for _, l := range isoLines {
		for _, line := range []string{l, l + strings.Repeat(" tail", 30)} {
			sameAsRegex(t, tp, line)
			var g fields
			if _, _, ok := tp.match(line, &g); ok {
				matched++
			}
		}
	}
	if matched == 0 {
		t.Fatal("no sample matched")
	}
}

func FuzzISOMatcher(f *testing.F) { fuzzAgainstRegex(f, isoTemplate(f), isoLines) }

// A line that starts as the last one did up to its seconds takes the last
// match's date up to there (the matcher's memo) only when the regex
// agrees: every line after every other, with variants that differ just
// after the seconds.
func TestISOMatcherMemo(t *testing.T) {
	tp := isoTemplate(t)
	lines := slices.Clone(isoLines)
	for _, base := range []string{"2005-08-14 11:22:33", "2005-8-4 1:2:3", "2005-08-14T11:22:3"} {
		for _, tail := range []string{".123456 x", ".654321 x", ".1234567", ".12 +0200", ",5 UTC", "4 x", "4.5", "x", "", " ", "Z", " +02:00 x", ".", ".x", "_a", "é"} {
			lines = append(lines, base+tail)
		}
	}
	im := tp.fast.(*isoMatcher)
	hits := 0
	for _, a := range lines {
		for _, b := range lines {
			im.memo.q = 0
			var g fields
			tp.match(a, &g)
			if im.memo.q > 0 && len(b) > im.memo.q && b[:im.memo.q+1] == a[:im.memo.q+1] {
				hits++
			}
			sameAsRegex(t, tp, b)
		}
	}
	if hits < 100 {
		t.Fatalf("only %d pairs tried the memo", hits)
	}
}

func FuzzISOMatcherMemo(f *testing.F) {
	tp := isoTemplate(f)
	fuzzMemoAgainstRegex(f, tp, func() { tp.fast.(*isoMatcher).memo.q = 0 },
		[2]string{"2005-08-14 11:22:33.123456 x", "2005-08-14 11:22:33.654321+0200"},
		[2]string{"2005-8-4 1:2:3.5 x", "2005-8-4 1:2:34 x"})
}

// Dates that differ only in the fraction share the cached time; any
// other field, the zone included, gives its own.
func TestCachedTimeByFields(t *testing.T) {
	d, err := New("", Options{Now: func() time.Time { return testNow }, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2005, 8, 14, 11, 22, 33, 0, time.UTC)
	for _, c := range []struct {
		line string
		want time.Time
	}{
		{"2005-08-14 11:22:33.100000 a", base},
		{"2005-08-14 11:22:33.200000 a", base},
		{"2005-08-14 11:22:34.200000 a", base.Add(time.Second)},
		{"2005-08-14 11:22:34.300000 +0200 a", base.Add(time.Second - 2*time.Hour)},
		{"2005-08-14 11:22:34.400000 +0100 a", base.Add(time.Second - time.Hour)},
		{"2005-08-13 11:22:34.400000 +0100 a", base.Add(time.Second - time.Hour - 24*time.Hour)},
	} {
		f, ok := d.Match(c.line)
		if !ok || !f.Time.Equal(c.want) {
			t.Errorf("%q: %v %v, want %v", c.line, ok, f.Time, c.want)
		}
	}
}

// Detectors share the compiled templates but not the hand-written
// matchers' state: two detectors match concurrently (go test -race).
func TestDetectorsShareCompiledTemplates(t *testing.T) {
	opts := Options{Now: func() time.Time { return testNow }, Loc: time.UTC}
	d1, err1 := New("", opts)
	d2, err2 := New("", opts)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	fast := 0
	for i, t1 := range d1.Templates {
		t2 := d2.Templates[i]
		if t1 == t2 || t1.re != t2.re || t1.re2 != t2.re2 {
			t.Fatalf("template %s: not one compiled template", t1.Name)
		}
		if t1.fast != nil {
			fast++
			if t1.fast == t2.fast {
				t.Fatalf("template %s: one matcher for two detectors", t1.Name)
			}
		}
	}
	if fast != 2 {
		t.Fatalf("%d hand-written matchers, want 2 (syslog, ISO)", fast)
	}
	done := make(chan struct{})
	for _, d := range []*Detector{d1, d2} {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				line := []string{"Aug 14 11:22:33 host x", "2005-08-14 11:22:33.5 x"}[i%2]
				if f, ok := d.Match(line); !ok || f.Time.IsZero() {
					t.Errorf("%q: no date", line)
					return
				}
			}
		}()
	}
	<-done
	<-done
}
