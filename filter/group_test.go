package filter

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
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
