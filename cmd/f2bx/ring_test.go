package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/ringbuf"
)

// TestRingCLI: create a ring, attach "ring read --count", pipe lines in
// with "ring write" (more than the ring holds: the writer waits for the
// reader), stat, remove.
func TestRingCLI(t *testing.T) {
	name := filepath.Join(t.TempDir(), "app")
	out, errs, code := runCLI(t, "ring", "create", name, "--segments", "2", "--lines", "64", "--line-size", "64", "--readers", "2")
	if code != 0 || !strings.Contains(out, "2 segments x 64 lines of 68 bytes") {
		t.Fatalf("create: %q %q %d", out, errs, code)
	}
	const n = 1000
	type result struct {
		out  string
		code int
	}
	read := make(chan result, 1)
	go func() {
		out, _, code := runCLI(t, "ring", "read", name, "--count", fmt.Sprint(n))
		read <- result{out, code}
	}()
	r, err := ringbuf.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(r.Stat().Readers) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("reader not attached")
		}
		time.Sleep(time.Millisecond)
	}
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	var wout, werr bytes.Buffer
	cmd := newRootCmd(&wout, &werr)
	cmd.SetIn(strings.NewReader(in.String()))
	cmd.SetArgs([]string{"ring", "write", name, "--segment", "1"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("write: %v %s", err, werr.String())
	}
	select {
	case res := <-read:
		if res.code != 0 || res.out != in.String() {
			t.Errorf("read: code %d, %d bytes, want %d", res.code, len(res.out), in.Len())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("read did not finish")
	}
	out, _, code = runCLI(t, "ring", "stat", name)
	if code != 0 || !strings.Contains(out, "segment 1: write index 1000, free") || !strings.Contains(out, "readers: 0 attached") {
		t.Errorf("stat: %q", out)
	}
	if _, _, code := runCLI(t, "ring", "remove", name); code != 0 {
		t.Error("remove failed")
	}
	if _, errs, code := runCLI(t, "ring", "stat", name); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("stat after remove: %q %d", errs, code)
	}
}
