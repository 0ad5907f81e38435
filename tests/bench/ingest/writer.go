package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f2bx/f2bx/ringbuf"
)

// The writer runs in a process of its own, as an application writing its
// log would: its CPU time, memory and collector are not the daemon's, and
// the system, not the daemon's Go scheduler, shares the CPUs between them.
// This program starts it as "ingest writer ...". It reports on its
// standard output, one line each: "start T" when it begins writing (Unix
// ns), "w N" after each tick (N lines written so far), "m A T" for each address A whose maxretry-th failure line was
// written at T (Unix ns), and, last, "end N D" (N lines in D ns).

// writerSpec is what the writer process writes.
type writerSpec struct {
	logPath, ring string // the file, or the ring's name when set
	rate, addrs   int
	dur           time.Duration
}

func (s writerSpec) args() []string {
	return []string{"writer", "-log", s.logPath, "-ring", s.ring, "-rate", strconv.Itoa(s.rate),
		"-addrs", strconv.Itoa(s.addrs), "-seconds", strconv.FormatFloat(s.dur.Seconds(), 'f', -1, 64)}
}

// writerMain is the writer process's main.
func writerMain(args []string) error {
	fs := flag.NewFlagSet("writer", flag.ContinueOnError)
	var s writerSpec
	fs.StringVar(&s.logPath, "log", "", "log file")
	fs.StringVar(&s.ring, "ring", "", "ring name (instead of the file)")
	fs.IntVar(&s.rate, "rate", 0, "lines/s")
	fs.IntVar(&s.addrs, "addrs", 0, "attacking addresses")
	secs := fs.Float64("seconds", 0, "seconds of writing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s.dur = time.Duration(*secs * float64(time.Second))
	var ring *ringbuf.Ring
	if s.ring != "" {
		var err error
		if ring, err = ringbuf.Open(s.ring); err != nil {
			return err
		}
		defer ring.Close()
		ring.Prefault() // a long-lived writer: no fault per page on its first pass
	}
	w, err := newWriter(s.logPath, ring)
	if err != nil {
		return err
	}
	defer w.close()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	type mark struct {
		a int
		t time.Time
	}
	var marks []mark
	fmt.Fprintf(out, "start %d\n", time.Now().UnixNano())
	out.Flush()
	n, el, err := writeLog(w, s, func(written int64) {
		fmt.Fprintf(out, "w %d\n", written)
		out.Flush()
	}, func(a int, t time.Time) { marks = append(marks, mark{a, t}) })
	for _, m := range marks {
		fmt.Fprintf(out, "m %d %d\n", m.a, m.t.UnixNano())
	}
	fmt.Fprintf(out, "end %d %d\n", n, el.Nanoseconds())
	return err
}

// writeLog writes s.rate lines/s for s.dur, half of them failures:
// attackers join one after another during the first half and then fail on
// every turn of a round-robin among those that joined. It calls report
// after each tick with the lines written so far, and mark with each
// address whose maxretry-th failure line was just written. It returns
// the lines written and the time taken.
func writeLog(w *writer, s writerSpec, report func(int64), mark func(a int, t time.Time)) (int64, time.Duration, error) {
	addrs := make([]string, s.addrs)
	for i := range addrs {
		addrs[i] = addr(i)
	}
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	line, turn := 0, 0
	failures := make([]uint8, s.addrs) // per address, up to maxretry
	buf := make([][]byte, 0, 4096)
	// A tick writes at most 10 ms of lines: a writer that fell behind
	// catches up in bounded batches, not in one that grows (and is copied
	// as it grows) without end.
	perTick := max(1000, s.rate/100)
	text := make([]byte, 0, perTick*128) // the lines of one tick, reused
	ends := make([]int, 0, perTick)      // where each line of text ends
	var marks []int                      // addresses whose maxretry-th failure is in this tick
	for now := range tick.C {
		el := now.Sub(start)
		if el >= s.dur {
			break
		}
		want := int(el.Seconds() * float64(s.rate))
		joined := min(s.addrs, 1+int(float64(s.addrs)*el.Seconds()/(s.dur.Seconds()/2)))
		buf, text, ends, marks = buf[:0], text[:0], ends[:0], marks[:0]
		stamp := now.Format("Jan _2 15:04:05")
		for ; line < want && len(ends) < perTick; line++ {
			if line%2 == 1 {
				text = appendLine(text, stamp, line, "")
				ends = append(ends, len(text))
				continue
			}
			a := turn % joined
			turn++
			if failures[a] < maxRetry {
				if failures[a]++; failures[a] == maxRetry {
					marks = append(marks, a)
				}
			}
			text = appendLine(text, stamp, line, addrs[a])
			ends = append(ends, len(text))
		}
		for i, end := range ends {
			start := 0
			if i > 0 {
				start = ends[i-1]
			}
			buf = append(buf, text[start:end:end])
		}
		if err := w.write(buf); err != nil {
			return int64(line), time.Since(start), err
		}
		t := time.Now()
		for _, a := range marks {
			mark(a, t)
		}
		report(int64(line))
	}
	return int64(line), time.Since(start), nil
}

// writerRun is a writer process as its parent sees it.
type writerRun struct {
	cmd     *exec.Cmd
	written atomic.Int64
	third   []time.Time // per address: when its maxretry-th failure was written
	end     chan writerEnd
}

type writerEnd struct {
	start   time.Time // when it began writing
	written int64
	elapsed time.Duration
	err     error
}

// startWriter starts this program as a writer process.
func startWriter(s writerSpec) (*writerRun, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r := &writerRun{cmd: exec.Command(exe, s.args()...), third: make([]time.Time, s.addrs), end: make(chan writerEnd, 1)}
	r.cmd.Stderr = os.Stderr
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go r.read(stdout)
	return r, nil
}

// read follows the writer's reports until it exits.
func (r *writerRun) read(stdout io.Reader) {
	end := r.parse(stdout)
	if err := r.cmd.Wait(); err != nil {
		end.err = fmt.Errorf("writer: %w", err)
	} else if end.elapsed == 0 || end.start.IsZero() {
		end.err = fmt.Errorf("writer: no end reported")
	}
	r.end <- end
}

// parse reads the writer's reports: progress into r.written, marks into
// r.third, and the start and end it returns.
func (r *writerRun) parse(stdout io.Reader) writerEnd {
	var end writerEnd
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "start":
			t, _ := strconv.ParseInt(f[1], 10, 64)
			end.start = time.Unix(0, t)
		case len(f) == 2 && f[0] == "w":
			n, _ := strconv.ParseInt(f[1], 10, 64)
			r.written.Store(n)
		case len(f) == 3 && f[0] == "m":
			a, _ := strconv.Atoi(f[1])
			t, _ := strconv.ParseInt(f[2], 10, 64)
			if a >= 0 && a < len(r.third) {
				r.third[a] = time.Unix(0, t)
			}
		case len(f) == 3 && f[0] == "end":
			end.written, _ = strconv.ParseInt(f[1], 10, 64)
			d, _ := strconv.ParseInt(f[2], 10, 64)
			end.elapsed = time.Duration(d)
		}
	}
	return end
}

