package uring

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel ABI for futex waits (linux/io_uring.h, linux/futex.h).
const (
	opFutexWait      = 51         // IORING_OP_FUTEX_WAIT, Linux 6.7
	futex2SizeU32    = 0x02       // FUTEX2_SIZE_U32; not FUTEX2_PRIVATE: other processes wake
	futexBitsetMatch = 0xffffffff // FUTEX_BITSET_MATCH_ANY
)

// FutexWaiter waits until a 32-bit futex word (in memory shared with
// other processes) is woken with FUTEX_WAKE. The wait is queued in the
// kernel through io_uring and the goroutine parks in Go's poller on the
// ring's descriptor. A goroutine blocked in futex(2) instead keeps its P,
// and the goroutines queued on that P (the ones it just handed work to)
// wait until the runtime's monitor takes the P back, 10 ms and more later
// in a process that looked idle.
//
// A FutexWaiter serves one word, from one goroutine at a time.
type FutexWaiter struct {
	r       *Ring
	f       *os.File
	rc      syscall.RawConn
	pending atomic.Bool // a wait is queued in the kernel
	stopped atomic.Bool // Interrupt was called
}

// NewFutexWaiter sets up a waiter; ErrNotSupported when the kernel has no
// io_uring or no futex waits in it (before Linux 6.7).
func NewFutexWaiter() (*FutexWaiter, error) {
	r, err := New(4)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(r.fd, true); err != nil {
		r.Close()
		return nil, fmt.Errorf("io_uring: %w", err)
	}
	w := &FutexWaiter{r: r, f: os.NewFile(uintptr(r.fd), "io_uring")}
	if w.rc, err = w.f.SyscallConn(); err != nil {
		w.Close()
		return nil, fmt.Errorf("io_uring: %w", err)
	}
	// A wait for a value the word does not hold ends at once: -EAGAIN
	// where futex waits exist, -EINVAL where the opcode is unknown.
	probe := new(uint32)
	var pin runtime.Pinner
	pin.Pin(probe)
	defer pin.Unpin()
	if err := w.submit(probe, 1); err != nil {
		w.Close()
		return nil, err
	}
	res, ok := w.reap()
	for deadline := time.Now().Add(time.Second); !ok && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		res, ok = w.reap()
	}
	switch {
	case !ok:
		w.Close()
		return nil, fmt.Errorf("io_uring futex wait: no completion for a stale value")
	case res == -int32(unix.EAGAIN):
		return w, nil
	case res == -int32(unix.EINVAL) || res == -int32(unix.EOPNOTSUPP):
		w.Close()
		return nil, fmt.Errorf("io_uring futex wait: %w (%v)", ErrNotSupported, syscall.Errno(-res))
	default:
		w.Close()
		return nil, fmt.Errorf("io_uring futex wait: probe: %v", syscall.Errno(-res))
	}
}

// Wait returns once word is woken after this call or a previous one that
// timed out, at once if word no longer holds val (when a wait has to be
// queued), or after timeout. word must stay mapped while the waiter is
// open: a wait that timed out stays queued in the kernel.
func (w *FutexWaiter) Wait(word *uint32, val uint32, timeout time.Duration) error {
	if !w.pending.Load() {
		if err := w.submit(word, val); err != nil {
			return err
		}
	}
	if _, ok := w.reap(); ok {
		return nil
	}
	if err := w.f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("io_uring: %w", err)
	}
	if w.stopped.Load() {
		// Interrupt may have set its deadline before this one.
		return nil
	}
	err := w.rc.Read(func(uintptr) bool {
		_, ok := w.reap()
		return ok
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return err
}

// Interrupt ends a Wait in progress, and makes every later one return at
// once; any goroutine may call it (such as the one that sees its
// program stop). The wait queued in the kernel stays until Close.
func (w *FutexWaiter) Interrupt() {
	w.stopped.Store(true)
	// After the flag: a Wait that set its deadline before the flag was
	// read sees this one, a later one sees the flag.
	_ = w.f.SetReadDeadline(time.Unix(1, 0))
}

// submit queues one futex wait.
func (w *FutexWaiter) submit(word *uint32, val uint32) error {
	r := w.r
	tail := atomic.LoadUint32(r.sqTail)
	idx := tail & *r.sqMask
	e := (*sqe)(unsafe.Add(r.sqes, uintptr(idx)*sqeSize))
	*e = sqe{Opcode: opFutexWait, Fd: futex2SizeU32, Addr: uint64(uintptr(unsafe.Pointer(word))), Off: uint64(val), Addr3: futexBitsetMatch}
	*(*uint32)(unsafe.Add(r.sqArray, uintptr(idx)*4)) = idx
	atomic.StoreUint32(r.sqTail, tail+1)
	for {
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 1, 0, 0, 0, 0)
		switch errno {
		case 0:
			w.pending.Store(true)
			return nil
		case unix.EINTR, unix.EAGAIN, unix.EBUSY:
			continue
		default:
			return fmt.Errorf("io_uring_enter: %w", errno)
		}
	}
}

// reap takes the completions there are; ok when there was one (the wait
// ended), with the last one's result.
func (w *FutexWaiter) reap() (res int32, ok bool) {
	r := w.r
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		res, ok = (*cqe)(unsafe.Add(r.cqes, uintptr(head&*r.cqMask)*cqeSize)).Res, true
	}
	atomic.StoreUint32(r.cqHead, head)
	if ok {
		w.pending.Store(false)
	}
	return res, ok
}

// waiting reports whether a wait is queued.
func (w *FutexWaiter) waiting() bool { return w.pending.Load() }

// Close releases the ring; a queued wait is cancelled.
func (w *FutexWaiter) Close() error {
	w.r.unmap()
	return w.f.Close()
}
