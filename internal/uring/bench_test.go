package uring

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkRead compares reading cached files in 256 KiB blocks, 16
// files a round, through one io_uring submission and through pread.
func BenchmarkRead(b *testing.B) {
	const block, files = 256 << 10, 16
	dir := b.TempDir()
	data := make([]byte, 4<<20)
	var fds []int
	for i := range files {
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		fds = append(fds, int(f.Fd()))
	}
	reads := make([]Read, files)
	for i := range reads {
		reads[i] = Read{Fd: fds[i], Buf: make([]byte, block)}
	}
	b.Run("uring", func(b *testing.B) {
		r := newRing(b, files)
		b.SetBytes(block * files)
		for i := 0; b.Loop(); i++ {
			for j := range reads {
				reads[j].Off = int64(i%16) * block
			}
			if err := r.ReadAt(reads); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pread", func(b *testing.B) {
		b.SetBytes(block * files)
		for i := 0; b.Loop(); i++ {
			for j := range reads {
				unix.Pread(reads[j].Fd, reads[j].Buf, int64(i%16)*block)
			}
		}
	})
}