// appendLine appends line i of the log, dated stamp: a failure of
// address a (a string from addr), or, when a is "", a login. Each line has
// its own sshd process (sshd's sessions are per process). It appends into
// reused memory: the writer's garbage is no part of what is measured.
func appendLine(b []byte, stamp string, i int, a string) []byte {
	b = append(b, stamp...)
	b = append(b, " host sshd["...)
	b = strconv.AppendInt(b, int64(1000+i%60000), 10)
	if a == "" {
		return append(b, "]: Accepted publickey for deploy from 203.0.113.9 port 2222 ssh2"...)
	}
	b = append(b, "]: Failed password for invalid user admin from "...)
	b = append(b, a...)
	return append(b, " port 4242 ssh2"...)
}

func addr(i int) string {
	a := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
	return a.String()
}

// writer appends lines to the log file, or writes them into the ring.
type writer struct {
	f  *os.File
	bw *bufio.Writer
	rw *ringbuf.Writer
}

func newWriter(path string, ring *ringbuf.Ring) (*writer, error) {
	if ring != nil {
		rw, err := ring.NewWriter(0)
		if err != nil {
			return nil, err
		}
		return &writer{rw: rw}, nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	return &writer{f: f, bw: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (w *writer) write(lines [][]byte) error {
	if w.rw != nil {
		for len(lines) > 0 {
			n, err := w.rw.WriteV(lines)
			lines = lines[n:]
			if err != nil && err != ringbuf.ErrFull {
				return err
			}
			if err == ringbuf.ErrFull {
				time.Sleep(50 * time.Microsecond) // lossless: wait for the reader
			}
		}
		return nil
	}
	for _, l := range lines {
		w.bw.Write(l)
		w.bw.WriteByte('\n')
	}
	return w.bw.Flush()
}

func (w *writer) close() {
	if w.rw != nil {
		w.rw.Close()
		return
	}
	w.f.Close()
}
