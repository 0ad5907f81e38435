package filter

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/filter/date"
	"github.com/f2bx/f2bx/filter/pcre"
	"github.com/f2bx/f2bx/tests/bench/sshdlog"
)

// groupFilters are two filters reading the same log: f2bx's sshd and a
// custom one that counts only "Invalid user" lines, with an undated line
// in between (which takes the last date).
func groupFilters(t *testing.T) []*Filter {
	t.Helper()
	c, err := native.LoadFilter([]native.Layer{{Name: "embedded", FS: f2bx.Defaults}}, "sshd")
	if err != nil {
		t.Fatal(err)
	}
	var fs []*Filter
	for _, c := range []config.Filter{c, {FailRegex: []string{`sshd\[\d+\]: Invalid user \S+ from <HOST>`}, UseDNS: "no"}} {
		f, err := New(c, Options{Now: func() time.Time { return now }, Loc: time.UTC, InOperation: true})
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	return fs
}

func groupLines() []string {
	data := sshdlog.Generate(sshdlog.Spec{Lines: 3000, Failures: 0.3, Addresses: 200, IPv6: 0.1, Start: now.Add(-time.Hour), Seed: 7})
	var lines []string
	for i, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		lines = append(lines, string(l))
		if i%97 == 0 {
			lines = append(lines, "sshd[1]: Invalid user nodate from 192.0.2.77")
		}
		// Sessions that span batches: the address first, a failure
		// without one 40 lines later.
		if i%50 == 0 {
			lines = append(lines, fmt.Sprintf("server sshd[%d]: Connection from 192.0.2.%d port 5022 on 10.0.0.1 port 22", 70000+i, i%250))
		}
		if i%50 == 40 {
			lines = append(lines, fmt.Sprintf("server sshd[%d]: Disconnecting: Too many authentication failures [preauth]", 70000+i-40))
		}
	}
	return lines
}

// result is one failure as the tests compare them.
type result struct {
	Filter, Line int
	ID, User     string
	Time         time.Time
}

