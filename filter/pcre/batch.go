//go:build pcre2 && cgo

package pcre

/*
#cgo pkg-config: libpcre2-8
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>

void f2bx_match_batch(pcre2_code *head, pcre2_code **res, const int32_t *ns, pcre2_match_data *md,
		pcre2_match_context *mc, const char *block, const int64_t *jobs, int njobs, int hn, int64_t *out, int stride);
*/
import "C"

import (
	"math"
	"runtime"
	"unicode/utf8"
	"unsafe"
)

// Batch is FindAfter over many lines of one block in one call into C:
// one head (a prefregex's) and, per line, one of several regexes. Add
// the lines, Run, then read each line's Result. A Batch without a head
// is FindInto over many lines: read each line's Found. A Batch is not
// safe for concurrent use.
type Batch struct {
	head   *Regexp
	res    []*Regexp
	codes  []*C.pcre2_code // per regex, nil when it cannot run here
	ns     []int32         // per regex: its groups with the whole match
	jobs   []int64         // per line: its start in the block, length, regex
	out    []int64         // per line: stride results (see f2bx_match_batch)
	hn     int
	stride int
	sc     *scratch
}

// NewBatch returns a Batch of head (nil: none) then one of res (nil
// entries: regexes a line cannot be added with).
func NewBatch(head *Regexp, res []*Regexp) *Batch {
	b := &Batch{head: head, res: res, codes: make([]*C.pcre2_code, len(res)), ns: make([]int32, len(res))}
	if head != nil {
		b.hn = head.groups + 1
	}
	maxN := 1
	for i, re := range res {
		if re != nil {
			b.codes[i], b.ns[i] = re.code, int32(re.groups+1)
			maxN = max(maxN, re.groups+1)
		}
	}
	b.stride = 4 + 2*b.hn + 2*maxN
	b.sc = scratches.New().(*scratch)
	return b
}

// Reset forgets the lines added.
func (b *Batch) Reset() { b.jobs = b.jobs[:0] }

// Add adds line, at start in the block that Run gets, to be searched
// with regex re; it returns the line's job number, or false when it
// cannot be searched here (re cannot run here, or line is not valid
// UTF-8): ask FindAfter or Find.
func (b *Batch) Add(line string, start, re int) (int, bool) {
	if re < 0 || re >= len(b.codes) || b.codes[re] == nil || !utf8.ValidString(line) {
		return 0, false
	}
	b.jobs = append(b.jobs, int64(start), int64(len(line)), int64(re))
	return len(b.jobs)/3 - 1, true
}

// Regex is the regex job's line was added with.
func (b *Batch) Regex(job int) int { return int(b.jobs[3*job+2]) }

// Run searches the lines added in block.
func (b *Batch) Run(block []byte) {
	n := len(b.jobs) / 3
	if n == 0 {
		return
	}
	if cap(b.out) < n*b.stride {
		b.out = make([]int64, n*b.stride)
	}
	b.out = b.out[:n*b.stride]
	var head *C.pcre2_code
	if b.head != nil {
		head = b.head.code
	}
	C.f2bx_match_batch(head, &b.codes[0], (*C.int32_t)(unsafe.Pointer(&b.ns[0])), b.sc.md, b.sc.mc,
		(*C.char)(unsafe.Pointer(unsafe.SliceData(block))), (*C.int64_t)(unsafe.Pointer(&b.jobs[0])), C.int(n), C.int(b.hn),
		(*C.int64_t)(unsafe.Pointer(&b.out[0])), C.int(b.stride))
	runtime.KeepAlive(b.head)
	runtime.KeepAlive(b.res)
}

// Result is what FindAfter would have returned for job's line (after
// Run), with Head and Rest in hdst's and dst's memory when they have
// room. A Batch without a head has no Result.
func (b *Batch) Result(job int, hdst, dst []int) (After, bool) {
	o := b.out[job*b.stride : (job+1)*b.stride]
	if o[0] == math.MinInt64 || b.head == nil {
		return After{}, false
	}
	n := int(b.ns[b.jobs[3*job+2]])
	return after(C.int(o[0]), C.int(o[1]), o[4:4+2*b.hn], o[4+2*b.hn:4+2*b.hn+2*n], o[2], o[3], hdst, dst)
}

// Found is what FindInto would have returned for job's line (after Run)
// in a Batch without a head, loc in dst's memory when it has room: ok is
// false when the batch could not answer (a "\n" inside the line, a
// limit: ask FindInto).
func (b *Batch) Found(job int, dst []int) (loc []int, ok bool) {
	o := b.out[job*b.stride : (job+1)*b.stride]
	switch {
	case b.head != nil || o[0] == math.MinInt64:
		return nil, false
	case o[1] > 0:
		return copyLoc(dst, o[4:4+2*int(b.ns[b.jobs[3*job+2]])]), true
	case o[1] == C.PCRE2_ERROR_NOMATCH:
		return nil, true
	}
	return nil, false
}
