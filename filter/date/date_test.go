package date

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2005, 8, 14, 12, 0, 0, 0, time.UTC)

// sameOnBothEngines checks that a template's RE2 form finds the same date
// span and fields as its regexp2 form (fail2ban's regex) in line.
func sameOnBothEngines(t *testing.T, tp *Template, line string) {
	t.Helper()
	if tp.re2 == nil {
		return
	}
	re2 := tp.re2
	var g1, g2 fields
	s1, e1, ok1 := tp.match(line, &g1)
	tp.re2 = nil
	s2, e2, ok2 := tp.match(line, &g2)
	tp.re2 = re2
	if ok1 != ok2 || s1 != s2 || e1 != e2 {
		t.Fatalf("template %s on %q: re2 (%v %d %d), regexp2 (%v %d %d)", tp.Name, line, ok1, s1, e1, ok2, s2, e2)
	}
	if g1 != g2 {
		t.Fatalf("template %s on %q: fields re2 %q, regexp2 %q", tp.Name, line, g1, g2)
	}
}

func allTemplates(t testing.TB) []*Template {
	d, err := New("", Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	extra := []string{"%Y-%m-%d %H:%M:%S", "{^LN-BEG}%b %d %H:%M:%S", "{UNB}%d/%m/%Y", "^%Y%m%d", "%a %b %d %H:%M:%S %Y", "{^LN-BEG}%ExY-%Exm-%Exd"}
	ts := d.Templates
	for _, p := range extra {
		tp, err := templateFor(p, testNow, 2000)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tp)
	}
	return ts
}

var dateSamples = []string{
	"Aug 14 11:22:33", "Sun Aug 14 11:22:33 2005", "Aug  4 01:02:03.123456", "2005-08-14 11:22:33", "2005/08/14T11:22:33,123 +0200",
	"14/Aug/2005:11:22:33 +0200", "14-08-2005 11:22:33", "08/14/2005:11:22:33", "20050814 11:22:33", "20050814T112233",
	"Aug 14, 2005 1:22:33 PM", "<08/14/05@11:22:33>", "Aug-14-05 11:22:33", "CEST Sun Aug 14 11:22:33", "+0200 Aug 14 11:22:33",
	"1124011353", "@4000000042ff14ad0ad5f7d4", "11:22:33", "Aug 14 11:22:33 2005", "2005-8-14 11:22:33",
}

var surroundings = []string{"", " ", "x", "x ", "[", "(", "\t", "é", "9", "_", ": ", " - ", "ab", "é ", "-", "::"}

// TestRE2FormsAgreeWithRegexp2 runs every template on dates in many
// surroundings, on both engines.
func TestRE2FormsAgreeWithRegexp2(t *testing.T) {
	ts := allTemplates(t)
	r := rand.New(rand.NewSource(1))
	n := 0
	for _, tp := range ts {
		for _, d := range dateSamples {
			for i := 0; i < 20; i++ {
				line := surroundings[r.Intn(len(surroundings))] + d + surroundings[r.Intn(len(surroundings))] + "host sshd[1]: msg"
				sameOnBothEngines(t, tp, line)
				// Long lines take the windowed search.
				sameOnBothEngines(t, tp, line+strings.Repeat(" padding", 20))
				n += 2
			}
		}
	}
	t.Logf("%d template × line pairs agree", n)
}

func FuzzTemplatesRE2(f *testing.F) {
	for _, d := range dateSamples {
		f.Add(d + " host")
	}
	ts := allTemplates(f)
	f.Fuzz(func(t *testing.T, line string) {
		for _, tp := range ts {
			sameOnBothEngines(t, tp, line)
		}
	})
}

