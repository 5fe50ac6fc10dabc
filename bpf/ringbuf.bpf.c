// SPDX-License-Identifier: GPL-2.0
/*
 * ringbuf.bpf.c - ring-buffer records on demand, written from a tracepoint:
 * BPF_MAP_TYPE_RINGBUF (Linux 5.8) is the newest thing it needs.
 *
 * Idea: the ring-buffer reader tests need exact, numbered records in any
 * amount, without depending on what else the machine does. A thread sets
 * `target_tid` to itself and calls getpid(): each call writes `batch`
 * records (at most 512) for that thread only, and nothing for anyone else.
 *
 * Map: rb, a 16 MiB ring buffer. Globals (.bss), set by user space:
 *   target_tid  the only thread whose getpid() writes records (0: none)
 *   mode        which program writes: 16 (emit_16), 256 (emit_256),
 *               1 (emit); 0: none
 *   batch       records per getpid() call, at most MAX_BATCH (512)
 *   size        record size for `emit`: 16 or 256 (anything else: none)
 *   next_seq    sequence number of the next record (user space resets it)
 * and counted by the programs: emitted, dropped (records that did not fit:
 * a full ring drops the rest of the batch).
 *
 * Programs, all on tp/syscalls/sys_enter_getpid, each active in its mode:
 *   emit_16   16-byte struct event16 via bpf_ringbuf_reserve/submit
 *   emit_256  256-byte struct event256 via bpf_ringbuf_reserve/submit, the
 *             payload filled with 0xab
 *   emit      bpf_ringbuf_output of `size` bytes (a copy)
 * Each record starts with { __u64 seq; __u32 size; __u32 cpu; }. A record
 * takes its size plus an 8-byte header in the ring, so without a consumer
 * 16 MiB holds 699050 16-byte or 63550 256-byte records.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_BATCH 512

struct event_hdr {
	__u64 seq;
	__u32 size;
	__u32 cpu;
};

struct event16 {
	struct event_hdr hdr;
};

struct event256 {
	struct event_hdr hdr;
	__u8 payload[256 - sizeof(struct event_hdr)];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} rb SEC(".maps");

__u32 target_tid, mode, batch, size;
__u64 next_seq, emitted, dropped;

static __always_inline bool active(__u32 want)
{
	return mode == want && target_tid && (__u32)bpf_get_current_pid_tgid() == target_tid;
}

/* Plain adds: only the target thread gets here, one getpid() at a time. */
static __always_inline void count(__u32 done, __u32 wanted)
{
	emitted += done;
	dropped += wanted - done;
}

SEC("tp/syscalls/sys_enter_getpid")
int emit_16(void *ctx)
{
	__u32 n = batch, cpu = bpf_get_smp_processor_id(), i;
	struct event16 *e;

	if (!active(16))
		return 0;
	for (i = 0; i < MAX_BATCH && i < n; i++) {
		e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
		if (!e)
			break;
		e->hdr.seq = next_seq++;
		e->hdr.size = sizeof(*e);
		e->hdr.cpu = cpu;
		bpf_ringbuf_submit(e, 0);
	}
	count(i, n);
	return 0;
}

SEC("tp/syscalls/sys_enter_getpid")
int emit_256(void *ctx)
{
	__u32 n = batch, cpu = bpf_get_smp_processor_id(), i;
	struct event256 *e;

	if (!active(256))
		return 0;
	for (i = 0; i < MAX_BATCH && i < n; i++) {
		e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
		if (!e)
			break;
		e->hdr.seq = next_seq++;
		e->hdr.size = sizeof(*e);
		e->hdr.cpu = cpu;
		__builtin_memset(e->payload, 0xab, sizeof(e->payload));
		bpf_ringbuf_submit(e, 0);
	}
	count(i, n);
	return 0;
}

SEC("tp/syscalls/sys_enter_getpid")
int emit(void *ctx)
{
	__u32 n = batch, len = size, i;
	struct event256 e;	/* 256 bytes of stack, of the 512 allowed */

	if (!active(1) || (len != 16 && len != 256))
		return 0;
	e.hdr.size = len;
	e.hdr.cpu = bpf_get_smp_processor_id();
	__builtin_memset(e.payload, 0xab, sizeof(e.payload));
	for (i = 0; i < MAX_BATCH && i < n; i++) {
		e.hdr.seq = next_seq++;
		if (bpf_ringbuf_output(&rb, &e, len == 16 ? 16 : 256, 0))
			break;
	}
	count(i, n);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
