package uring

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func newRing(t testing.TB, n uint32) *Ring {
	t.Helper()
	r, err := New(n)
	if errors.Is(err, ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestReadsManyFiles reads parts of more files than the ring takes in
// one submission, at offsets, past the end and from a bad descriptor.
func TestReadsManyFiles(t *testing.T) {
	r := newRing(t, 8)
	dir := t.TempDir()
	var reads []Read
	var want [][]byte
	for i := range 21 {
		content := bytes.Repeat([]byte(fmt.Sprintf("file %02d line\n", i)), i+1)
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		off := int64(i % 3)
		reads = append(reads, Read{Fd: int(f.Fd()), Off: off, Buf: make([]byte, 40)})
		end := min(int64(len(content)), off+40)
		want = append(want, content[off:end])
	}
	reads = append(reads, Read{Fd: int(reads[0].Fd), Off: 1 << 20, Buf: make([]byte, 10)}, Read{Fd: -1, Buf: make([]byte, 10)})
	if err := r.ReadAt(reads); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		rd := reads[i]
		if rd.Err != nil || !bytes.Equal(rd.Buf[:rd.N], w) {
			t.Errorf("read %d: %q, %v; want %q", i, rd.Buf[:rd.N], rd.Err, w)
		}
	}
	if past := reads[len(want)]; past.N != 0 || past.Err != nil {
		t.Errorf("read past the end: %d, %v", past.N, past.Err)
	}
	if bad := reads[len(want)+1]; !errors.Is(bad.Err, syscall.EBADF) {
		t.Errorf("bad descriptor: %v, want EBADF", bad.Err)
	}
	// The ring is reusable: a second round sees appended data.
	if err := r.ReadAt(reads[:1]); err != nil || reads[0].N != len(want[0]) {
		t.Errorf("second round: %d, %v", reads[0].N, err)
	}
}