func TestDetectorDates(t *testing.T) {
	loc := time.FixedZone("CEST", 2*3600)
	now := time.Date(2005, 8, 14, 12, 0, 0, 0, loc)
	d, err := New("", Options{Now: func() time.Time { return now }, Loc: loc})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line, text, want string
	}{
		{"Aug 14 11:22:33 host sshd[1]: x", "Aug 14 11:22:33", "2005-08-14T11:22:33+02:00"},
		{"Dec 31 23:59:59 host x", "Dec 31 23:59:59", "2004-12-31T23:59:59+02:00"}, // the future belongs to last year
		{"Aug 15 11:00:00 host x", "Aug 15 11:00:00", "2005-08-15T11:00:00+02:00"}, // within a day is this year
		{"2005-08-13 10:00:00 foo", "2005-08-13 10:00:00", "2005-08-13T10:00:00+02:00"},
		{"2005-08-13T10:00:00.123Z foo", "2005-08-13T10:00:00.123Z", "2005-08-13T10:00:00Z"},
		{`1.2.3.4 - - [13/Aug/2005:11:22:33 +0000] "GET /"`, "13/Aug/2005:11:22:33 +0000", "2005-08-13T11:22:33Z"},
		{"[1124011353] x", "1124011353", "2005-08-14T09:22:33Z"},
		{"@4000000042ff14ad0ad5f7d4 x", "@4000000042ff14ad0ad5f7d4", "2005-08-14T09:53:49Z"},
		{"Aug 14, 2005 1:22:33 PM host", "Aug 14, 2005 1:22:33 PM", "2005-08-14T13:22:33+02:00"},
	}
	for _, tc := range tests {
		f, ok := d.Match(tc.line)
		if !ok {
			t.Errorf("%q: no date", tc.line)
			continue
		}
		if got := tc.line[f.Start:f.End]; got != tc.text {
			t.Errorf("%q: date text %q, want %q", tc.line, got, tc.text)
		}
		want, _ := time.Parse(time.RFC3339, tc.want)
		if !f.Time.Equal(want) {
			t.Errorf("%q: %v, want %v", tc.line, f.Time, want)
		}
	}
	if _, ok := d.Match("no date here"); ok {
		t.Error("found a date in a line without one")
	}
}

