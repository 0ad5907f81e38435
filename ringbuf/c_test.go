package ringbuf

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildCExample compiles c/example.c (the header-only C writer behind a
// command that writes each line of its stdin), or skips without gcc.
func buildCExample(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	bin := filepath.Join(t.TempDir(), "example")
	if out, err := exec.Command(gcc, "-Wall", "-Wextra", "-Werror", "-O2", "-o", bin, "c/example.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// TestCWriter compiles ringbuf/c/example.c (the header-only C writer)
// with gcc, pipes numbered lines through it into a small lossless ring,
// and reads every one here, in order; the header's checksum agrees with
// Go's (the C side refuses a ring otherwise).
func TestCWriter(t *testing.T) {
	bin := buildCExample(t)
	r, name := newRing(t, Options{Segments: 2, Lines: 64, LineSize: 40, Readers: 1})
	rd, _ := r.NewReader()
	const n = 20000
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "c line %d\n", i)
	}
	in.WriteString(strings.Repeat("y", 100) + "\n")
	cmd := exec.Command(bin, name, "1")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got []string
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var l Lines
	deadline := time.Now().Add(30 * time.Second)
	for finished := false; ; {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%d lines after 30s", len(got))
		}
		l.Reset()
		rd.ReadV(1, 256, &l)
		got = append(got, l.Strings()...)
		if finished && l.Len() == 0 {
			break
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("C writer: %v: %s", err, stderr.String())
			}
			finished = true
		default:
		}
	}
	if len(got) != n+1 {
		t.Fatalf("%d lines, want %d", len(got), n+1)
	}
	for i := range n {
		if got[i] != fmt.Sprintf("c line %d", i) {
			t.Fatalf("line %d: %q", i, got[i])
		}
	}
	if got[n] != strings.Repeat("y", r.LineSize()) {
		t.Errorf("long line: %q", got[n])
	}
	// A corrupted header is refused by the C side too.
	r.mem[offLines]++
	out, err := exec.Command(bin, name).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Invalid argument") {
		t.Errorf("C writer on a corrupt ring: %v, %s", err, out)
	}
}
