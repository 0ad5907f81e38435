package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bx/f2bx/internal/uring"
	"github.com/f2bx/f2bx/source"
	"github.com/f2bx/f2bx/store"
)

var readers = []string{ReaderURing, ReaderPread}

// follower runs a Follower on paths until the test ends; it returns the
// batch channel.
func follower(t *testing.T, o Options) (*Follower, <-chan source.Batch, context.CancelFunc) {
	t.Helper()
	if o.Poll == 0 {
		o.Poll = 50 * time.Millisecond
	}
	if o.Grace == 0 {
		o.Grace = 300 * time.Millisecond
	}
	if os.Getenv("F2BX_TEST_LOG") != "" {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	f, err := New(o)
	if errors.Is(err, uring.ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan source.Batch, 4)
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return f, out, cancel
}

// seqWriter writes numbered lines, sometimes in two writes (a reader
// must carry the half line over).
type seqWriter struct {
	t    *testing.T
	path string
	f    *os.File
	n    int
}

func newSeqWriter(t *testing.T, path string) *seqWriter {
	w := &seqWriter{t: t, path: path}
	w.reopen()
	t.Cleanup(func() { w.f.Close() })
	return w
}

func (w *seqWriter) reopen() {
	if w.f != nil {
		w.f.Close()
	}
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		w.t.Fatal(err)
	}
	w.f = f
}

func (w *seqWriter) write(n int) {
	var b strings.Builder
	for range n {
		fmt.Fprintf(&b, "Nov 22 10:00:00 host sshd[1]: seq=%d failed\n", w.n)
		w.n++
	}
	s := b.String()
	cut := len(s) / 2
	if w.n%3 == 0 {
		if _, err := io.WriteString(w.f, s[:cut]); err != nil {
			w.t.Fatal(err)
		}
		s = s[cut:]
	}
	if _, err := io.WriteString(w.f, s); err != nil {
		w.t.Fatal(err)
	}
}

// collect reads batches until want distinct lines arrived (or the
// timeout), failing on a line seen twice, out of order or malformed.
func collect(t *testing.T, out <-chan source.Batch, want int, timeout time.Duration) (last *store.Position) {
	t.Helper()
	seen := make([]bool, want)
	got := 0
	deadline := time.After(timeout)
	for got < want {
		select {
		case b := <-out:
			for _, l := range b.Lines {
				i := strings.Index(l, "seq=")
				if i < 0 || !strings.HasSuffix(l, " failed") {
					t.Fatalf("malformed line %q", l)
				}
				n, err := strconv.Atoi(l[i+4 : len(l)-len(" failed")])
				if err != nil || n >= want {
					t.Fatalf("line %q", l)
				}
				if seen[n] {
					t.Fatalf("line %d delivered twice", n)
				}
				seen[n] = true
				got++
			}
			if b.Position != nil {
				last = b.Position
			}
		case <-deadline:
			missing := []int{}
			for i, s := range seen {
				if !s && len(missing) < 10 {
					missing = append(missing, i)
				}
			}
			t.Fatalf("%d of %d lines after %v; first missing %v", got, want, timeout, missing)
		}
	}
	return last
}

// quiet fails on any batch arriving within d.
func quiet(t *testing.T, out <-chan source.Batch, d time.Duration) {
	t.Helper()
	select {
	case b := <-out:
		t.Fatalf("unexpected batch of %d lines from %s: %q", len(b.Lines), b.Source, b.Lines[0])
	case <-time.After(d):
	}
}

