// SPDX-License-Identifier: GPL-2.0
/*
 * maps.bpf.c - one of every BTF-defined map kind (SEC(".maps")).
 *
 * Idea: the map-definition parser. Every map below uses a different map
 * type or definition feature: key/value given by __type() or by size, no key
 * at all (queue/stack), map_flags, pinning, a struct value type. No map is
 * unused:
 *   - touch_all  (tp/syscalls/sys_enter_getpid) uses every one of them,
 *     including the ctx-needing stack_trace and perf_event_array maps;
 *   - fill       (SEC("xdp"), run via BPF_PROG_TEST_RUN with any packet of
 *     14 bytes or more) writes deterministic values into some of them (see
 *     the comment above it).
 * No global variables on purpose: the only maps in this object are the
 * BTF-defined ones. Every map kind here exists in Linux 5.8 (the ring buffer
 * is the newest); newer kinds have their own objects (maps_bloom.bpf.c:
 * bloom filter and map_extra, 5.16), so that a test of one kind needs only
 * a kernel with that kind.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define PERF_MAX_STACK_DEPTH 127

struct stats {
	__u64 calls;
	__u64 bytes;
	__u32 last_tgid;
	__u32 flags;
	char comm[16];
};

struct lpm_v4_key {
	__u32 prefixlen;	/* first member, in bits */
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} array_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} percpu_hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} percpu_array_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} lru_hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} lru_percpu_hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 32);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* mandatory for LPM tries */
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
} lpm_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);	/* no key */
	__uint(max_entries, 16);
	__type(value, __u32);
} queue_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);	/* no key */
	__uint(max_entries, 16);
	__type(value, __u32);
} stack_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 128);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PERF_MAX_STACK_DEPTH * sizeof(__u64));
} stack_trace_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);	/* bytes, power of 2, page multiple */
} ringbuf_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(__u32));
	/* max_entries left 0: libbpf sizes it to the number of possible CPUs */
} perf_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);	/* <pin root>/pinned_map */
} pinned_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct stats);
} stats_map SEC(".maps");

struct map_sample {
	__u32 tgid;
	__u32 seq;
};

SEC("tp/syscalls/sys_enter_getpid")
int touch_all(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 zero = 0, slot = tgid % 16, v32 = tgid;
	__u64 one = 1, *val;
	struct stats *st, init = {};
	struct lpm_v4_key lkey = { .prefixlen = 32, .addr = { 127, 0, 0, 1 } };
	struct map_sample s = { .tgid = tgid };
	long id;

	/* hash: calls per tgid */
	val = bpf_map_lookup_elem(&hash_map, &tgid);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&hash_map, &tgid, &one, BPF_NOEXIST);

	/* array: calls per tgid bucket */
	val = bpf_map_lookup_elem(&array_map, &slot);
	if (val)
		__sync_fetch_and_add(val, 1);

	/* per-CPU flavours: no atomics needed */
	val = bpf_map_lookup_elem(&percpu_hash_map, &tgid);
	if (val)
		*val += 1;
	else
		bpf_map_update_elem(&percpu_hash_map, &tgid, &one, BPF_NOEXIST);
	val = bpf_map_lookup_elem(&percpu_array_map, &zero);
	if (val)
		*val += 1;

	/* LRU flavours */
	val = bpf_map_lookup_elem(&lru_hash_map, &tgid);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&lru_hash_map, &tgid, &one, BPF_ANY);
	val = bpf_map_lookup_elem(&lru_percpu_hash_map, &tgid);
	if (val)
		*val += 1;
	else
		bpf_map_update_elem(&lru_percpu_hash_map, &tgid, &one, BPF_ANY);

	/* LPM trie: longest-prefix lookup of 127.0.0.1; a hit bumps the value */
	{
		__u32 *hits = bpf_map_lookup_elem(&lpm_map, &lkey);

		if (hits)
			__sync_fetch_and_add(hits, 1);
	}

	/* queue / stack: push our tgid (BPF_EXIST: when full, drop the oldest) */
	bpf_map_push_elem(&queue_map, &v32, BPF_EXIST);
	bpf_map_push_elem(&stack_map, &v32, BPF_EXIST);

	/*
	 * stack trace of the calling thread's user stack, id kept in the stats
	 * value (on some kernels, 5.10 among them, a syscall tracepoint's
	 * registers are the user-mode ones, so its kernel stack comes out
	 * empty: the user stack works on every kernel)
	 */
	id = bpf_get_stackid(ctx, &stack_trace_map, BPF_F_USER_STACK);

	/* pinned map: same as hash_map, but it survives the loader */
	val = bpf_map_lookup_elem(&pinned_map, &tgid);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&pinned_map, &tgid, &one, BPF_NOEXIST);

	/* struct value */
	st = bpf_map_lookup_elem(&stats_map, &tgid);
	if (!st) {
		bpf_map_update_elem(&stats_map, &tgid, &init, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stats_map, &tgid);
		if (!st)
			return 0;
	}
	st->calls++;
	st->last_tgid = tgid;
	st->flags = id >= 0 ? 1 : 0;
	bpf_get_current_comm(st->comm, sizeof(st->comm));

	/* both event channels */
	s.seq = st->calls;
	bpf_ringbuf_output(&ringbuf_map, &s, sizeof(s), 0);
	bpf_perf_event_output(ctx, &perf_map, BPF_F_CURRENT_CPU, &s, sizeof(s));
	return 0;
}

/*
 * Deterministic writes for tests (BPF_PROG_TEST_RUN with any packet): after
 * one run
 *   hash_map[1] = 100, array_map[1] = 200, lru_hash_map[1] = 300,
 *   percpu_array_map[2] = 400 on the CPU it ran on,
 *   stats_map[1] = { .calls = 1, .bytes = 4096, .last_tgid = 1 },
 *   one 8-byte ringbuf record { .tgid = 1, .seq = 2 }. Returns 0.
 * The other maps are only touched by touch_all; fill queue_map / stack_map
 * from user space (BPF_MAP_UPDATE_ELEM, NULL key).
 */
static __always_inline void set_u64(void *map, __u32 key, __u64 v)
{
	bpf_map_update_elem(map, &key, &v, BPF_ANY);
}

SEC("xdp")
int fill(struct xdp_md *ctx)
{
	__u32 key = 1;
	struct stats st = { .calls = 1, .bytes = 4096, .last_tgid = 1 };
	struct map_sample s = { .tgid = 1, .seq = 2 };

	set_u64(&hash_map, 1, 100);
	set_u64(&array_map, 1, 200);
	set_u64(&lru_hash_map, 1, 300);
	set_u64(&percpu_array_map, 2, 400);
	bpf_map_update_elem(&stats_map, &key, &st, BPF_ANY);
	bpf_ringbuf_output(&ringbuf_map, &s, sizeof(s), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
