// SPDX-License-Identifier: GPL-2.0
/*
 * bench.bpf.c - the performance object: a bit of everything the runtime
 * has to make fast.
 *
 * Maps: bench_hash (HASH) and bench_array (ARRAY), both u32 -> u64 with
 * max_entries 1024 (user space may resize either before load), and
 * bench_rb, a 16 MiB ring buffer. Globals in .rodata, .data and .bss.
 *
 * Programs:
 *   count_getpid  tp/syscalls/sys_enter_getpid, CO-RE: reads task->tgid
 *                 through BPF_CORE_READ; for `target_tgid` (.rodata, 0 =
 *                 everyone) bumps bench_hash[tgid % max], bench_array[0],
 *                 the .bss counter tp_hits and the .data counter
 *                 data_hits (which starts at 0 but lives in .data).
 *   emit_16       SEC("syscall"), ctx struct bench_emit_args
 *   emit_256      SEC("syscall"), same ctx
 *   emit          SEC("syscall"), same ctx, event size taken from ctx
 *   pb_emit_16    SEC("raw_tp"), never attached: run with BPF_PROG_TEST_RUN
 *   pb_emit_256   (BPF_F_TEST_RUN_ON_CPU picks the CPU), ctx: u64 args[1]
 *                 = the count; write that many 16-/256-byte events into the
 *                 running CPU's ring of bench_pb with bpf_perf_event_output
 *
 * The emit programs, run with BPF_PROG_TEST_RUN and a ctx
 *   struct bench_emit_args { __u32 count; __u32 size; };   (8 bytes)
 * write `count` events into bench_rb from a bpf_loop callback:
 *   emit_16  16-byte struct bench_event16 via bpf_ringbuf_reserve/submit
 *            (ctx.size is ignored)
 *   emit_256 256-byte struct bench_event256 via bpf_ringbuf_reserve/submit
 *            (ctx.size is ignored)
 *   emit     bpf_ringbuf_output of ctx.size bytes, 16 or 256 (anything
 *            else: returns -22 without emitting)
 * Each event starts with { __u64 seq; __u32 size; __u32 cpu; } (seq counts
 * from 0 within one run); 256-byte events carry a payload of 0xab bytes.
 * They return the number of events emitted (less than count if the ring
 * buffer filled up: the rest are counted in .bss `dropped`). bpf_loop
 * allows up to 1 << 23 iterations per call. Each record takes its size
 * plus an 8-byte header in the ring, so without a consumer 16 MiB holds
 * 699050 16-byte or 63550 256-byte events.
 *
 * bench_pb is a BPF_MAP_TYPE_PERF_EVENT_ARRAY (one slot per CPU, sized by
 * the loader) for the perf buffer comparison. A sample of n bytes takes
 * 8 (header) + 4 (size) + n bytes rounded up to 8 in a CPU's ring: 32 bytes
 * for 16-byte events, 272 for 256-byte ones. The pb_emit programs return the
 * number of events written (they stop at the first failure, e.g. a full ring,
 * and count the rest in .bss `pb_dropped`).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct bench_emit_args {
	__u32 count;
	__u32 size;
};

struct bench_event_hdr {
	__u64 seq;
	__u32 size;
	__u32 cpu;
};

struct bench_event16 {
	struct bench_event_hdr hdr;
};

struct bench_event256 {
	struct bench_event_hdr hdr;
	__u8 payload[256 - sizeof(struct bench_event_hdr)];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} bench_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} bench_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} bench_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} bench_pb SEC(".maps");

/* .rodata */
const volatile int target_tgid = 0;
const volatile __u32 hash_slots = 1024;	/* keep in sync with a resized bench_hash */
/* .data (explicitly: a zero initialiser alone would land in .bss) */
__u64 data_hits SEC(".data") = 0;
__u32 payload_byte = 0xab;
/* .bss */
__u64 tp_hits;
__u64 emitted, dropped;
__u64 pb_dropped;

/* keep the event types in BTF for user space */
struct bench_event16 *unused_event16 __attribute__((unused));
struct bench_event256 *unused_event256 __attribute__((unused));

SEC("tp/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = BPF_CORE_READ(task, tgid), key, zero = 0;
	__u64 one = 1, *v;

	if (target_tgid && tgid != (__u32)target_tgid)
		return 0;

	key = hash_slots ? tgid % hash_slots : tgid;
	v = bpf_map_lookup_elem(&bench_hash, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&bench_hash, &key, &one, BPF_NOEXIST);

	v = bpf_map_lookup_elem(&bench_array, &zero);
	if (v)
		__sync_fetch_and_add(v, 1);

	__sync_fetch_and_add(&tp_hits, 1);
	__sync_fetch_and_add(&data_hits, 1);
	return 0;
}

