//go:build hyperscan && cgo

// Package hsblock scans a block of lines with a Hyperscan database and
// marks which patterns matched which line. The marking runs in C, in
// Hyperscan's match callback: gohs calls back into Go for every match
// (about 85 ns each here), which a literal prefilter, with several matches
// on most lines, pays many times per line.
package hsblock

/*
#cgo pkg-config: libhs
#include <hs/hs.h>
#include <stdint.h>
#include <stddef.h>

typedef struct {
	const int64_t *starts;
	size_t n;
	uint64_t *cand;
	size_t stride;
	size_t line; // the line of the last match: the next is most often in it or just after
} f2bx_hs_ctx;

// f2bx_on_match sets bit id%64 of word id/64 of the line the match ends
// in: the last line whose start is at or before the match's last byte.
// Matches come mostly in the order of their ends, so the line is looked
// for from the last match's on, a few lines forward, before a binary
// search.
static int f2bx_on_match(unsigned int id, unsigned long long from, unsigned long long to,
		unsigned int flags, void *p) {
	f2bx_hs_ctx *c = (f2bx_hs_ctx *)p;
	long long end = (long long)to - 1;
	if (end < 0) {
		end = 0;
	}
	size_t k = c->line;
	if (k < c->n && c->starts[k] <= end) {
		for (int step = 0; step < 4; step++, k++) {
			if (k + 1 == c->n || c->starts[k + 1] > end) {
				c->line = k;
				c->cand[k * c->stride + id / 64] |= (uint64_t)1 << (id % 64);
				return 0;
			}
		}
	}
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->starts[mid] <= end) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == 0) {
		return 0;
	}
	c->line = lo - 1;
	size_t w = (lo - 1) * c->stride + id / 64;
	c->cand[w] |= (uint64_t)1 << (id % 64);
	return 0;
}

static int f2bx_scan(hs_database_t *db, hs_scratch_t *s, const char *block, size_t len,
		const int64_t *starts, size_t n, uint64_t *cand, size_t stride) {
	f2bx_hs_ctx c = {starts, n, cand, stride, 0};
	return hs_scan(db, block, (unsigned int)len, 0, s, f2bx_on_match, &c);
}

static hs_database_t *f2bx_deserialize(const char *data, size_t len, int *err) {
	hs_database_t *db = NULL;
	*err = hs_deserialize_database(data, len, &db);
	return db;
}

static hs_scratch_t *f2bx_alloc_scratch(hs_database_t *db, int *err) {
	hs_scratch_t *s = NULL;
	*err = hs_alloc_scratch(db, &s);
	return s;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// starts reach C as int64_t.
var _ [unsafe.Sizeof(int(0)) - 8]struct{}

// Available reports whether this build has the C scanner.
const Available = true

// Database is a Hyperscan block-mode database whose pattern ids are
// member*64+bit.
type Database struct {
	db *C.hs_database_t
}

// Scanner scans with a Database; one per goroutine (it owns a scratch
// space).
type Scanner struct {
	db      *Database
	scratch *C.hs_scratch_t
}

// Load deserializes a database that gohs compiled and serialized
// (BlockDatabase.Marshal).
func Load(serialized []byte) (*Database, error) {
	if len(serialized) == 0 {
		return nil, errors.New("load hyperscan database: empty")
	}
	var rc C.int
	db := C.f2bx_deserialize((*C.char)(unsafe.Pointer(&serialized[0])), C.size_t(len(serialized)), &rc)
	if rc != C.HS_SUCCESS {
		return nil, fmt.Errorf("load hyperscan database: error %d", int(rc))
	}
	d := &Database{db: db}
	runtime.AddCleanup(d, func(db *C.hs_database_t) { C.hs_free_database(db) }, db)
	return d, nil
}

// NewScanner returns a scanner with a scratch space of its own.
func (d *Database) NewScanner() (*Scanner, error) {
	var rc C.int
	s := C.f2bx_alloc_scratch(d.db, &rc)
	if rc != C.HS_SUCCESS {
		return nil, fmt.Errorf("hyperscan scratch: error %d", int(rc))
	}
	sc := &Scanner{db: d, scratch: s}
	runtime.AddCleanup(sc, func(s *C.hs_scratch_t) { C.hs_free_scratch(s) }, s)
	return sc, nil
}

// Scan scans block, whose lines start at starts (ascending, the first at
// 0), and for every match of pattern id ending in line i sets bit id%64
// of cand[i*stride+id/64]. cand must hold len(starts)*stride words and
// stride must cover every id/64.
func (s *Scanner) Scan(block []byte, starts []int, cand []uint64, stride int) error {
	if len(block) == 0 || len(starts) == 0 {
		return nil
	}
	if len(cand) < len(starts)*stride {
		return fmt.Errorf("hyperscan scan: %d candidate words for %d lines of %d", len(cand), len(starts), stride)
	}
	if len(block) > 1<<31-1 {
		return fmt.Errorf("hyperscan scan: block of %d bytes", len(block))
	}
	rc := C.f2bx_scan(s.db.db, s.scratch, (*C.char)(unsafe.Pointer(&block[0])), C.size_t(len(block)),
		(*C.int64_t)(unsafe.Pointer(&starts[0])), C.size_t(len(starts)),
		(*C.uint64_t)(unsafe.Pointer(&cand[0])), C.size_t(stride))
	runtime.KeepAlive(s)
	if rc != C.HS_SUCCESS {
		return fmt.Errorf("hyperscan scan: error %d", int(rc))
	}
	return nil
}
