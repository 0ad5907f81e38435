//go:build pcre2 && cgo

package pcre

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// batchLine is a random line added to a Batch.
type batchLine struct {
	s       string
	re, job int
	added   bool
}

// addRandomLines resets b and adds 1 to 40 lines of up to most random
// pieces each (and "\n"), each with a random regex of res; Add must refuse
// exactly those with no regex or not valid UTF-8. It returns the block.
func addRandomLines(t *testing.T, r *rand.Rand, b *Batch, res []*Regexp, pieces []string, most int) ([]byte, []batchLine) {
	t.Helper()
	b.Reset()
	var block []byte
	var lines []batchLine
	for range 1 + r.Intn(40) {
		var sb strings.Builder
		for range r.Intn(most + 1) {
			sb.WriteString(pieces[r.Intn(len(pieces))])
		}
		sb.WriteString("\n")
		l := batchLine{s: sb.String(), re: r.Intn(len(res))}
		l.job, l.added = b.Add(l.s, len(block), l.re)
		block = append(block, l.s...)
		if want := res[l.re] != nil && !strings.Contains(l.s, "\xff"); l.added != want {
			t.Fatalf("Add(%q, regex %d) = %v", l.s, l.re, l.added)
		}
		lines = append(lines, l)
	}
	return block, lines
}

// agree checks a batch's answer for line l (got, ok) against find's on
// the line alone; a line with a "\n" inside has no answer.
func agree[T any](t *testing.T, round int, l batchLine, got T, ok bool, find func() (T, bool)) {
	t.Helper()
	if strings.IndexByte(l.s, '\n') != len(l.s)-1 {
		if ok {
			t.Errorf("round %d: %q (a \"\\n\" inside) answered: %+v", round, l.s, got)
		}
		return
	}
	if want, wok := find(); ok != wok || !reflect.DeepEqual(got, want) {
		t.Errorf("round %d: %q regex %d: %+v %v, want %+v %v", round, l.s, l.re, got, ok, want, wok)
	}
}

// TestBatchAgreesWithFindAfter adds random lines of one block to a Batch,
// each with a random regex (of different group counts), and checks each
// Result against FindAfter on the line alone.
func TestBatchAgreesWithFindAfter(t *testing.T) {
	head := mustCompile(t, `^\s*(?P<mlfid>(?:\S+\s+)?sshd(?:\[\d+\])?:\s+)?[^\n]`)
	res := []*Regexp{
		mustCompile(t, `^Failed password for (?P<user>.*) from (?P<ip4>(?:\d{1,3}\.){3}\d{1,3})(?: port (?P<port>\d+))?\s*(?m:$)`),
		nil, // cannot run in a batch
		mustCompile(t, `^Accepted \w+ for \S+ from (\S+)`),
		mustCompile(t, `x`),
	}
	pieces := []string{"host sshd[1]: ", "sshd: ", "", "é", "Failed password for ", "Accepted key for ", "root", " x from 10.9.9.9",
		" from 192.0.2.1", " port 22", "\n", "\xff", "  "}
	r := rand.New(rand.NewSource(1))
	b := NewBatch(head, res)
	for round := range 50 {
		block, lines := addRandomLines(t, r, b, res, pieces, 5)
		b.Run(block)
		for _, l := range lines {
			if !l.added {
				continue
			}
			if got := b.Regex(l.job); got != l.re {
				t.Fatalf("round %d: job %d's regex %d, want %d", round, l.job, got, l.re)
			}
			got, ok := b.Result(l.job, nil, nil)
			agree(t, round, l, got, ok, func() (After, bool) { return FindAfter(head, res[l.re], l.s, 1, nil, nil) })
		}
	}
}

// TestBatchWithoutHeadAgreesWithFind: a Batch without a head finds on
// each line what FindInto finds on it alone.
func TestBatchWithoutHeadAgreesWithFind(t *testing.T) {
	res := []*Regexp{
		mustCompile(t, `^\s*Invalid request from (?P<ip4>(?:\d{1,3}\.){3}\d{1,3})\s*(?m:$)`),
		nil,
		mustCompile(t, `from (\S+)(?: port (\d+))?`),
	}
	pieces := []string{"Invalid request from ", "10.9.9.9", " port 22", "é", "x", " ", "\n", "\xff"}
	r := rand.New(rand.NewSource(2))
	b := NewBatch(nil, res)
	answered := 0
	for round := range 200 {
		block, lines := addRandomLines(t, r, b, res, pieces, 4)
		b.Run(block)
		for _, l := range lines {
			if !l.added {
				continue
			}
			got, ok := b.Found(l.job, nil)
			if _, rok := b.Result(l.job, nil, nil); rok {
				t.Fatal("a batch without a head has a Result")
			}
			agree(t, round, l, got, ok, func() ([]int, bool) { return res[l.re].FindInto(l.s, nil) })
			if ok && got != nil && strings.IndexByte(l.s, '\n') == len(l.s)-1 {
				answered++
			}
		}
	}
	if answered < 50 {
		t.Fatalf("only %d matches found", answered)
	}
}
