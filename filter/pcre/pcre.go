//go:build pcre2 && cgo

package pcre

/*
#cgo pkg-config: libpcre2-8
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// f2bx_step_limit bounds PCRE2's work on a subject of len bytes: linear
// in its length.
static uint32_t f2bx_step_limit(size_t len) {
	return 1000 + 32 * (uint32_t)(len < (1 << 20) ? len : (1 << 20));
}

// f2bx_match runs one match with a step limit (f2bx_step_limit) and
// copies the groups' offsets (-1 unset) into out (2 per group, n groups
// with the whole match). It returns the match's result: > 0 matched,
// PCRE2_ERROR_NOMATCH, or another error (a limit).
static int f2bx_match(pcre2_code *code, pcre2_match_data *md, pcre2_match_context *mc,
		const char *subject, size_t len, int64_t *out, int n) {
	pcre2_set_match_limit(mc, f2bx_step_limit(len));
	// Every code is JIT-compiled (compile): the JIT's own entry skips
	// pcre2_match's checks, as PCRE2_NO_UTF_CHECK does for UTF-8.
	int rc = pcre2_jit_match(code, (PCRE2_SPTR)subject, len, 0, 0, md, mc);
	if (rc <= 0) {
		return rc == 0 ? PCRE2_ERROR_NOMEMORY : rc;
	}
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	for (int i = 0; i < n; i++) {
		if (i < rc && ov[2*i] != PCRE2_UNSET) {
			out[2*i] = (int64_t)ov[2*i];
			out[2*i+1] = (int64_t)ov[2*i+1];
		} else {
			out[2*i] = -1;
			out[2*i+1] = -1;
		}
	}
	return rc;
}

// f2bx_match_after runs head on subject and, when it matched, re on the
// rest of that line from head's end less back ("\n" included), which it
// reports in rest[1] (start) and rest[2] (end). It returns head's result
// (as f2bx_match); rest[0] gets re's, or 0 when re did not run (the rest
// is empty, or starts inside a UTF-8 sequence; its start and end are 0).
static int f2bx_match_after(pcre2_code *head, pcre2_code *re, pcre2_match_data *md, pcre2_match_context *mc,
		const char *subject, size_t len, size_t back, int64_t *hout, int hn, int64_t *out, int n, int64_t *rest) {
	rest[0] = rest[1] = rest[2] = 0;
	int hrc = f2bx_match(head, md, mc, subject, len, hout, hn);
	if (hrc <= 0 || (size_t)hout[1] < back) {
		return hrc;
	}
	size_t st = (size_t)hout[1] - back;
	const char *nl = memchr(subject + st, '\n', len - st);
	if (nl == NULL || nl == subject + st || ((unsigned char)subject[st] & 0xC0) == 0x80) {
		return hrc;
	}
	size_t restlen = (size_t)(nl - (subject + st)) + 1;
	rest[1] = (int64_t)st;
	rest[2] = (int64_t)(st + restlen);
	rest[0] = f2bx_match(re, md, mc, subject + st, restlen, out, n);
	return hrc;
}

// f2bx_match_batch runs f2bx_match_after (back 1) on lines of one block:
// job j is the line at jobs[3j] of length jobs[3j+1] ("\n" included) and
// failregex res[jobs[3j+2]] (of ns[...] groups with the whole match). Its
// results go to out[j*stride...]: head's result, re's, the rest's start
// and end, head's offsets (hn groups), then re's. A line holding a "\n"
// before its end is left to the caller: head's result is F2BX_NOT_RUN.
// Without a head (NULL), re runs on the whole line (f2bx_match): head's
// result is 1, re's offsets follow head's (hn is 0).
#define F2BX_NOT_RUN INT64_MIN
void f2bx_match_batch(pcre2_code *head, pcre2_code **res, const int32_t *ns, pcre2_match_data *md,
		pcre2_match_context *mc, const char *block, const int64_t *jobs, int njobs, int hn, int64_t *out, int stride) {
	for (int j = 0; j < njobs; j++) {
		const char *s = block + jobs[3*j];
		size_t len = (size_t)jobs[3*j+1];
		int r = (int)jobs[3*j+2];
		int64_t *o = out + (size_t)j * stride;
		if (len == 0 || memchr(s, '\n', len) != s + len - 1) {
			o[0] = F2BX_NOT_RUN;
			continue;
		}
		if (head == NULL) {
			o[0] = 1;
			o[1] = f2bx_match(res[r], md, mc, s, len, o + 4, ns[r]);
			o[2] = 0;
			o[3] = (int64_t)len;
			continue;
		}
		o[0] = f2bx_match_after(head, res[r], md, mc, s, len, 1, o + 4, hn, o + 4 + 2*hn, ns[r], o + 1);
	}
}

// f2bx_compile compiles with UTF (and the given extra options), "^" after
// a final newline in multi-line mode, and LF as the only newline.
static pcre2_code *f2bx_compile(const char *pat, size_t len, uint32_t extra, int *err, size_t *off) {
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	if (cc == NULL) {
		*err = PCRE2_ERROR_NOMEMORY;
		*off = 0;
		return NULL;
	}
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, len,
		PCRE2_UTF | PCRE2_ALT_CIRCUMFLEX | PCRE2_NEVER_BACKSLASH_C | extra, err, off, cc);
	pcre2_compile_context_free(cc);
	return code;
}

// f2bx_group_number returns the number of the named group, or < 0.
static int f2bx_group_number(pcre2_code *code, const char *name) {
	return pcre2_substring_number_from_name(code, (PCRE2_SPTR)name);
}

static uint32_t f2bx_captures(pcre2_code *code) {
	uint32_t n = 0;
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
	return n;
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Available reports whether PCRE2 is built in.
const Available = true

// maxGroups bounds the groups of a regex PCRE2 runs (fail2ban's have a
// dozen or two).
const maxGroups = 99

// Regexp is a compiled regex, safe for concurrent use.
type Regexp struct {
	code   *C.pcre2_code
	groups int // capture groups, the whole match not counted
}

// Compile compiles a regex in Go's syntax for PCRE2's JIT; an error
// (ErrUnsupported among others) leaves the regex to Go's regexp.
func Compile(expr string) (*Regexp, error) {
	pat, groups, err := pattern(expr)
	if err != nil {
		return nil, err
	}
	re, err := compile(pat, 0)
	if err != nil {
		return nil, err
	}
	if re.groups != groups {
		return nil, fmt.Errorf("pcre2: %d groups, Go counts %d", re.groups, groups)
	}
	return re, nil
}

// CompileNative compiles a pattern written in PCRE2's own syntax (as
// pyre translates Python's regexes), with Unicode \b, \w, \d and \s
// unless ascii is set. Its matches are a backtracking matcher's, as
// Python's are; Find's step limit still bounds the work per line.
func CompileNative(pat string, ascii bool) (*Regexp, error) {
	var extra C.uint32_t
	if !ascii {
		extra = C.PCRE2_UCP
	}
	return compile(pat, extra)
}

func compile(pat string, extra C.uint32_t) (*Regexp, error) {
	cpat := C.CString(pat)
	defer C.free(unsafe.Pointer(cpat))
	var errCode C.int
	var off C.size_t
	code := C.f2bx_compile(cpat, C.size_t(len(pat)), extra, &errCode, &off)
	if code == nil {
		var msg [256]C.uchar
		C.pcre2_get_error_message(errCode, &msg[0], C.size_t(len(msg)))
		return nil, fmt.Errorf("pcre2: %s at %d of %q", C.GoString((*C.char)(unsafe.Pointer(&msg[0]))), off, pat)
	}
	groups := int(C.f2bx_captures(code))
	if groups > maxGroups {
		C.pcre2_code_free(code)
		return nil, fmt.Errorf("%w: %d groups", ErrUnsupported, groups)
	}
	if rc := C.pcre2_jit_compile(code, C.PCRE2_JIT_COMPLETE); rc != 0 {
		C.pcre2_code_free(code)
		return nil, fmt.Errorf("%w: no JIT (%d)", ErrUnsupported, rc)
	}
	re := &Regexp{code: code, groups: groups}
	runtime.AddCleanup(re, func(c *C.pcre2_code) { C.pcre2_code_free(c) }, code)
	return re, nil
}

// Groups returns the number of capture groups, the whole match not
// counted.
func (re *Regexp) Groups() int { return re.groups }

// GroupNumber returns the number of the named group, -1 when there is
// none.
func (re *Regexp) GroupNumber(name string) int {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	n := int(C.f2bx_group_number(re.code, cname))
	runtime.KeepAlive(re)
	if n < 0 {
		return -1
	}
	return n
}

// scratch is one goroutine's match data (C memory, freed with it).
type scratch struct {
	md   *C.pcre2_match_data
	mc   *C.pcre2_match_context
	out  [4 * (maxGroups + 1)]int64 // room for two matches (FindAfter)
	rest [3]int64                   // FindAfter's result for re, start, end
}

type cScratch struct {
	md *C.pcre2_match_data
	mc *C.pcre2_match_context
}

var scratches = sync.Pool{New: func() any {
	s := &scratch{md: C.pcre2_match_data_create(maxGroups+1, nil), mc: C.pcre2_match_context_create(nil)}
	runtime.AddCleanup(s, func(c cScratch) {
		C.pcre2_match_data_free(c.md)
		C.pcre2_match_context_free(c.mc)
	}, cScratch{s.md, s.mc})
	return s
}}

var empty = C.CString("")

// Find returns the byte offsets of the leftmost match and of its groups
// (as Go's FindStringSubmatchIndex: -1 for a group that did not take
// part), nil when there is none. ok is false when PCRE2 cannot answer
// (s is not valid UTF-8, or the match reached its step limit): ask Go's
// regexp.
func (re *Regexp) Find(s string) (loc []int, ok bool) { return re.find(s, nil, nil) }

// FindInto is Find with loc in dst's memory when it has room (nil dst:
// a new slice).
func (re *Regexp) FindInto(s string, dst []int) (loc []int, ok bool) { return re.find(s, nil, dst) }

// FindGroups is Find with the groups chosen: loc has the whole match,
// then the offsets of group groups[i] for each i > 0 (-1 for a group
// that did not take part, or for a negative number).
func (re *Regexp) FindGroups(s string, groups []int) (loc []int, ok bool) {
	return re.find(s, groups, nil)
}

// FindGroupsInto is FindGroups with loc in dst's memory when it has room.
func (re *Regexp) FindGroupsInto(s string, groups, dst []int) (loc []int, ok bool) {
	return re.find(s, groups, dst)
}

// locIn returns a slice of n ints: dst's memory when it has room.
func locIn(dst []int, n int) []int {
	if cap(dst) >= n {
		return dst[:n]
	}
	return make([]int, n)
}

// copyLoc returns the offsets in out (C's), in dst's memory when it has
// room.
func copyLoc(dst []int, out []int64) []int {
	loc := locIn(dst, len(out))
	for i, v := range out {
		loc[i] = int(v)
	}
	return loc
}

func (re *Regexp) find(s string, groups, dst []int) (loc []int, ok bool) {
	if !utf8.ValidString(s) {
		return nil, false
	}
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)
	subj := empty
	if len(s) > 0 {
		subj = (*C.char)(unsafe.Pointer(unsafe.StringData(s)))
	}
	n := re.groups + 1
	rc := C.f2bx_match(re.code, sc.md, sc.mc, subj, C.size_t(len(s)), (*C.int64_t)(unsafe.Pointer(&sc.out[0])), C.int(n))
	runtime.KeepAlive(re)
	switch {
	case rc > 0 && groups == nil:
		return copyLoc(dst, sc.out[:2*n]), true
	case rc > 0:
		loc = locIn(dst, 2*len(groups))
		loc[0], loc[1] = int(sc.out[0]), int(sc.out[1])
		for i, g := range groups[1:] {
			loc[2*i+2], loc[2*i+3] = -1, -1
			if g > 0 && g < n {
				loc[2*i+2], loc[2*i+3] = int(sc.out[2*g]), int(sc.out[2*g+1])
			}
		}
		return loc, true
	case rc == C.PCRE2_ERROR_NOMATCH:
		return nil, true
	default:
		return nil, false
	}
}

// After is what FindAfter found: Head, head's match in s (nil: none);
// when RestOK, Rest, re's match in s[Start:End] (offsets in that rest;
// nil: none).
type After struct {
	Head, Rest []int
	Start, End int
	RestOK     bool
}

// FindAfter is FindInto of head on s then, when head matches, FindInto of
// re on the rest of that line from head's end less back ("\n" included):
// a line's content after its prefix, both in one call into C. ok is false
// when PCRE2 cannot answer for head (see Find); RestOK false when it
// cannot for re, or the rest is empty or starts inside a UTF-8 sequence
// (ask re alone). Head and Rest use hdst's and dst's memory when they have
// room.
func FindAfter(head, re *Regexp, s string, back int, hdst, dst []int) (a After, ok bool) {
	if len(s) == 0 || !utf8.ValidString(s) {
		return After{}, false
	}
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)
	hn, n := head.groups+1, re.groups+1
	out := sc.out[2*hn:]
	hrc := C.f2bx_match_after(head.code, re.code, sc.md, sc.mc, (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s)), C.size_t(back),
		(*C.int64_t)(unsafe.Pointer(&sc.out[0])), C.int(hn), (*C.int64_t)(unsafe.Pointer(&out[0])), C.int(n), (*C.int64_t)(unsafe.Pointer(&sc.rest[0])))
	runtime.KeepAlive(head)
	runtime.KeepAlive(re)
	return after(hrc, C.int(sc.rest[0]), sc.out[:2*hn], out[:2*n], sc.rest[1], sc.rest[2], hdst, dst)
}

// after is FindAfter's result from f2bx_match_after's: head's result and
// offsets (hout), re's (rrc, out) and the rest's start and end.
func after(hrc, rrc C.int, hout, out []int64, start, end int64, hdst, dst []int) (a After, ok bool) {
	switch {
	case hrc == C.PCRE2_ERROR_NOMATCH:
		return After{}, true
	case hrc <= 0:
		return After{}, false
	}
	a.Head = copyLoc(hdst, hout)
	switch {
	case rrc > 0:
		a.Rest, a.RestOK = copyLoc(dst, out), true
	case rrc == C.PCRE2_ERROR_NOMATCH:
		a.RestOK = true
	}
	a.Start, a.End = int(start), int(end)
	return a, true
}
