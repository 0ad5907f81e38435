package ringbuf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader overwrites a ring's shared memory (indices, lengths, lines,
// reader table) with arbitrary bytes, as a broken or hostile writer
// could, then reads: no panic, no endless loop, lines no longer than the
// line size.
func FuzzReader(f *testing.F) {
	f.Add(0, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add(64, []byte{0x10, 0, 0, 0, 0, 0, 0, 0})
	f.Add(128, []byte("\xff\xff\xff\x7fxxxx"))
	f.Fuzz(func(t *testing.T, at int, junk []byte) {
		name := filepath.Join(t.TempDir(), "ring")
		r, err := Create(name, Options{Segments: 2, Lines: 8, LineSize: 16, Readers: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		rd, _ := r.NewReader()
		w, _ := r.NewWriter(0)
		for range 5 {
			w.Write([]byte("hello"))
		}
		seg := int(r.segment(0))
		if at < 0 {
			at = -at
		}
		at = seg + at%(len(r.mem)-seg)
		copy(r.mem[at:], junk)
		var l Lines
		for range 10 {
			l.Reset()
			rd.ReadRange(0, 2, 64, true, &l)
			for i := range l.Len() {
				if len(l.Line(i)) > r.LineSize() {
					t.Fatalf("line of %d bytes", len(l.Line(i)))
				}
			}
		}
		w.Write([]byte("after"))
		r.Stat()
	})
}

// FuzzOpen: any file is refused or opened, never a panic.
func FuzzOpen(f *testing.F) {
	r, _ := Create(filepath.Join(f.TempDir(), "seed"), Options{Segments: 1, Lines: 8, LineSize: 16, Readers: 1})
	f.Add(append([]byte(nil), r.mem...))
	r.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "ring")
		os.WriteFile(p, data, 0o600)
		if r, err := Open(p); err == nil {
			r.Close()
		}
	})
}
