package ringbuf

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as a writer or reader process.
func TestMain(m *testing.M) {
	switch os.Getenv("F2BX_RING_HELPER") {
	case "writer":
		os.Exit(helperWriter())
	case "reader":
		os.Exit(helperReader())
	}
	os.Exit(m.Run())
}

// helperWriter writes N numbered lines into a segment, in batches.
func helperWriter() int {
	r, err := Open(os.Getenv("RING"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	seg, _ := strconv.Atoi(os.Getenv("SEG"))
	n, _ := strconv.Atoi(os.Getenv("N"))
	w, err := r.NewWriter(seg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	batch := make([][]byte, 0, 64)
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < n && time.Now().Before(deadline); {
		batch = batch[:0]
		for j := 0; j < 64 && i+j < n; j++ {
			batch = append(batch, fmt.Appendf(nil, "seg=%d seq=%d", seg, i+j))
		}
		k, err := w.WriteV(batch)
		i += k
		if errors.Is(err, ErrFull) {
			time.Sleep(50 * time.Microsecond)
		}
	}
	w.Close()
	return 0
}

// helperReader attaches a reader, says so, and sleeps (to be killed).
func helperReader() int {
	r, err := Open(os.Getenv("RING"))
	if err != nil {
		return 1
	}
	if _, err := r.NewReader(); err != nil {
		return 1
	}
	fmt.Println("attached")
	time.Sleep(time.Minute)
	return 0
}

func helper(t *testing.T, role, ring string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"F2BX_RING_HELPER=" + role, "RING=" + ring}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

func newRing(t *testing.T, o Options) (*Ring, string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "ring")
	r, err := Create(name, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, name
}

func writeN(t *testing.T, w *Writer, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := w.Write(fmt.Appendf(nil, "line %d", i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
}

func readAll(rd *Reader, seg int) []string {
	var l Lines
	for rd.ReadV(seg, 1000, &l) > 0 {
	}
	return l.Strings()
}

func lineRange(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("line %d", i))
	}
	return out
}

// TestEveryReaderSeesEveryLine: two readers, lines written one by one
// and in a batch, both see all of them in order; a reader attached later
// sees what came after.
func TestEveryReaderSeesEveryLine(t *testing.T) {
	r, _ := newRing(t, Options{Segments: 2, Lines: 16, LineSize: 32, Readers: 3})
	a, _ := r.NewReader()
	b, _ := r.NewReader()
	w, err := r.NewWriter(-1)
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, w, 0, 5)
	if _, err := w.WriteV([][]byte{[]byte("line 5"), []byte("line 6")}); err != nil {
		t.Fatal(err)
	}
	c, _ := r.NewReader()
	writeN(t, w, 7, 3)
	for name, rd := range map[string]*Reader{"a": a, "b": b} {
		if got := readAll(rd, w.Segment()); strings.Join(got, ",") != strings.Join(lineRange(0, 10), ",") {
			t.Errorf("reader %s: %q", name, got)
		}
	}
	if got := readAll(c, w.Segment()); strings.Join(got, ",") != strings.Join(lineRange(7, 3), ",") {
		t.Errorf("late reader: %q", got)
	}
	// Lines longer than the line size are cut.
	long := strings.Repeat("x", 100)
	w.Write([]byte(long))
	if got, _ := a.Read(w.Segment()); string(got) != long[:r.LineSize()] || w.Cut() != 1 {
		t.Errorf("long line: %q, cut %d", got, w.Cut())
	}
}

// TestLossless: a writer gets ErrFull when the slowest reader is a
// segment behind, and room again when it reads; a detached reader holds
// no one back.
func TestLossless(t *testing.T) {
	r, _ := newRing(t, Options{Segments: 1, Lines: 8, LineSize: 16, Readers: 2})
	fast, _ := r.NewReader()
	slow, _ := r.NewReader()
	w, _ := r.NewWriter(0)
	writeN(t, w, 0, 8)
	readAll(fast, 0)
	if err := w.Write([]byte("line 8")); !errors.Is(err, ErrFull) {
		t.Fatalf("9th line: %v, want ErrFull", err)
	}
	n, err := w.WriteV([][]byte{[]byte("a"), []byte("b")})
	if n != 0 || !errors.Is(err, ErrFull) {
		t.Fatalf("WriteV on a full ring: %d, %v", n, err)
	}
	var l Lines
	slow.ReadV(0, 3, &l)
	if n, err := w.WriteV([][]byte{[]byte("line 8"), []byte("line 9"), []byte("line 10"), []byte("x")}); n != 3 || !errors.Is(err, ErrFull) {
		t.Fatalf("partial WriteV: %d, %v; want 3, ErrFull", n, err)
	}
	slow.Close()
	writeN(t, w, 11, 5) // only fast counts now
	if got := readAll(fast, 0); strings.Join(got, ",") != strings.Join(lineRange(8, 8), ",") {
		t.Errorf("fast reader: %q", got)
	}
}

// TestOverwrite: writers never wait; a reader a lap behind gets the
// newest lines but the one whose slot the writer may be rewriting, and
// counts the rest as missed.
func TestOverwrite(t *testing.T) {
	r, _ := newRing(t, Options{Segments: 1, Lines: 8, LineSize: 16, Readers: 1, Overwrite: true})
	rd, _ := r.NewReader()
	w, _ := r.NewWriter(0)
	writeN(t, w, 0, 20)
	if got := readAll(rd, 0); strings.Join(got, ",") != strings.Join(lineRange(13, 7), ",") {
		t.Errorf("got %q", got)
	}
	if rd.Missed() != 13 {
		t.Errorf("missed %d, want 13", rd.Missed())
	}
	if st := r.Stat(); len(st.Readers) != 1 || st.Readers[0].Missed != 13 || st.Writers[0].WriteIndex != 20 {
		t.Errorf("stat %+v", st)
	}
}

// TestProcesses: two writer processes, one segment each, and two readers
// here: every reader sees every line. The reader with one goroutine sees
// each segment in order; with two goroutines stealing work, each batch
// is in order and every line comes exactly once.
func TestProcesses(t *testing.T) {
	const n = 200000
	r, name := newRing(t, Options{Segments: 2, Lines: 1024, LineSize: 32, Readers: 2})
	readers := []*Reader{}
	for range 2 {
		rd, err := r.NewReader()
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, rd)
	}
	var cmds []*exec.Cmd
	for seg := range 2 {
		c := helper(t, "writer", name, fmt.Sprint("SEG=", seg), fmt.Sprint("N=", n))
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	var mu sync.Mutex
	next := [2][2]int{} // [reader][segment]: lines seen
	seen := [2][]bool{make([]bool, n), make([]bool, n)}
	var bad []string
	check := func(k int, l *Lines) {
		mu.Lock()
		defer mu.Unlock()
		prev := [2]int{-1, -1}
		for i := range l.Len() {
			var seg, seq int
			_, err := fmt.Sscanf(string(l.Line(i)), "seg=%d seq=%d", &seg, &seq)
			switch {
			case err != nil || seg > 1 || seq >= n:
				bad = append(bad, fmt.Sprintf("reader %d: %q", k, l.Line(i)))
			case k == 0 && seq != next[k][seg]:
				bad = append(bad, fmt.Sprintf("reader 0: %q after seq %d", l.Line(i), next[k][seg]-1))
			case k == 1 && (seen[seg][seq] || prev[seg] >= 0 && seq != prev[seg]+1):
				bad = append(bad, fmt.Sprintf("reader 1: %q twice or out of order in its batch", l.Line(i)))
			default:
				next[k][seg]++
				prev[seg] = seq
				if k == 1 {
					seen[seg][seq] = true
				}
			}
		}
	}
	done := func(k int) bool { mu.Lock(); defer mu.Unlock(); return next[k][0] == n && next[k][1] == n }
	var wg sync.WaitGroup
	deadline := time.Now().Add(30 * time.Second)
	for k, rd := range readers {
		parts := [][2]int{{0, 2}}
		if k == 1 {
			parts = [][2]int{{0, 1}, {1, 2}}
		}
		for _, p := range parts {
			wg.Go(func() {
				var l Lines
				for !done(k) && time.Now().Before(deadline) {
					l.Reset()
					if rd.ReadRange(p[0], p[1], 256, true, &l) == 0 {
						time.Sleep(20 * time.Microsecond)
						continue
					}
					check(k, &l)
				}
			})
		}
	}
	wg.Wait()
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer: %v", err)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d bad lines, first %s", len(bad), bad[0])
	}
	if next != [2][2]int{{n, n}, {n, n}} {
		t.Errorf("lines read %v, want %d each", next, n)
	}
}

