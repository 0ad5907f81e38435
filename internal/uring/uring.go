// Package uring reads many files at once through io_uring: a batch of
// positioned reads goes to the kernel in one io_uring_enter, which also
// waits for all of them. It also waits on futex words in shared memory
// without holding a thread (FutexWaiter). It is the raw-syscall minimum
// the log follower and the ring reader need (IORING_OP_READ on regular
// files, IORING_OP_FUTEX_WAIT), not a general binding.
//
// A Ring is used by one goroutine at a time.
package uring

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrNotSupported means the kernel has no io_uring or forbids it
// (kernel.io_uring_disabled, seccomp, containers).
var ErrNotSupported = errors.New("io_uring not supported")

// Kernel ABI (linux/io_uring.h).
const (
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000

	featSingleMmap = 1 << 0
	enterGetEvents = 1 << 0
	opRead         = 22
	sqeSize        = 64
	cqeSize        = 16
)

type sqRingOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

type cqRingOffsets struct {
	Head, Tail, RingMask, RingEntries, Overflow, CQEs, Flags, Resv1 uint32
	UserAddr                                                        uint64
}

type params struct {
	SQEntries, CQEntries, Flags, SQThreadCPU, SQThreadIdle, Features, WQFd uint32
	Resv                                                                   [3]uint32
	SQOff                                                                  sqRingOffsets
	CQOff                                                                  cqRingOffsets
}

type sqe struct {
	Opcode      uint8
	Flags       uint8
	IOPrio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	RWFlags     uint32
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	SpliceFdIn  int32
	Addr3       uint64
	_           uint64
}

type cqe struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// Ring is an io_uring instance sized for a number of reads per batch.
type Ring struct {
	fd      int
	entries uint32
	sqMem   []byte
	cqMem   []byte
	sqeMem  []byte

	sqHead, sqTail, sqMask *uint32
	sqArray                unsafe.Pointer
	cqHead, cqTail, cqMask *uint32
	cqes                   unsafe.Pointer
	sqes                   unsafe.Pointer
}

// Read is one positioned read of a batch: N is what was read (0 at end of
// file), Err the error of this read alone.
type Read struct {
	Fd  int
	Off int64
	Buf []byte
	N   int
	Err error
}

// New sets up a ring for up to entries reads per submission.
func New(entries uint32) (*Ring, error) {
	var p params
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		if errno == unix.ENOSYS || errno == unix.EPERM || errno == unix.EACCES {
			return nil, fmt.Errorf("io_uring_setup: %w (%v)", ErrNotSupported, errno)
		}
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &Ring{fd: int(fd), entries: p.SQEntries}
	if err := r.mmap(&p); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Ring) mmap(p *params) error {
	sqSize := int(p.SQOff.Array + p.SQEntries*4)
	cqSize := int(p.CQOff.CQEs + p.CQEntries*cqeSize)
	if p.Features&featSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
		cqSize = sqSize
	}
	var err error
	prot, flags := unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE
	if r.sqMem, err = unix.Mmap(r.fd, offSQRing, sqSize, prot, flags); err != nil {
		return fmt.Errorf("mmap sq ring: %w", err)
	}
	if p.Features&featSingleMmap != 0 {
		r.cqMem = r.sqMem
	} else if r.cqMem, err = unix.Mmap(r.fd, offCQRing, cqSize, prot, flags); err != nil {
		return fmt.Errorf("mmap cq ring: %w", err)
	}
	if r.sqeMem, err = unix.Mmap(r.fd, offSQEs, int(p.SQEntries*sqeSize), prot, flags); err != nil {
		return fmt.Errorf("mmap sqes: %w", err)
	}
	sq, cq := unsafe.Pointer(&r.sqMem[0]), unsafe.Pointer(&r.cqMem[0])
	r.sqHead = (*uint32)(unsafe.Add(sq, p.SQOff.Head))
	r.sqTail = (*uint32)(unsafe.Add(sq, p.SQOff.Tail))
	r.sqMask = (*uint32)(unsafe.Add(sq, p.SQOff.RingMask))
	r.sqArray = unsafe.Add(sq, p.SQOff.Array)
	r.cqHead = (*uint32)(unsafe.Add(cq, p.CQOff.Head))
	r.cqTail = (*uint32)(unsafe.Add(cq, p.CQOff.Tail))
	r.cqMask = (*uint32)(unsafe.Add(cq, p.CQOff.RingMask))
	r.cqes = unsafe.Add(cq, p.CQOff.CQEs)
	r.sqes = unsafe.Pointer(&r.sqeMem[0])
	return nil
}

// Entries is how many reads one submission takes.
func (r *Ring) Entries() int { return int(r.entries) }

// ReadAt performs the reads, Entries at a time: each group is one
// io_uring_enter that submits the group and waits for all of it.
func (r *Ring) ReadAt(reads []Read) error {
	for len(reads) > 0 {
		n := min(len(reads), int(r.entries))
		if err := r.batch(reads[:n]); err != nil {
			return err
		}
		reads = reads[n:]
	}
	return nil
}

func (r *Ring) batch(reads []Read) error {
	var pin runtime.Pinner
	defer pin.Unpin()
	tail := atomic.LoadUint32(r.sqTail)
	mask := *r.sqMask
	for i := range reads {
		rd := &reads[i]
		rd.N, rd.Err = 0, nil
		idx := (tail + uint32(i)) & mask
		e := (*sqe)(unsafe.Add(r.sqes, uintptr(idx)*sqeSize))
		*e = sqe{Opcode: opRead, Fd: int32(rd.Fd), Off: uint64(rd.Off), Len: uint32(len(rd.Buf)), UserData: uint64(i)}
		if len(rd.Buf) > 0 {
			pin.Pin(&rd.Buf[0])
			e.Addr = uint64(uintptr(unsafe.Pointer(&rd.Buf[0])))
		}
		*(*uint32)(unsafe.Add(r.sqArray, uintptr(idx)*4)) = idx
	}
	atomic.StoreUint32(r.sqTail, tail+uint32(len(reads)))
	submitted, pending := 0, len(reads)
	for pending > 0 {
		toSubmit := len(reads) - submitted
		n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(1), enterGetEvents, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 && errno != unix.EBUSY && errno != unix.EAGAIN {
			return fmt.Errorf("io_uring_enter: %w", errno)
		}
		if errno == 0 { // on EBUSY/EAGAIN n is not a count: nothing was taken
			submitted += int(n)
		}
		pending -= r.reap(reads)
	}
	return nil
}

// reap takes the completions there are and returns how many.
func (r *Ring) reap(reads []Read) int {
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail)
	mask := *r.cqMask
	got := 0
	for ; head != tail; head++ {
		c := (*cqe)(unsafe.Add(r.cqes, uintptr(head&mask)*cqeSize))
		rd := &reads[c.UserData]
		if c.Res < 0 {
			rd.Err = syscall.Errno(-c.Res)
		} else {
			rd.N = int(c.Res)
		}
		got++
	}
	atomic.StoreUint32(r.cqHead, head)
	return got
}

// Close releases the ring.
func (r *Ring) Close() error {
	r.unmap()
	return unix.Close(r.fd)
}

func (r *Ring) unmap() {
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
	}
	if r.cqMem != nil && unsafe.SliceData(r.cqMem) != unsafe.SliceData(r.sqMem) {
		unix.Munmap(r.cqMem)
	}
	if r.sqMem != nil {
		unix.Munmap(r.sqMem)
	}
	r.sqeMem, r.cqMem, r.sqMem = nil, nil, nil
}
