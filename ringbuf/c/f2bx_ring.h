/*
 * f2bx_ring.h - write log lines into an f2bx shared-memory ring from C.
 * Header only; C11 or GNU C with __atomic builtins. The layout is
 * documented in ringbuf/layout.go.
 *
 *   struct f2bx_ring r;
 *   if (f2bx_ring_open(&r, "/dev/shm/f2bx-sshd", -1) != 0) ...
 *   f2bx_ring_write(&r, line, len);        // 0, or -EAGAIN when full
 *   f2bx_ring_close(&r);
 *
 * One writer per segment: a process (or thread) opens its own.
 */
#ifndef F2BX_RING_H
#define F2BX_RING_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define F2BX_RING_HEADER 4096
#define F2BX_RING_LINE 64

struct f2bx_ring {
	unsigned char *mem;
	size_t size;
	uint32_t segments, lines, line_size, readers, overwrite;
	int seg;
	uint64_t idx, min_read;
};

static inline uint32_t f2bx__u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t f2bx__u64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* CRC-32C (Castagnoli) of the 64 constant header bytes, checksum zeroed. */
static inline uint32_t f2bx__checksum(const unsigned char *h) {
	unsigned char b[64];
	uint32_t crc = 0xffffffffu;
	memcpy(b, h, 64);
	memset(b + 12, 0, 4);
	for (int i = 0; i < 64; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static inline unsigned char *f2bx__segment(struct f2bx_ring *r, int s) {
	size_t seg = (size_t)(1 + r->readers) * F2BX_RING_LINE + (size_t)r->lines * r->line_size;
	return r->mem + F2BX_RING_HEADER + (size_t)s * seg;
}

static inline int f2bx__alive(uint32_t pid) {
	return pid != 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Opens the ring at path and claims segment (or the first free one when
 * segment < 0; a segment whose writer died is taken over). Returns 0 or
 * a negative errno (-EINVAL: not a valid ring; -EBUSY: no segment). */
static inline int f2bx_ring_open(struct f2bx_ring *r, const char *path, int segment) {
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	memset(r, 0, sizeof *r);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || st.st_size < F2BX_RING_HEADER) {
		close(fd);
		return -EINVAL;
	}
	r->size = (size_t)st.st_size;
	r->mem = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (r->mem == MAP_FAILED) {
		r->mem = NULL;
		return -errno;
	}
	const unsigned char *h = r->mem;
	r->segments = f2bx__u32(h + 16);
	r->lines = f2bx__u32(h + 20);
	r->line_size = f2bx__u32(h + 24);
	r->readers = f2bx__u32(h + 28);
	r->overwrite = f2bx__u32(h + 32) & 1;
	size_t seg = (size_t)(1 + r->readers) * F2BX_RING_LINE + (size_t)r->lines * r->line_size;
	if (memcmp(h, "F2BXRING", 8) != 0 || f2bx__u32(h + 8) != 1 || f2bx__u32(h + 12) != f2bx__checksum(h) ||
	    r->lines == 0 || (r->lines & (r->lines - 1)) != 0 || r->line_size < 8 ||
	    f2bx__u64(h + 40) != r->size || F2BX_RING_HEADER + r->segments * seg != r->size) {
		munmap(r->mem, r->size);
		r->mem = NULL;
		return -EINVAL;
	}
	uint32_t me = (uint32_t)getpid();
	for (int s = 0; s < (int)r->segments; s++) {
		if (segment >= 0 && s != segment)
			continue;
		unsigned char *sp = f2bx__segment(r, s);
		uint32_t *state = (uint32_t *)(sp + 8), *pid = (uint32_t *)(sp + 12), zero = 0;
		uint32_t old = __atomic_load_n(pid, __ATOMIC_ACQUIRE);
		if (__atomic_compare_exchange_n(state, &zero, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
		    (!f2bx__alive(old) && __atomic_compare_exchange_n(pid, &old, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))) {
			__atomic_store_n(pid, me, __ATOMIC_RELEASE);
			r->seg = s;
			r->idx = __atomic_load_n((uint64_t *)sp, __ATOMIC_ACQUIRE);
			r->min_read = 0;
			return 0;
		}
	}
	munmap(r->mem, r->size);
	r->mem = NULL;
	return -EBUSY;
}

/* room: lines that fit before the slowest attached reader (lossless);
 * dead readers are released when the ring looks full. */
static inline uint64_t f2bx__room(struct f2bx_ring *r) {
	unsigned char *sp = f2bx__segment(r, r->seg);
	if (r->idx - r->min_read < r->lines)
		return r->lines - (r->idx - r->min_read);
	for (int pass = 0; pass < 2; pass++) {
		uint64_t min = r->idx;
		int slowest = -1;
		for (uint32_t k = 0; k < r->readers; k++) {
			unsigned char *slot = r->mem + 64 + 64 * k;
			if (__atomic_load_n((uint32_t *)slot, __ATOMIC_ACQUIRE) != 1)
				continue;
			uint64_t ri = __atomic_load_n((uint64_t *)(sp + F2BX_RING_LINE * (1 + k)), __ATOMIC_ACQUIRE);
			if (ri < min) {
				min = ri;
				slowest = (int)k;
			}
		}
		r->min_read = min;
		if (r->idx - min < r->lines || slowest < 0)
			break;
		unsigned char *slot = r->mem + 64 + 64 * slowest;
		if (!f2bx__alive(__atomic_load_n((uint32_t *)(slot + 4), __ATOMIC_ACQUIRE))) {
			uint32_t one = 1;
			__atomic_compare_exchange_n((uint32_t *)slot, &one, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
			continue;
		}
		break;
	}
	return r->idx - r->min_read >= r->lines ? 0 : r->lines - (r->idx - r->min_read);
}

/* wake: bumps the wake sequence of every reader slot with sleepers and
 * wakes them (a shared futex). */
static inline void f2bx__wake(struct f2bx_ring *r) {
	for (uint32_t k = 0; k < r->readers; k++) {
		unsigned char *slot = r->mem + 64 + 64 * k;
		if (__atomic_load_n((uint32_t *)(slot + 20), __ATOMIC_SEQ_CST) == 0)
			continue;
		__atomic_add_fetch((uint32_t *)(slot + 16), 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, (uint32_t *)(slot + 16), FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
	}
}

/* Writes one line (cut to the ring's line size). Returns 0, or -EAGAIN
 * when a lossless ring is full. */
static inline int f2bx_ring_write(struct f2bx_ring *r, const char *line, size_t len) {
	if (!r->overwrite && f2bx__room(r) == 0)
		return -EAGAIN;
	unsigned char *sp = f2bx__segment(r, r->seg);
	unsigned char *slot = sp + (size_t)(1 + r->readers) * F2BX_RING_LINE + (size_t)(r->idx & (r->lines - 1)) * r->line_size;
	uint32_t n = len > r->line_size - 4 ? r->line_size - 4 : (uint32_t)len;
	memcpy(slot, &n, 4);
	memcpy(slot + 4, line, n);
	r->idx++;
	/* Sequentially consistent: the store before the sleepers' loads, as
	 * the readers count themselves before they look. */
	__atomic_store_n((uint64_t *)sp, r->idx, __ATOMIC_SEQ_CST);
	f2bx__wake(r);
	return 0;
}

/* Releases the segment and unmaps the ring. */
static inline void f2bx_ring_close(struct f2bx_ring *r) {
	if (!r->mem)
		return;
	unsigned char *sp = f2bx__segment(r, r->seg);
	if (__atomic_load_n((uint32_t *)(sp + 12), __ATOMIC_ACQUIRE) == (uint32_t)getpid())
		__atomic_store_n((uint32_t *)(sp + 8), 0, __ATOMIC_RELEASE);
	munmap(r->mem, r->size);
	r->mem = NULL;
}

#endif