// TestDeadReaderReleased: a reader process killed with SIGKILL stops
// holding writers back once the ring fills; a dead writer's segment is
// taken over where it stopped.
func TestDeadReaderReleased(t *testing.T) {
	r, name := newRing(t, Options{Segments: 1, Lines: 8, LineSize: 16, Readers: 2})
	c := helper(t, "reader", name)
	out, _ := c.StdoutPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 9)
	if _, err := out.Read(buf); err != nil || string(buf[:8]) != "attached" {
		t.Fatalf("helper: %q, %v", buf, err)
	}
	w, _ := r.NewWriter(0)
	writeN(t, w, 0, 8)
	if err := w.Write([]byte("x")); !errors.Is(err, ErrFull) {
		t.Fatalf("full ring with a live reader: %v", err)
	}
	c.Process.Signal(syscall.SIGKILL)
	c.Wait()
	if err := w.Write([]byte("line 8")); err != nil {
		t.Fatalf("after the reader died: %v", err)
	}
	if st := r.Stat(); len(st.Readers) != 0 {
		t.Errorf("readers %+v, want none", st.Readers)
	}
	// A writer process that dies leaves its segment to the next one.
	wc := helper(t, "writer", name, "SEG=0", "N=5")
	r.writerState(0).Store(0)
	if err := wc.Run(); err != nil {
		t.Fatal(err)
	}
	r.writerState(0).Store(1)
	r.writerPid(0).Store(uint32(wc.Process.Pid)) // as if it had died attached
	w2, err := r.NewWriter(0)
	if err != nil {
		t.Fatalf("take over a dead writer's segment: %v", err)
	}
	if w2.idx != 14 {
		t.Errorf("taken-over segment at %d, want 14", w2.idx)
	}
}

