package ringbuf

import (
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/f2bx/f2bx/internal/uring"
)

// Waiter waits for lines as Reader.Wait does, for one goroutine, without
// keeping a thread and its P blocked in a system call: the futex wait is
// queued through io_uring (Linux 6.7) and the goroutine parks in Go's
// poller. A goroutine blocked in futex(2) keeps its P, and the goroutines
// queued on that P (such as the one it just handed lines to) wait until
// the runtime's monitor takes the P back, 10 ms and more later. Where the
// kernel has no io_uring futex waits, Wait is Reader.Wait.
type Waiter struct {
	rd *Reader
	// fw is set once (nil: Reader.Wait), until Close; broken when its
	// ring failed and Wait went back to Reader.Wait.
	fw      *uring.FutexWaiter
	broken  atomic.Bool
	stopped atomic.Bool
}

// NewWaiter returns a waiter for rd's slot.
func (rd *Reader) NewWaiter() *Waiter {
	fw, err := uring.NewFutexWaiter()
	if err != nil {
		fw = nil
	}
	return &Waiter{rd: rd, fw: fw}
}

// Polled reports whether Wait parks in Go's poller (io_uring), not in a
// futex system call.
func (w *Waiter) Polled() bool { return w.fw != nil && !w.broken.Load() }

// Wait returns when a writer publishes lines into any segment, when a
// segment already has lines the reader has not read, or after timeout.
func (w *Waiter) Wait(timeout time.Duration) {
	if !w.Polled() {
		w.rd.waitUnless(timeout, &w.stopped)
		return
	}
	wake, seq, ready := w.rd.beginSleep()
	defer w.rd.endSleep()
	if ready || w.stopped.Load() {
		return
	}
	if err := w.fw.Wait((*uint32)(unsafe.Pointer(wake)), seq, timeout); err != nil {
		// The ring is unusable: sleep in the kernel from now on.
		w.fw.Close()
		w.broken.Store(true)
		if !w.stopped.Load() {
			futexWait(wake, seq, timeout)
		}
	}
}

// Interrupt ends a Wait in progress and makes later ones return at once
// (a reader that is to stop); any goroutine may call it, before Close.
func (w *Waiter) Interrupt() {
	w.stopped.Store(true)
	if w.fw != nil {
		w.fw.Interrupt() // a no-op on a closed (broken) one
	}
	w.rd.wake()
}

// Close releases the waiter (before the ring is closed).
func (w *Waiter) Close() {
	if w.fw != nil && !w.broken.Load() {
		w.fw.Close()
	}
	w.fw = nil
}
