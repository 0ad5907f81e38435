//go:build pcre2 && cgo

package pcre

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

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
		b.Reset()
		var block []byte
		type line struct {
			s         string
			start, re int
			job       int
			added     bool
		}
		var lines []line
		for range 1 + r.Intn(40) {
			var sb strings.Builder
			for range r.Intn(6) {
				sb.WriteString(pieces[r.Intn(len(pieces))])
			}
			sb.WriteString("\n")
			l := line{s: sb.String(), start: len(block), re: r.Intn(len(res))}
			block = append(block, l.s...)
			l.job, l.added = b.Add(l.s, l.start, l.re)
			if want := res[l.re] != nil && !strings.Contains(l.s, "\xff"); l.added != want {
				t.Fatalf("round %d: Add(%q, regex %d) = %v", round, l.s, l.re, l.added)
			}
			lines = append(lines, l)
		}
		b.Run(block)
		for _, l := range lines {
			if !l.added {
				continue
			}
			if got := b.Regex(l.job); got != l.re {
				t.Fatalf("round %d: job %d's regex %d, want %d", round, l.job, got, l.re)
			}
			got, ok := b.Result(l.job, nil, nil)
			if strings.IndexByte(l.s, '\n') != len(l.s)-1 {
				if ok {
					t.Errorf("round %d: %q (a \"\\n\" inside) answered: %+v", round, l.s, got)
				}
				continue
			}
			want, wok := FindAfter(head, res[l.re], l.s, 1, nil, nil)
			if ok != wok || !reflect.DeepEqual(got, want) {
				t.Errorf("round %d: %q regex %d: %+v %v, want %+v %v", round, l.s, l.re, got, ok, want, wok)
			}
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
		b.Reset()
		var block []byte
		type line struct {
			s       string
			re, job int
			added   bool
		}
		var lines []line
		for range 1 + r.Intn(40) {
			var sb strings.Builder
			for range r.Intn(5) {
				sb.WriteString(pieces[r.Intn(len(pieces))])
			}
			sb.WriteString("\n")
			l := line{s: sb.String(), re: r.Intn(len(res))}
			l.job, l.added = b.Add(l.s, len(block), l.re)
			block = append(block, l.s...)
			lines = append(lines, l)
		}
		b.Run(block)
		for _, l := range lines {
			if !l.added {
				continue
			}
			got, ok := b.Found(l.job, nil)
			if _, rok := b.Result(l.job, nil, nil); rok {
				t.Fatal("a batch without a head has a Result")
			}
			if strings.IndexByte(l.s, '\n') != len(l.s)-1 {
				if ok {
					t.Errorf("round %d: %q (a \"\\n\" inside) answered: %v", round, l.s, got)
				}
				continue
			}
			want, wok := res[l.re].FindInto(l.s, nil)
			if ok != wok || !reflect.DeepEqual(got, want) {
				t.Errorf("round %d: %q regex %d: %v %v, want %v %v", round, l.s, l.re, got, ok, want, wok)
			}
			if ok && got != nil {
				answered++
			}
		}
	}
	if answered < 50 {
		t.Fatalf("only %d matches found", answered)
	}
}