func TestDatePatterns(t *testing.T) {
	now := func() time.Time { return testNow }
	for _, tc := range []struct {
		pattern, line, text string
	}{
		{"%Y-%m-%d %H:%M:%S", "x 2005-08-14 10:00:00 y", "2005-08-14 10:00:00"},
		{"{^LN-BEG}%Y-%m-%d", "x 2005-08-14 y", ""},
		{"^%d/%m/%Y", "14/08/2005 y", "14/08/2005"},
		{"{UNB}%Y%m%d", "x20050814y", "20050814"},
		{"EPOCH", "1124011353 x", "1124011353"},
		{"{NONE}", "anything", ""},
		{`^[^\[]*\[({DATE})`, "x [14/Aug/2005:11:22:33 +0200] y", "14/Aug/2005:11:22:33 +0200"},
	} {
		d, err := New(tc.pattern, Options{Now: now, Loc: time.UTC})
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		f, ok := d.Match(tc.line)
		got := ""
		if ok {
			got = tc.line[f.Start:f.End]
		}
		if got != tc.text {
			t.Errorf("%s on %q: %q, want %q", tc.pattern, tc.line, got, tc.text)
		}
	}
	for _, bad := range []string{"%Q", "100%", "%Y-%"} {
		if _, err := New(bad, Options{Now: now}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseZone(t *testing.T) {
	for in, want := range map[string]int{"UTC": 0, "CET": 60, "CEST": 120, "+0200": 120, "-05:00": -300, "EST+01": -240, "GMT-02": -120, "": 0} {
		got, err := ParseZone(in)
		if err != nil || got != want {
			t.Errorf("ParseZone(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseZone("Mars/Olympus"); err == nil {
		t.Error("no error for an unknown zone")
	}
}

func ExampleDetector_Match() {
	d, _ := New("", Options{Now: func() time.Time { return testNow }, Loc: time.UTC})
	f, _ := d.Match("Aug 14 11:22:33 host sshd[42]: Failed password")
	fmt.Println(f.Time)
	// Output: 2005-08-14 11:22:33 +0000 UTC
}

// syslogLines are lines around the syslog template's edge cases.
var syslogLines = []string{
	"Aug 14 11:22:33 host", "aug 14 11:22:33", "Sun Aug 14 11:22:33 2005 x", "Sun Aug 14 11:22:33 2105 x",
	"Aug  4 1:2:3", "Aug 04 01:02:03.123456789 x", "Aug 31 23:59:61", "Aug 32 11:22:33", "Aug 3 11:22:33",
	"Aug 14  1:22:33", "[Aug 14 11:22:33]", "::Aug 14 11:22:33", ":::Aug 14 11:22:33", "Aug 14 11:22:33x",
	"Aug 14 11:22:33.x", "Aug 14 11:22:33 20051", "Mon Tue 14 11:22:33", "Aug 14 11:22", "Aug 14 24:00:00",
	"Aug 14 11:22:33_", "Aug 14 11:22:3 ", "Sept 14 11:22:33", "Aug 10 11:22:33", "Aug 0 11:22:33", "Aug 19 3:04:05",
}

// The hand-written syslog matcher agrees with the template's RE2 form.
func TestSyslogMatcherAgreesWithRegex(t *testing.T) {
	tp := syslogTemplate(t)
	for _, l := range syslogLines {
		sameAsRegex(t, tp, l)
		sameAsRegex(t, tp, l+strings.Repeat(" tail", 30))
	}
}

// A line that starts as the last one did takes the last date (the
// matcher's memo) only when the regex agrees: every line after every other,
// with the lines' variants that differ just past the date.
func TestSyslogMatcherMemo(t *testing.T) {
	tp := syslogTemplate(t)
	var lines []string
	for _, l := range syslogLines {
		lines = append(lines, l, l+strings.Repeat(" tail", 30))
	}
	base := "Aug 14 11:22:33"
	for _, tail := range []string{" 2005 host x sshd[1]: a", " 2005host x sshd[1]: a", " host x sshd[1]: abcdef", ".123456 2005 host x: ab",
		".1234567 2005 host x: a", " 20x host x sshd[1]: ab", " 2005 hé x sshd[1]: ab", "é 2005 host x sshd[1]: a", " 2005_host x sshd[1]: a"} {
		lines = append(lines, base+tail, "Sun "+base+tail)
	}
	for _, a := range lines {
		for _, b := range lines {
			tp.fast.(*syslogMatcher).memo.end = 0
			var g fields
			tp.match(a, &g)
			sameAsRegex(t, tp, b)
		}
	}
}

func FuzzSyslogMatcherMemo(f *testing.F) {
	tp := syslogTemplate(f)
	fuzzMemoAgainstRegex(f, tp, func() { tp.fast.(*syslogMatcher).memo.end = 0 },
		[2]string{"Aug 14 11:22:33 2005 host x: a", "Aug 14 11:22:33 20051host x: a"},
		[2]string{"Aug 14 11:22:33.1 host x: aaaa", "Aug 14 11:22:33.1234567 2005 x"})
}

// fuzzMemoAgainstRegex fuzzes a hand-written matcher's memo: line a, then
// line b, which must match as the regex matches it (forget empties the
// memo before a).
func fuzzMemoAgainstRegex(f *testing.F, tp *Template, forget func(), seeds ...[2]string) {
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		forget()
		var g fields
		tp.match(a, &g)
		sameAsRegex(t, tp, b)
	})
}

func syslogTemplate(t testing.TB) *Template {
	tp, err := templateFor(syslogPattern, testNow, 2000)
	if err != nil || tp.fast == nil || tp.re2 == nil {
		t.Fatalf("syslog template: %v", err)
	}
	return tp
}

func sameAsRegex(t *testing.T, tp *Template, line string) {
	t.Helper()
	var g1, g2 fields
	s1, e1, ok1 := tp.match(line, &g1)
	fast := tp.fast
	tp.fast = nil
	s2, e2, ok2 := tp.match(line, &g2)
	tp.fast = fast
	if ok1 != ok2 || s1 != s2 || e1 != e2 || g1 != g2 {
		t.Fatalf("%q: matcher (%v %d %d %q), regex (%v %d %d %q)", line, ok1, s1, e1, g1, ok2, s2, e2, g2)
	}
}

func FuzzSyslogMatcher(f *testing.F) { fuzzAgainstRegex(f, syslogTemplate(f), syslogLines) }

// fuzzAgainstRegex fuzzes a template's hand-written matcher against its
// regex, from seed lines.
func fuzzAgainstRegex(f *testing.F, tp *Template, seeds []string) {
	for _, l := range seeds {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		sameAsRegex(t, tp, line)
	})
}

// FuzzDatePattern builds detectors from arbitrary datepatterns and runs
// them: an error or a working detector, no panic, no hang.
func FuzzDatePattern(f *testing.F) {
	for _, p := range []string{"%Y-%m-%d %H:%M:%S", "{^LN-BEG}%b %d", "^[^\\[]*\\[({DATE})", "EPOCH", "{UNB}%ExY%Exm%Exd", "%%%", "%Ez", "(?P<x>"} {
		f.Add(p, "2005-08-14 11:22:33 [14/Aug/2005:11:22:33 +0200] 1124011353")
	}
	f.Fuzz(func(t *testing.T, pattern, line string) {
		d, err := New(pattern, Options{Now: func() time.Time { return testNow }, Loc: time.UTC})
		if err != nil {
			return
		}
		if fd, ok := d.Match(line); ok && (fd.Start < 0 || fd.End > len(line) || fd.Start > fd.End) {
			t.Fatalf("%q on %q: span %d..%d", pattern, line, fd.Start, fd.End)
		}
	})
}
