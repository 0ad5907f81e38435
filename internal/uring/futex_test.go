package uring

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func newFutexWaiter(t *testing.T) *FutexWaiter {
	t.Helper()
	w, err := NewFutexWaiter()
	if errors.Is(err, ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// sharedWord maps a word as the ring buffer does (MAP_SHARED), so that
// the futex is a shared one, woken by address from anywhere.
func sharedWord(t *testing.T) *uint32 {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return (*uint32)(unsafe.Pointer(&mem[0]))
}

func futexWake(word *uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), 1 /* FUTEX_WAKE */, 1<<31-1, 0, 0, 0)
}

// waitDone waits for a Wait's result, failing with msg when none comes.
func waitDone(t *testing.T, done <-chan error, msg string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal(msg)
	}
}

// A wake ends the wait; without one the wait lasts its timeout, and stays
// queued: a wake between two Waits ends the next one at once.
func TestFutexWaiter(t *testing.T) {
	w, word := newFutexWaiter(t), sharedWord(t)
	start := time.Now()
	if err := w.Wait(word, 0, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("no wake, yet the wait ended after %v", el)
	}
	futexWake(word) // wakes the wait still queued
	done := make(chan error)
	go func() { done <- w.Wait(word, 0, time.Minute) }()
	waitDone(t, done, "a wake before Wait was lost")
	// Queued again: woken while it waits.
	go func() { done <- w.Wait(word, 0, time.Minute) }()
	for !w.waiting() {
		time.Sleep(time.Millisecond)
	}
	atomic.AddUint32(word, 1)
	futexWake(word)
	waitDone(t, done, "not woken")
	// A value that changed before the wait is queued: no sleep at all.
	if err := w.Wait(word, 0, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// Interrupt ends a wait in progress; later waits return at once.
func TestFutexWaiterInterrupt(t *testing.T) {
	w, err := NewFutexWaiter()
	if errors.Is(err, ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	word := new(uint32)
	var pin runtime.Pinner
	pin.Pin(word)
	defer pin.Unpin()
	wait := func() <-chan error {
		done := make(chan error, 1)
		go func() { done <- w.Wait(word, 0, time.Minute) }()
		return done
	}
	for _, what := range []string{"a wait in progress", "a later wait"} {
		done := wait()
		if what == "a wait in progress" {
			time.Sleep(10 * time.Millisecond) // let it block (an early Interrupt is the next case)
			w.Interrupt()
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: not interrupted", what)
		}
	}
}