// TestRotation writes numbered lines while rotating the file in each of
// logrotate's ways, the writer still appending during and after the
// rotation: every line arrives exactly once.
func TestRotation(t *testing.T) {
	const per = 20000
	type mode struct {
		extra  int // lines the rotation itself writes
		rotate func(t *testing.T, w *seqWriter, f *Follower)
	}
	modes := map[string]mode{
		// rename + create: the writer keeps appending to the renamed
		// file for a while, then reopens.
		"rename": {1000, func(t *testing.T, w *seqWriter, _ *Follower) {
			if err := os.Rename(w.path, w.path+".1"); err != nil {
				t.Fatal(err)
			}
			for range 50 {
				w.write(20)
			}
			w.reopen()
		}},
		// copytruncate: the copy is not followed; the writer (O_APPEND)
		// goes on at the start. logrotate's own window (lines written
		// between copy and truncate) is not exercised.
		"copytruncate": {0, func(t *testing.T, w *seqWriter, f *Follower) {
			data, err := os.ReadFile(w.path)
			if err != nil {
				t.Fatal(err)
			}
			os.Rename(w.path+".1", w.path+".2") // as logrotate shifts
			if err := os.WriteFile(w.path+".1", data, 0o600); err != nil {
				t.Fatal(err)
			}
			before := f.Stats().Truncations
			if err := w.f.Truncate(0); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return f.Stats().Truncations > before })
		}},
		// delete + recreate: the writer keeps writing to the deleted
		// file, then creates a new one.
		"delete": {1000, func(t *testing.T, w *seqWriter, _ *Follower) {
			if err := os.Remove(w.path); err != nil {
				t.Fatal(err)
			}
			for range 50 {
				w.write(20)
			}
			w.reopen()
		}},
	}
	for _, rd := range readers {
		for name, m := range modes {
			t.Run(rd+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "auth.log")
				w := newSeqWriter(t, path)
				f, out, _ := follower(t, Options{Paths: []Path{{Glob: path}}, Reader: rd})
				var wg sync.WaitGroup
				wg.Go(func() {
					prev := 0
					for i := range 3 * per / 20 {
						w.write(20)
						if i == per/20 || i == 2*per/20 {
							// The follower has at least reached the file
							// (one created and deleted unseen is lost).
							waitFor(t, func() bool { return f.Stats().Lines > uint64(prev) })
							m.rotate(t, w, f)
							prev = w.n
						}
					}
				})
				collect(t, out, 3*per+2*m.extra, 20*time.Second)
				wg.Wait()
				quiet(t, out, 500*time.Millisecond)
				if f.Stats().Lines != uint64(w.n) {
					t.Errorf("stats: %d lines, wrote %d", f.Stats().Lines, w.n)
				}
			})
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
}

// next returns the lines of the next batch.
func next(t *testing.T, out <-chan source.Batch) source.Batch {
	t.Helper()
	select {
	case b := <-out:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no batch in 5s")
	}
	return source.Batch{}
}

