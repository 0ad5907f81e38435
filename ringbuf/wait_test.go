package ringbuf

import (
	"io"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// never is a wait no test should see end: a reader that returns before it
// was woken.
const never = time.Minute

// waiters starts n goroutines waiting on rd and returns a channel closed
// when all have returned.
func waiters(rd *Reader, n int) <-chan struct{} {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); rd.Wait(never) }()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// sleeping waits until n goroutines sleep on rd's slot.
func sleeping(t *testing.T, rd *Reader, n uint32) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); rd.r.readerSleepers(rd.slot).Load() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sleepers, want %d", rd.r.readerSleepers(rd.slot).Load(), n)
		}
	}
}

func wokenWithin(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: readers still asleep", what)
	}
}

// A writer wakes every goroutine waiting on a reader slot; a reader with
// unread lines does not sleep.
func TestWaitWokenByWriter(t *testing.T) {
	r, _ := newRing(t, Options{Segments: 2, Lines: 64, Readers: 2})
	rd, _ := r.NewReader()
	if _, err := r.NewReader(); err != nil { // a second slot, awake: no wake-up for it
		t.Fatal(err)
	}
	done := waiters(rd, 3)
	sleeping(t, rd, 3)
	w, _ := r.NewWriter(1)
	if err := w.Write([]byte("wake up")); err != nil {
		t.Fatal(err)
	}
	wokenWithin(t, done, "after a write")
	if n := rd.r.readerSleepers(rd.slot).Load(); n != 0 {
		t.Fatalf("%d sleepers left", n)
	}
	// The line is still unread: Wait returns at once.
	wokenWithin(t, waiters(rd, 1), "with a line unread")
	var l Lines
	if rd.ReadRange(0, 2, 10, true, &l) != 1 || string(l.Line(0)) != "wake up" {
		t.Fatalf("read %q", l.Strings())
	}
}

// startCWriter runs the C example writing its stdin's lines into ring
// name; the test's end closes its input and waits for it.
func startCWriter(t *testing.T, bin, name string) io.Writer {
	t.Helper()
	cmd := exec.Command(bin, name)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	return in
}

// The C writer wakes a Go reader in this process.
func TestWaitWokenByCWriter(t *testing.T) {
	bin := buildCExample(t)
	r, name := newRing(t, Options{Segments: 1, Lines: 64, Readers: 1})
	rd, _ := r.NewReader()
	in := startCWriter(t, bin, name)
	done := waiters(rd, 1)
	sleeping(t, rd, 1)
	io.WriteString(in, "from C\n")
	wokenWithin(t, done, "after the C writer's line")
	var l Lines
	if rd.ReadV(0, 10, &l) != 1 || string(l.Line(0)) != "from C" {
		t.Fatalf("read %q", l.Strings())
	}
}

// waiting starts w.Wait on a goroutine and returns a channel closed when
// it returns.
func waiting(w *Waiter) <-chan struct{} {
	done := make(chan struct{})
	go func() { defer close(done); w.Wait(never) }()
	return done
}

// A Waiter (io_uring's futex wait where the kernel has it) is woken by Go
// and C writers as Reader.Wait is, and returns at once with lines unread.
func TestWaiterWoken(t *testing.T) {
	bin := buildCExample(t)
	r, name := newRing(t, Options{Segments: 2, Lines: 64, Readers: 1})
	rd, _ := r.NewReader()
	w := rd.NewWaiter()
	defer w.Close()
	t.Logf("waits in Go's poller: %v", w.Polled())
	gw, err := r.NewWriter(1)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 { // the kernel's wait is queued again each round
		done := waiting(w)
		sleeping(t, rd, 1)
		if err := gw.Write([]byte("wake up")); err != nil {
			t.Fatal(err)
		}
		wokenWithin(t, done, "after a Go writer's line")
		wokenWithin(t, waiting(w), "with a line unread")
		var l Lines
		if rd.ReadRange(0, 2, 10, true, &l) != 1 || string(l.Line(0)) != "wake up" {
			t.Fatalf("round %d: read %q", round, l.Strings())
		}
	}
	in := startCWriter(t, bin, name)
	done := waiting(w)
	sleeping(t, rd, 1)
	io.WriteString(in, "from C\n")
	wokenWithin(t, done, "after the C writer's line")
}

// Interrupt ends a Waiter's sleep, in Go's poller or in the futex system
// call, and every later Wait returns at once: a daemon that stops need
// not wait for a reader's timeout.
func TestWaiterInterrupt(t *testing.T) {
	for _, polled := range []bool{true, false} {
		r, _ := newRing(t, Options{Segments: 1, Lines: 64, Readers: 1})
		rd, _ := r.NewReader()
		w := rd.NewWaiter()
		if !polled {
			w.Close()
			w = &Waiter{rd: rd} // Reader.Wait's futex system call
		}
		if w.Polled() != polled {
			t.Logf("no io_uring futex waits here: only the system call")
			w.Close()
			continue
		}
		done := waiting(w)
		sleeping(t, rd, 1)
		w.Interrupt()
		wokenWithin(t, done, "after Interrupt")
		wokenWithin(t, waiting(w), "after Interrupt, again")
		w.Close()
	}
}
