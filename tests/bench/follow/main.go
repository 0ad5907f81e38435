// Command follow measures how fast f2bx's log follower delivers lines,
// reading through io_uring and through pread in the same run, on one
// large file and on 1,000 small ones, with nxadm/tail (one follower per
// file, as its API offers) as the peer on the single file. Everything
// runs on one core (GOMAXPROCS=1), the consumer included.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/nxadm/tail"
	"golang.org/x/sys/unix"

	"github.com/f2bx/f2bx/source"
	"github.com/f2bx/f2bx/source/file"
)

func main() {
	lines := flag.Int("lines", 3_000_000, "lines in the single file")
	files := flag.Int("files", 1000, "files in the many-files run")
	perFile := flag.Int("per-file", 3000, "lines per file in the many-files run")
	rounds := flag.Int("rounds", 3, "runs per method (the best is printed)")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	dir, err := os.MkdirTemp("", "f2bx-follow-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	one := filepath.Join(dir, "one", "auth.log")
	must(writeLog(one, 0, *lines))
	var many []string
	for i := range *files {
		p := filepath.Join(dir, "many", fmt.Sprintf("app%04d.log", i))
		must(writeLog(p, i**perFile, *perFile))
		many = append(many, p)
	}
	unix.Sync() // no writeback under way while measuring
	fmt.Printf("log follower, one core (GOMAXPROCS=1), best of %d runs\n", *rounds)
	fmt.Printf("  %-44s %10s %12s\n", "", "M lines/s", "CPU ns/line")
	report := func(name string, n int, run func() (time.Duration, time.Duration, error)) float64 {
		best, bestCPU := time.Duration(1<<62), time.Duration(0)
		for range *rounds {
			wall, cpu, err := run()
			must(err)
			if wall < best {
				best, bestCPU = wall, cpu
			}
		}
		rate := float64(n) / best.Seconds() / 1e6
		fmt.Printf("  %-44s %10.2f %12.0f\n", name, rate, float64(bestCPU.Nanoseconds())/float64(n))
		return rate
	}
	u1 := report(fmt.Sprintf("1 file, %dM lines, io_uring", *lines/1e6), *lines, func() (time.Duration, time.Duration, error) {
		return follow([]file.Path{{Glob: one}}, file.ReaderURing, *lines)
	})
	p1 := report(fmt.Sprintf("1 file, %dM lines, pread", *lines/1e6), *lines, func() (time.Duration, time.Duration, error) {
		return follow([]file.Path{{Glob: one}}, file.ReaderPread, *lines)
	})
	t1 := report(fmt.Sprintf("1 file, %dM lines, nxadm/tail", *lines/1e6), *lines, func() (time.Duration, time.Duration, error) {
		return nxadm([]string{one}, *lines)
	})
	glob := []file.Path{{Glob: filepath.Join(dir, "many", "*.log")}}
	total := *files * *perFile
	name := fmt.Sprintf("%d files x %d lines", *files, *perFile)
	um := report(name+", io_uring", total, func() (time.Duration, time.Duration, error) {
		return follow(glob, file.ReaderURing, total)
	})
	pm := report(name+", pread", total, func() (time.Duration, time.Duration, error) {
		return follow(glob, file.ReaderPread, total)
	})
	tm := report(name+", nxadm/tail", total, func() (time.Duration, time.Duration, error) {
		return nxadm(many, total)
	})
	fmt.Printf("  ratios: 1 file io_uring/pread %.2fx, io_uring/nxadm %.1fx; %d files io_uring/pread %.2fx, io_uring/nxadm %.1fx\n",
		u1/p1, u1/t1, *files, um/pm, um/tm)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// writeLog writes n sshd-like lines numbered from first.
func writeLog(path string, first, n int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Nov 22 10:00:00 host sshd[%d]: Failed password for invalid user admin from 10.%d.%d.%d port 22 ssh2\n",
			1000+i%30000, (first+i)>>16&255, (first+i)>>8&255, (first+i)&255)
		if b.Len() > 1<<20 {
			if _, err := io.WriteString(f, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if _, err := io.WriteString(f, b.String()); err != nil {
		return err
	}
	return f.Close()
}

func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// follow runs f2bx's follower from the head until want lines arrived.
func follow(paths []file.Path, reader string, want int) (time.Duration, time.Duration, error) {
	f, err := file.New(file.Options{Paths: paths, Reader: reader})
	if err != nil {
		return 0, 0, err
	}
	if f.ReaderName() != reader {
		return 0, 0, fmt.Errorf("reader %s unavailable", reader)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan source.Batch, 4)
	done := make(chan error, 1)
	c0, t0 := cpuTime(), time.Now()
	go func() { done <- f.Run(ctx, out) }()
	got := 0
	for got < want {
		b := <-out
		got += len(b.Lines)
	}
	wall, cpu := time.Since(t0), cpuTime()-c0
	cancel()
	return wall, cpu, <-done
}

// nxadm follows the files with nxadm/tail until want lines arrived.
func nxadm(paths []string, want int) (time.Duration, time.Duration, error) {
	c0, t0 := cpuTime(), time.Now()
	agg := make(chan *tail.Line, 1024)
	var ts []*tail.Tail
	for _, p := range paths {
		t, err := tail.TailFile(p, tail.Config{Follow: true, ReOpen: true, CompleteLines: true, Logger: tail.DiscardingLogger})
		if err != nil {
			return 0, 0, err
		}
		ts = append(ts, t)
		go func() {
			for l := range t.Lines {
				agg <- l
			}
		}()
	}
	for got := 0; got < want; got++ {
		<-agg
	}
	wall, cpu := time.Since(t0), cpuTime()-c0
	for _, t := range ts {
		t.Stop()
	}
	return wall, cpu, nil
}
