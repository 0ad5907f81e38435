package file

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/f2bx/f2bx/internal/uring"
)

// reader performs a round's reads.
type reader interface {
	ReadAt(reads []uring.Read) error
	Close() error
	name() string
}

func newReader(kind string, perRound int) (reader, error) {
	switch kind {
	case ReaderAuto, ReaderPread:
		return preadReader{}, nil
	case ReaderURing:
		r, err := uring.New(uint32(max(perRound, 1)))
		if err != nil {
			return nil, fmt.Errorf("log follower: %w", err)
		}
		return uringReader{r}, nil
	}
	return nil, fmt.Errorf("log follower: unknown reader %q (uring or pread)", kind)
}

// uringReader submits a round's reads in one io_uring_enter.
type uringReader struct{ *uring.Ring }

func (uringReader) name() string { return ReaderURing }

// preadReader reads file after file.
type preadReader struct{}

func (preadReader) name() string { return ReaderPread }

func (preadReader) ReadAt(reads []uring.Read) error {
	for i := range reads {
		r := &reads[i]
		for {
			n, err := unix.Pread(r.Fd, r.Buf, r.Off)
			if err == unix.EINTR {
				continue
			}
			r.N, r.Err = max(n, 0), err
			break
		}
	}
	return nil
}

func (preadReader) Close() error { return nil }