// TestCorruptHeaderRefused: a changed constant field, a wrong size, a
// foreign file.
func TestCorruptHeaderRefused(t *testing.T) {
	for name, damage := range map[string]func(p string){
		"lines": func(p string) {
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			f.WriteAt([]byte{0xff}, offLines)
			f.Close()
		},
		"size":    func(p string) { os.Truncate(p, 8192) },
		"foreign": func(p string) { os.WriteFile(p, make([]byte, 8192), 0o600) },
		"short":   func(p string) { os.WriteFile(p, []byte("F2BXRING"), 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			r, p := newRing(t, Options{Segments: 1, Lines: 8, LineSize: 16, Readers: 1})
			r.Close()
			damage(p)
			if _, err := Open(p); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestWorkStealing: a goroutine whose range is empty reads the others'
// segments when asked to steal, and not otherwise.
func TestWorkStealing(t *testing.T) {
	r, _ := newRing(t, Options{Segments: 2, Lines: 8, LineSize: 16, Readers: 1})
	rd, _ := r.NewReader()
	w, _ := r.NewWriter(1)
	writeN(t, w, 0, 3)
	var l Lines
	if n := rd.ReadRange(0, 1, 10, false, &l); n != 0 {
		t.Fatalf("without stealing: %d lines", n)
	}
	if n := rd.ReadRange(0, 1, 10, true, &l); n != 3 {
		t.Fatalf("stealing: %d lines, want 3", n)
	}
	// A segment another goroutine is reading is skipped, not waited for.
	writeN(t, w, 3, 1)
	rd.locks[1].Lock()
	if n := rd.ReadRange(0, 1, 10, true, &l); n != 0 {
		t.Errorf("read a locked segment: %d", n)
	}
	rd.locks[1].Unlock()
}

// Prefault reads the ring's pages only: lines written before and while it
// runs (another mapping's writer) read back unchanged.
func TestPrefaultKeepsLines(t *testing.T) {
	r, name := newRing(t, Options{Segments: 1, Lines: 1024, Readers: 1})
	other, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	rd, _ := r.NewReader()
	w, _ := other.NewWriter(0)
	writeN(t, w, 0, 500)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 500; i < 1000; i++ {
			if err := w.Write(fmt.Appendf(nil, "line %d", i)); err != nil {
				t.Errorf("write %d: %v", i, err)
				return
			}
		}
	}()
	r.Prefault()
	other.Prefault()
	<-done
	var l Lines
	if n := rd.ReadV(0, 1000, &l); n != 1000 {
		t.Fatalf("read %d lines", n)
	}
	for i := range 1000 {
		if got, want := string(l.Line(i)), fmt.Sprintf("line %d", i); got != want {
			t.Fatalf("line %d: %q, want %q", i, got, want)
		}
	}
}
