package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// failures counts each address's failure lines in the log at path.
func failures(t *testing.T, path string) map[string]int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		if _, rest, ok := strings.Cut(l, "invalid user admin from "); ok {
			n[strings.Fields(rest)[0]]++
		}
	}
	return n
}

// The writer writes rate × duration lines, half of them failures, and
// marks each address once, after the tick that wrote its maxretry-th
// failure line; the parent reads its reports back.
func TestWriterMarksTheMaxretryThFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := newWriter(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := writerSpec{logPath: path, rate: 20000, addrs: 50, dur: 200 * time.Millisecond}
	var report strings.Builder
	report.WriteString("start 1000\n")
	marks := map[int]int{}
	before := map[string]int{} // failures at the end of the last tick
	n, el, err := writeLog(w, spec, func(written int64) {
		before = failures(t, path)
		fmt.Fprintf(&report, "w %d\n", written)
	}, func(a int, tm time.Time) {
		marks[a]++
		if was, is := before[addr(a)], failures(t, path)[addr(a)]; was >= maxRetry || is < maxRetry {
			t.Errorf("address %d marked after a tick that took it from %d to %d failure lines", a, was, is)
		}
		fmt.Fprintf(&report, "m %d %d\n", a, tm.UnixNano())
	})
	w.close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); int64(lines) != n || n < 1000 {
		t.Fatalf("%d lines in the file, %d reported (want about 4000)", lines, n)
	}
	total := failures(t, path)
	for a := range spec.addrs {
		want := 0
		if total[addr(a)] >= maxRetry {
			want = 1
		}
		if marks[a] != want {
			t.Errorf("address %d marked %d times, want %d", a, marks[a], want)
		}
	}
	// The parent reads what the writer process reports.
	fmt.Fprintf(&report, "end %d %d\n", n, el.Nanoseconds())
	r := &writerRun{third: make([]time.Time, spec.addrs)}
	end := r.parse(strings.NewReader(report.String()))
	if end.written != n || end.elapsed != el || !end.start.Equal(time.Unix(0, 1000)) || r.written.Load() != n {
		t.Errorf("parsed end %+v, written %d; want %d lines in %v", end, r.written.Load(), n, el)
	}
	for a := range spec.addrs {
		if r.third[a].IsZero() != (marks[a] == 0) {
			t.Errorf("address %d: parsed mark %v, marked %d times", a, r.third[a], marks[a])
		}
	}
}
