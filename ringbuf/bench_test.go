package ringbuf

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// BenchmarkRing moves lines from writers to readers (goroutines here,
// shared memory all the same) in batches of 64 through a lossless ring:
// 1 and 2 writers, 1 and 2 readers (each reader sees every line). The
// figure is lines written per second ("lines/s"), each delivered to every
// reader.
func BenchmarkRing(b *testing.B) {
	line := []byte("Nov 22 10:00:00 host sshd[1234]: Failed password for invalid user admin from 10.0.0.1 port 22 ssh2")
	for _, writers := range []int{1, 2} {
		for _, readers := range []int{1, 2} {
			b.Run(fmt.Sprintf("writers=%d/readers=%d", writers, readers), func(b *testing.B) {
				r, err := Create(filepath.Join(b.TempDir(), "ring"), Options{Segments: writers, Lines: 1 << 14, LineSize: 128, Readers: readers})
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				rds := make([]*Reader, readers)
				for i := range rds {
					rds[i], _ = r.NewReader()
				}
				per := b.N / writers
				batch := make([][]byte, 64)
				for i := range batch {
					batch[i] = line
				}
				b.ResetTimer()
				var wg sync.WaitGroup
				for range writers {
					w, _ := r.NewWriter(-1)
					wg.Go(func() {
						for left := per; left > 0; {
							n, _ := w.WriteV(batch[:min(len(batch), left)])
							left -= n
							if n == 0 {
								runtime.Gosched() // full: let the readers run
							}
						}
					})
				}
				for _, rd := range rds {
					wg.Go(func() {
						var l Lines
						for got := 0; got < per*writers; {
							l.Reset()
							n := rd.ReadRange(0, writers, 256, false, &l)
							got += n
							if n == 0 {
								runtime.Gosched() // empty: let the writers run
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "lines/s")
			})
		}
	}
}

// BenchmarkFirstPass writes a fresh ring's segment full (64 MiB, 65,536
// slots) and reads it, through a writer's and a reader's mapping, as
// ns/line: "fresh" as mapped, "prefaulted" after Prefault on both (not
// timed), "second" on the pass after a first one.
func BenchmarkFirstPass(b *testing.B) {
	line := []byte("Nov 22 10:00:00 host sshd[1234]: Failed password for invalid user admin from 10.0.0.1 port 22 ssh2")
	batch := make([][]byte, 1024)
	for i := range batch {
		batch[i] = line
	}
	for _, mode := range []string{"fresh", "prefaulted", "second"} {
		b.Run(mode, func(b *testing.B) {
			lines := 0
			for range b.N {
				b.StopTimer()
				name := fmt.Sprintf("f2bxbench-%d", os.Getpid())
				wr, err := Create(name, Options{Segments: 1})
				if err != nil {
					b.Fatal(err)
				}
				rr, err := Open(name)
				if err != nil {
					b.Fatal(err)
				}
				w, _ := wr.NewWriter(0)
				rd, _ := rr.NewReader()
				var l Lines
				pass := func() {
					for n := 0; n < int(wr.g.lines); n += len(batch) {
						w.WriteV(batch)
						for l.Reset(); rd.ReadV(0, len(batch), &l) > 0; l.Reset() {
						}
					}
				}
				switch mode {
				case "prefaulted":
					wr.Prefault()
					rr.Prefault()
				case "second":
					pass()
				}
				b.StartTimer()
				pass()
				lines += int(wr.g.lines)
				b.StopTimer()
				rr.Close()
				wr.Close()
				Remove(name)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
		})
	}
}