struct emit_state {
	__u32 cpu;
	__u32 size;
	__u64 done;
};

static long emit16_cb(__u32 i, void *data)
{
	struct emit_state *st = data;
	struct bench_event16 *e;

	e = bpf_ringbuf_reserve(&bench_rb, sizeof(*e), 0);
	if (!e)
		return 1;	/* full: stop */
	e->hdr.seq = i;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = st->cpu;
	bpf_ringbuf_submit(e, 0);
	st->done++;
	return 0;
}

static long emit256_cb(__u32 i, void *data)
{
	struct emit_state *st = data;
	struct bench_event256 *e;

	e = bpf_ringbuf_reserve(&bench_rb, sizeof(*e), 0);
	if (!e)
		return 1;
	e->hdr.seq = i;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = st->cpu;
	__builtin_memset(e->payload, 0xab, sizeof(e->payload));
	bpf_ringbuf_submit(e, 0);
	st->done++;
	return 0;
}

static long output_cb(__u32 i, void *data)
{
	struct emit_state *st = data;
	struct bench_event256 e;	/* 256 bytes of stack, of the 512 allowed */

	e.hdr.seq = i;
	e.hdr.size = st->size;
	e.hdr.cpu = st->cpu;
	__builtin_memset(e.payload, payload_byte, sizeof(e.payload));
	if (bpf_ringbuf_output(&bench_rb, &e, st->size == 16 ? 16 : 256, 0))
		return 1;
	st->done++;
	return 0;
}

static __always_inline int finish(struct emit_state *st, __u32 count)
{
	__sync_fetch_and_add(&emitted, st->done);
	if (st->done < count)
		__sync_fetch_and_add(&dropped, count - st->done);
	return st->done;
}

SEC("syscall")
int emit_16(struct bench_emit_args *args)
{
	struct emit_state st = { .cpu = bpf_get_smp_processor_id(), .size = 16 };
	__u32 count = args->count;

	bpf_loop(count, emit16_cb, &st, 0);
	return finish(&st, count);
}

SEC("syscall")
int emit_256(struct bench_emit_args *args)
{
	struct emit_state st = { .cpu = bpf_get_smp_processor_id(), .size = 256 };
	__u32 count = args->count;

	bpf_loop(count, emit256_cb, &st, 0);
	return finish(&st, count);
}

SEC("syscall")
int emit(struct bench_emit_args *args)
{
	struct emit_state st = { .cpu = bpf_get_smp_processor_id(), .size = args->size };
	__u32 count = args->count;

	if (st.size != 16 && st.size != 256)
		return -22;
	bpf_loop(count, output_cb, &st, 0);
	return finish(&st, count);
}

struct pb_state {
	void *ctx;
	__u32 cpu;
	__u32 pad;
	__u64 done;
};

static long pb16_cb(__u32 i, void *data)
{
	struct pb_state *st = data;
	struct bench_event16 e = {
		.hdr = { .seq = i, .size = sizeof(e), .cpu = st->cpu },
	};

	if (bpf_perf_event_output(st->ctx, &bench_pb, BPF_F_CURRENT_CPU, &e, sizeof(e)))
		return 1;
	st->done++;
	return 0;
}

static long pb256_cb(__u32 i, void *data)
{
	struct pb_state *st = data;
	struct bench_event256 e;

	e.hdr.seq = i;
	e.hdr.size = sizeof(e);
	e.hdr.cpu = st->cpu;
	__builtin_memset(e.payload, 0xab, sizeof(e.payload));
	if (bpf_perf_event_output(st->ctx, &bench_pb, BPF_F_CURRENT_CPU, &e, sizeof(e)))
		return 1;
	st->done++;
	return 0;
}

static __always_inline int pb_finish(struct pb_state *st, __u32 count)
{
	if (st->done < count)
		__sync_fetch_and_add(&pb_dropped, count - st->done);
	return st->done;
}

SEC("raw_tp")
int pb_emit_16(struct bpf_raw_tracepoint_args *ctx)
{
	struct pb_state st = { .ctx = ctx, .cpu = bpf_get_smp_processor_id() };
	__u32 count = ctx->args[0];

	bpf_loop(count, pb16_cb, &st, 0);
	return pb_finish(&st, count);
}

SEC("raw_tp")
int pb_emit_256(struct bpf_raw_tracepoint_args *ctx)
{
	struct pb_state st = { .ctx = ctx, .cpu = bpf_get_smp_processor_id() };
	__u32 count = ctx->args[0];

	bpf_loop(count, pb256_cb, &st, 0);
	return pb_finish(&st, count);
}

char LICENSE[] SEC("license") = "GPL";
