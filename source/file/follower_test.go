package file

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
	if o.Reader == ReaderURing && f.ReaderName() != ReaderURing {
		t.Skip("io_uring unavailable")
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