// TestLines: partial lines wait for their end, CRLF endings are
// stripped, over-long lines are cut and counted, the last line of a
// drained file without a newline is delivered when the file is done.
func TestLines(t *testing.T) {
	for _, rd := range readers {
		t.Run(rd, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			appendLines(t, path, "one\r\n", "tw")
			f, out, _ := follower(t, Options{Paths: []Path{{Glob: path}}, Reader: rd, MaxLine: 10})
			if b := next(t, out); !slices.Equal(b.Lines, []string{"one"}) {
				t.Fatalf("%q", b.Lines)
			}
			appendLines(t, path, "o\n", strings.Repeat("x", 25), "y\nshort\n")
			got := next(t, out)
			if !slices.Equal(got.Lines, []string{"two", strings.Repeat("x", 10), "short"}) || got.Cut != 1 {
				t.Fatalf("%q, cut %d", got.Lines, got.Cut)
			}
			if p := got.Position; p == nil || p.Offset != int64(len("one\r\ntwo\n")+27+len("short\n")) {
				t.Errorf("position %+v", p)
			}
			appendLines(t, path, "last")
			quiet(t, out, 200*time.Millisecond)
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			// Drained until quiet for the grace period, then its last line.
			if b := next(t, out); !slices.Equal(b.Lines, []string{"last"}) {
				t.Fatalf("%q", b.Lines)
			}
			if s := f.Stats(); s.Cut != 1 || s.Lines != 5 || s.Rotations != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestResume restarts the follower: from the saved position of the same
// file; from the start of a file that replaced it while no follower ran,
// after the rest of the old one (found next to it by inode); at the tail
// of a file without a position when asked to.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	w := newSeqWriter(t, path)
	w.write(100)
	positions := map[string]store.Position{}
	resume := func(p string) (store.Position, bool) { pos, ok := positions[p]; return pos, ok }
	run := func(want int) {
		t.Helper()
		_, out, cancel := follower(t, Options{Paths: []Path{{Glob: path}}, Resume: resume})
		if p := collectFrom(t, out, want); p != nil {
			positions[path] = *p
		}
		quiet(t, out, 200*time.Millisecond)
		cancel()
	}
	run(100) // lines 0-99
	w.write(50)
	run(50) // 100-149: resumed
	// Rotated while stopped: the rest of the old file, then the new one.
	w.write(30)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	w.reopen()
	w.write(20)
	run(50) // 150-199
	// A file without a position, followed from its tail.
	other := filepath.Join(dir, "other.log")
	appendLines(t, other, "old\n")
	_, out, _ := follower(t, Options{Paths: []Path{{Glob: other, Tail: true}}})
	quiet(t, out, 200*time.Millisecond)
	appendLines(t, other, "new\n")
	if b := next(t, out); !slices.Equal(b.Lines, []string{"new"}) {
		t.Fatalf("%q", b.Lines)
	}
}

// collectFrom checks that the next want lines continue the sequence
// where the last call stopped.
var nextSeq int

func collectFrom(t *testing.T, out <-chan source.Batch, want int) (last *store.Position) {
	t.Helper()
	for got := 0; got < want; {
		b := next(t, out)
		for _, l := range b.Lines {
			if !strings.Contains(l, fmt.Sprintf("seq=%d ", nextSeq)) {
				t.Fatalf("got %q, want seq=%d", l, nextSeq)
			}
			nextSeq++
			got++
		}
		last = b.Position
	}
	return last
}

// TestComesBack: a file deleted and created again much later, and a file
// matching the glob that appears later, are read from their start.
func TestComesBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	appendLines(t, path, "1\n")
	_, out, _ := follower(t, Options{Paths: []Path{{Glob: filepath.Join(dir, "*.log")}}})
	if b := next(t, out); !slices.Equal(b.Lines, []string{"1"}) {
		t.Fatalf("%q", b.Lines)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // past the grace period
	appendLines(t, path, "2\n")
	if b := next(t, out); !slices.Equal(b.Lines, []string{"2"}) || b.Source != path {
		t.Fatalf("%q from %s", b.Lines, b.Source)
	}
	appendLines(t, filepath.Join(dir, "b.log"), "3\n")
	if b := next(t, out); !slices.Equal(b.Lines, []string{"3"}) {
		t.Fatalf("%q", b.Lines)
	}
	appendLines(t, filepath.Join(dir, "b.txt"), "not followed\n")
	quiet(t, out, 200*time.Millisecond)
}

// TestBackpressure: while nobody takes batches the follower reads no
// more than its buffers hold; a copytruncate meanwhile loses nothing
// (the unread part is read from the copy).
func TestBackpressure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	w := newSeqWriter(t, path)
	w.write(200000) // ~9 MB
	const chunk = 64 << 10
	f, out, _ := follower(t, Options{Paths: []Path{{Glob: path}}, Chunk: chunk, Buffer: chunk})
	waitFor(t, func() bool { return f.Stats().Bytes > 0 })
	time.Sleep(200 * time.Millisecond)
	// Four batches in the channel, one being sent, one read ahead at most.
	if b := f.Stats().Bytes; b > 6*chunk {
		t.Errorf("read %d bytes with nobody consuming; at most %d", b, 6*chunk)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	w.write(1000)
	collect(t, out, w.n, 20*time.Second)
	quiet(t, out, 200*time.Millisecond)
	if s := f.Stats(); s.Truncations != 1 {
		t.Errorf("stats %+v", s)
	}
}