// A group's results are each filter's own, line by line.
func TestGroupMatchesEachFilterAlone(t *testing.T) {
	lines := groupLines()
	var want []result
	for fi, f := range groupFilters(t) {
		for i, l := range lines {
			for _, r := range f.ProcessLine(l) {
				want = append(want, result{fi, i, r.ID, r.Fields.Str("user"), r.Time})
			}
		}
	}
	g, err := NewGroup(groupFilters(t)...)
	if err != nil {
		t.Fatal(err)
	}
	var got []result
	for s := 0; s < len(lines); s += 256 {
		err := g.ProcessLines(lines[s:min(s+256, len(lines))], func(fi, i int, fs []Failure) {
			for _, r := range fs {
				got = append(got, result{fi, s + i, r.ID, r.Fields.Str("user"), r.Time})
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sortResults(got)
	sortResults(want)
	if len(want) < 500 {
		t.Fatalf("only %d failures in the sample", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("group: %d failures, filters alone: %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
}

// Batches prepared in order, searched on clones concurrently and merged in
// order give what one group gives sequentially, undated lines and
// multi-line sessions included.
func TestGroupClonesMatchConcurrently(t *testing.T) {
	lines := groupLines()
	seq, err := NewGroup(groupFilters(t)...)
	if err != nil {
		t.Fatal(err)
	}
	var want []result
	for s := 0; s < len(lines); s += 128 {
		seq.ProcessLines(lines[s:min(s+128, len(lines))], func(fi, i int, fs []Failure) {
			for _, r := range fs {
				want = append(want, result{fi, s + i, r.ID, r.Fields.Str("user"), r.Time})
			}
		})
	}
	g, err := NewGroup(groupFilters(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Parallel() {
		t.Fatal("one-line filters are not parallel")
	}
	var clones [3]*Group
	for i := range clones {
		if clones[i], err = g.Clone(); err != nil {
			t.Fatal(err)
		}
	}
	type batch struct {
		start    int
		p        *Prepared
		searched chan error
	}
	var wg sync.WaitGroup
	work := make(chan *batch)
	for _, c := range clones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.searched <- c.Search(b.p)
			}
		}()
	}
	// Prepare in order, search on the clones, merge in order.
	var batches []*batch
	for s := 0; s < len(lines); s += 128 {
		b := &batch{s, new(Prepared), make(chan error, 1)}
		g.Prepare(lines[s:min(s+128, len(lines))], b.p)
		batches = append(batches, b)
	}
	go func() {
		for _, b := range batches {
			work <- b
		}
		close(work)
	}()
	var got []result
	for _, b := range batches {
		if err := <-b.searched; err != nil {
			t.Fatal(err)
		}
		g.Merge(b.p, func(fi, i int, fs []Failure) {
			for _, r := range fs {
				got = append(got, result{fi, b.start + i, r.ID, r.Fields.Str("user"), r.Time})
			}
		})
	}
	wg.Wait()
	sessions := 0
	for _, r := range want {
		if strings.HasPrefix(lines[r.Line], "server sshd[7") && strings.Contains(lines[r.Line], "Disconnecting") {
			sessions++
		}
	}
	if sessions < 50 {
		t.Fatalf("only %d failures from sessions", sessions)
	}
	sortResults(got)
	sortResults(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("clones: %d failures, sequential: %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
}

// Filters that search a buffer of lines are not parallel; sessions are
// merged in order, so a one-line filter with them is.
func TestGroupParallel(t *testing.T) {
	for _, tc := range []struct {
		c        config.Filter
		parallel bool
	}{
		{config.Filter{FailRegex: []string{`^fail <HOST>$`}, MaxLines: 2}, false},
		{config.Filter{PrefRegex: `^<F-MLFID>s\d+</F-MLFID>: <F-CONTENT>.+</F-CONTENT>$`, FailRegex: []string{`^from <HOST>$`}}, true},
		{config.Filter{FailRegex: []string{`^fail <HOST>$`}}, true},
	} {
		g, err := NewGroup(newFilter(t, tc.c))
		if err != nil {
			t.Fatal(err)
		}
		if g.Parallel() != tc.parallel {
			t.Errorf("%+v: parallel %v", tc.c, g.Parallel())
		}
	}
}

func sortResults(rs []result) {
	less := func(a, b result) bool {
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Filter != b.Filter {
			return a.Filter < b.Filter
		}
		return a.ID < b.ID
	}
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && less(rs[j], rs[j-1]); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func firstDiff(a, b []result) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%+v / %+v", a[i], b[i])
		}
	}
	return "length"
}

// Hits that only end a session are merged lazily (their fields built only
// when the session exists): the batch path must find, line for line, what
// the line-by-line path finds, with sessions that do and do not exist,
// across batches whose blocks are reused.
func TestLazySessionEndsMatchLineByLine(t *testing.T) {
	c := config.Filter{
		PrefRegex: `^\s*<F-MLFID>\S+\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex: []string{
			`^fail <F-USER>\S+</F-USER> from <HOST>$`,
			`^<F-NOFAIL><F-MLFFORGET>closed</F-MLFFORGET></F-NOFAIL> by <HOST>$`,
			`^<F-MLFFORGET><F-MLFGAINED>accepted</F-MLFGAINED></F-MLFFORGET> <F-USER>\S+</F-USER> from <HOST>$`,
			`^<F-NOFAIL>hello</F-NOFAIL> from <HOST>$`,
		},
	}
	batch, single := newFilter(t, c), newFilter(t, c)
	r := rand.New(rand.NewPCG(7, 9))
	var lines []string
	for i := range 3000 {
		pid, host := r.IntN(6), fmt.Sprintf("192.0.2.%d", r.IntN(4)+1)
		user := []string{"root", "bob", "x y"}[r.IntN(3)]
		var msg string
		switch r.IntN(4) {
		case 0:
			msg = "fail " + strings.ReplaceAll(user, " ", "_") + " from " + host
		case 1:
			msg = "closed by " + host
		case 2:
			msg = "accepted " + strings.ReplaceAll(user, " ", "_") + " from " + host
		case 3:
			msg = "hello from " + host
		}
		lines = append(lines, fmt.Sprintf("2005-08-14 11:%02d:%02d app[%d]: %s", i/60%60, i%60, pid, msg))
	}
	key := func(fs []Failure) string {
		var b strings.Builder
		for _, f := range fs {
			fmt.Fprintf(&b, "%s %v %q %q %q; ", f.ID, f.NoFail(), f.Fields.Str("user"), f.Fields.Strings("users"), f.Fields.Strings("matches"))
		}
		return b.String()
	}
	var got, want []string
	for s := 0; s < len(lines); {
		n := 1 + r.IntN(300)
		chunk := lines[s:min(s+n, len(lines))]
		err := batch.ProcessLines(chunk, func(i int, fs []Failure) { got = append(got, fmt.Sprint(s+i, ": ", key(fs))) })
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range chunk {
			if fs := single.ProcessLine(l); len(fs) > 0 {
				want = append(want, fmt.Sprint(s+i, ": ", key(fs)))
			}
		}
		s += len(chunk)
	}
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("first difference, batch:\n%s\nline by line:\n%s", got[i], want[i])
			}
		}
		t.Fatalf("batch found %d lines with failures, line by line %d", len(got), len(want))
	}
	if !slices.Equal(batch.FailCounts, single.FailCounts) {
		t.Errorf("hits per regex: batch %v, line by line %v", batch.FailCounts, single.FailCounts)
	}
	if len(got) < 100 {
		t.Errorf("only %d lines with failures", len(got))
	}
}

// FuzzBatchMatchesLineByLine runs f2bx's own sshd filter over the lines of
// an arbitrary text twice: in one batch (the prefilter, the regexes run
// for the whole block in one call into C, lazy session ends) and line by
// line. Both must find the same failures, with the same fields and
// matched lines.
func FuzzBatchMatchesLineByLine(f *testing.F) {
	for _, s := range []string{
		"Aug 14 11:00:00 host sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2\n" +
			"Aug 14 11:00:01 host sshd[1]: Received disconnect from 192.0.2.1 port 22:11: bye\n" +
			"Aug 14 11:00:02 host sshd[2]: Accepted publickey for bob from 192.0.2.2 port 22 ssh2\n" +
			"Aug 14 11:00:03 host sshd[2]: Failed password for invalid user x from 10.9.9.9 port 22 from 192.0.2.3 port 4 ssh2",
		"Aug 14 11:00:00 host sshd[3]: Invalid user é from 2001:db8::1 port 22\nAug 14 11:00:00 host sshd[3]: Disconnecting: Too many authentication failures [preauth]",
		"Aug 14 11:00:00 host sshd[4]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.4  user=root\n\xff\nAug 14 11:00:00 host sshd[4]: Connection closed by 192.0.2.4 port 5 [preauth]",
	} {
		f.Add(s)
	}
	c, err := native.LoadFilter([]native.Layer{{Name: "embedded", FS: f2bx.Defaults}}, "sshd")
	if err != nil {
		f.Fatal(err)
	}
	opts := Options{Now: func() time.Time { return now }, Loc: time.UTC}
	key := func(fs []Failure) string {
		var b strings.Builder
		for _, f := range fs {
			fmt.Fprintf(&b, "%s %v %v %s; ", f.ID, f.NoFail(), f.Time, f.Fields)
		}
		return b.String()
	}
	// Compiling the filter is slow under the fuzzer's instrumentation:
	// each input gets two fresh copies of one compiled filter (no state
	// of its own but the date detector, made anew).
	base, err := New(c, opts)
	if err != nil {
		f.Fatal(err)
	}
	fresh := func(t *testing.T) *Filter {
		g, err := base.clone()
		if err != nil {
			t.Fatal(err)
		}
		if g.Dates, err = date.New(c.DatePattern, date.Options{Now: opts.Now, Loc: opts.Loc}); err != nil {
			t.Fatal(err)
		}
		return g
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines := strings.Split(text, "\n")
		batch, single := fresh(t), fresh(t)
		got := map[int]string{}
		if err := batch.ProcessLines(lines, func(i int, fs []Failure) { got[i] = key(fs) }); err != nil {
			t.Fatal(err)
		}
		for i, l := range lines {
			want := ""
			if fs := single.ProcessLine(l); len(fs) > 0 {
				want = key(fs)
			}
			if got[i] != want {
				t.Fatalf("line %d %q:\nbatch:        %s\nline by line: %s", i, l, got[i], want)
			}
		}
	})
}

// A group that lends its failures (Lend) finds what one that does not
// finds, fields and matched lines included, with one Prepared reused for
// every batch (a filter with sessions does not lend); failures not lent
// stay valid after their batch; a lending filter's batch, once its memory
// has grown, allocates nothing.
func TestGroupLendsFailures(t *testing.T) {
	lines := groupLines()
	type kept struct {
		f    Failure
		line int
		text string
	}
	format := func(fi, line int, r Failure) string {
		return fmt.Sprint(fi, " ", line, " ", r.ID, " ", r.Addr, " ", r.Time.Unix(), " ", r.Fields)
	}
	run := func(lend bool) (all []string, owned []kept) {
		g, err := NewGroup(groupFilters(t)...)
		if err != nil {
			t.Fatal(err)
		}
		g.Lend = lend
		if lends := []bool{g.Filters[0].lends, g.Filters[1].lends}; !slices.Equal(lends, []bool{false, true}) {
			t.Fatalf("lends %v: sshd has sessions, the other filter none", lends)
		}
		var p Prepared
		for s := 0; s < len(lines); s += 200 {
			g.Prepare(lines[s:min(s+200, len(lines))], &p)
			err := g.Match(&p, func(fi, i int, fs []Failure) {
				for _, r := range fs {
					text := format(fi, s+i, r)
					all = append(all, text)
					if fi == 1 && !lend {
						owned = append(owned, kept{r, s + i, text})
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return all, owned
	}
	want, owned := run(false)
	got, _ := run(true)
	if len(want) < 500 || !slices.Equal(got, want) {
		t.Fatalf("lent: %d failures, not lent: %d", len(got), len(want))
	}
	for _, k := range owned {
		if text := format(1, k.line, k.f); text != k.text {
			t.Fatalf("a failure not lent changed after its batch: %q, now %q", k.text, text)
		}
	}

	flood, err := NewGroup(newFilter(t, config.Filter{FailRegex: []string{`^\s*Invalid request from <ADDR>\s*$`}}))
	if err != nil {
		t.Fatal(err)
	}
	flood.Lend = true
	batch := make([]string, 256)
	for i := range batch {
		batch[i] = fmt.Sprintf("2026-11-23 08:41:01.%06d Invalid request from 10.77.1.%d", i, 1+i%254)
	}
	var p Prepared
	n := 0
	count := func(_, _ int, fs []Failure) { n += len(fs) }
	// Without PCRE2, Go's regexp allocates each match's offsets.
	most := 0.0
	if !pcre.Available {
		most = float64(len(batch))
	}
	if allocs := testing.AllocsPerRun(20, func() {
		flood.Prepare(batch, &p)
		if err := flood.Match(&p, count); err != nil {
			t.Fatal(err)
		}
	}); allocs > most || n < 20*len(batch) {
		t.Errorf("a lent batch of %d lines: %v allocations (at most %v), %d failures", len(batch), allocs, most, n)
	}
}
