//go:build ignore

// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
//
// f2bx's XDP blacklist: drops every frame whose source address is banned.
//
// Exact bans live in hash maps (one lookup per frame); prefix bans in LPM
// tries, looked up only when the daemon has put a prefix there (a flag in
// the settings map), so that exact bans never pay for prefixes. Before a
// frame is dropped its source is checked against the allow tries (ignoreip,
// ignoreself): an allowed address is never dropped, whatever the ban maps
// hold. Every ban carries its own counters, updated atomically, and the
// time it ends, so that a ban left pinned by a daemon that died still ends.
//
// Frames the parser cannot read (truncated, bad header lengths) pass and
// are counted as malformed: XDP must never drop what it did not judge.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// ban_info is the value of every ban map. expires is CLOCK_MONOTONIC_COARSE in
// nanoseconds, 0 for a ban without end; packets, bytes and last_drop are
// written by the program.
struct ban_info {
	__u64 expires;
	__u64 packets;
	__u64 bytes;
	__u64 last_drop;
};

struct lpm4_key {
	__u32 prefixlen;
	__u32 addr;
};

struct lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct addr6 {
	__u8 b[16];
};

// The daemon resizes the ban maps before loading.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct ban_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 18);
	__type(key, struct addr6);
	__type(value, struct ban_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 16);
	__type(key, struct lpm4_key);
	__type(value, struct ban_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prefix4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 16);
	__type(key, struct lpm6_key);
	__type(value, struct ban_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prefix6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 12);
	__type(key, struct lpm4_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 12);
	__type(key, struct lpm6_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow6 SEC(".maps");

// Settings flags: which optional tries hold entries.
#define HAS_PREFIX4 (1 << 0)
#define HAS_PREFIX6 (1 << 1)
#define HAS_ALLOW4 (1 << 2)
#define HAS_ALLOW6 (1 << 3)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} settings SEC(".maps");

// Per-CPU totals, indexed by the verdict.
enum {
	STAT_PASSED = 0,
	STAT_DROPPED = 1,
	STAT_MALFORMED = 2,
	STAT_ALLOWED = 3, // banned, but on the allow list: passed
	STAT_EXPIRED = 4, // banned, but the ban had ended: passed
	STAT_MAX = 5,
};

struct stat {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, struct stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

static __always_inline int count(__u32 verdict, __u64 len, int action)
{
	struct stat *s = bpf_map_lookup_elem(&stats, &verdict);
	if (s) {
		s->packets++;
		s->bytes += len;
	}
	return action;
}

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct ext_hdr {
	__u8 next;
	__u8 len;
};

// judge drops or passes a frame whose source has ban b (NULL: no ban).
static __always_inline int judge(struct ban_info *b, __u64 len, int allowed)
{
	if (!b)
		return count(STAT_PASSED, len, XDP_PASS);
	__u64 now = bpf_ktime_get_coarse_ns();
	if (b->expires && b->expires <= now)
		return count(STAT_EXPIRED, len, XDP_PASS);
	if (allowed)
		return count(STAT_ALLOWED, len, XDP_PASS);
	__sync_fetch_and_add(&b->packets, 1);
	__sync_fetch_and_add(&b->bytes, len);
	b->last_drop = now;
	return count(STAT_DROPPED, len, XDP_DROP);
}

static __always_inline int ipv4(void *data, void *end, __u64 len, __u32 flags)
{
	struct iphdr *ip = data;
	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5 ||
	    data + ip->ihl * 4 > end)
		return count(STAT_MALFORMED, len, XDP_PASS);
	__u32 src = ip->saddr;
	struct ban_info *b = bpf_map_lookup_elem(&ban4, &src);
	if (!b && (flags & HAS_PREFIX4)) {
		struct lpm4_key k = {.prefixlen = 32, .addr = src};
		b = bpf_map_lookup_elem(&prefix4, &k);
	}
	int allowed = 0;
	if (b && (flags & HAS_ALLOW4)) {
		struct lpm4_key k = {.prefixlen = 32, .addr = src};
		allowed = bpf_map_lookup_elem(&allow4, &k) != NULL;
	}
	return judge(b, len, allowed);
}

// skip_ext6 walks the IPv6 extension headers so that a frame whose chain
// is cut short counts as malformed; returns 0 when the chain is readable.
static __always_inline int skip_ext6(void *p, void *end, __u8 next)
{
#pragma unroll
	for (int i = 0; i < 6; i++) {
		struct ext_hdr *h = p;
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(h + 1) > end)
				return -1;
			next = h->next;
			p += (h->len + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (p + 8 > end)
				return -1;
			next = h->next;
			p += 8;
			break;
		case IPPROTO_AH:
			if ((void *)(h + 1) > end)
				return -1;
			next = h->next;
			p += (h->len + 2) * 4;
			break;
		default:
			return p > end ? -1 : 0;
		}
	}
	return p > end ? -1 : 0;
}

static __always_inline int ipv6(void *data, void *end, __u64 len, __u32 flags)
{
	struct ipv6hdr *ip = data;
	if ((void *)(ip + 1) > end || ip->version != 6)
		return count(STAT_MALFORMED, len, XDP_PASS);
	if (skip_ext6(ip + 1, end, ip->nexthdr))
		return count(STAT_MALFORMED, len, XDP_PASS);
	struct addr6 src;
	__builtin_memcpy(&src, &ip->saddr, sizeof(src));
	struct ban_info *b = bpf_map_lookup_elem(&ban6, &src);
	if (!b && (flags & HAS_PREFIX6)) {
		struct lpm6_key k = {.prefixlen = 128};
		__builtin_memcpy(k.addr, &src, sizeof(src));
		b = bpf_map_lookup_elem(&prefix6, &k);
	}
	int allowed = 0;
	if (b && (flags & HAS_ALLOW6)) {
		struct lpm6_key k = {.prefixlen = 128};
		__builtin_memcpy(k.addr, &src, sizeof(src));
		allowed = bpf_map_lookup_elem(&allow6, &k) != NULL;
	}
	return judge(b, len, allowed);
}

SEC("xdp")
int f2bx_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 len = end - data;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return count(STAT_MALFORMED, len, XDP_PASS);
	void *p = eth + 1;
	__u16 proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_hdr *v = p;
		if ((void *)(v + 1) > end)
			return count(STAT_MALFORMED, len, XDP_PASS);
		proto = v->proto;
		p = v + 1;
	}
	__u32 zero = 0, flags = 0;
	__u32 *f = bpf_map_lookup_elem(&settings, &zero);
	if (f)
		flags = *f;
	if (proto == bpf_htons(ETH_P_IP))
		return ipv4(p, end, len, flags);
	if (proto == bpf_htons(ETH_P_IPV6))
		return ipv6(p, end, len, flags);
	return count(STAT_PASSED, len, XDP_PASS);
}
