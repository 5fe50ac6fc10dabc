// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.bpf.c - the readers' metrics (ebpf.reader.events/bytes/lost) and
 * the hosting integration, measured against events whose number the test
 * knows.
 *
 * emit (tp/syscalls/sys_enter_getpid), for the thread `target_tid` only (so
 * that other tests of the same process calling getpid() add nothing):
 *   - one 64-byte struct metrics_sample into `small_rb`, a ring buffer of one page
 *     (4096 bytes: 56 records with their 8-byte headers), and when the ring
 *     is full it counts the drop in `small_rb_dropped`;
 *   - the same sample into the perf event array `samples` (the reader's
 *     rings overflow into PERF_RECORD_LOST records when not drained).
 * `calls` counts every run of emit for the target thread.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct metrics_sample {
	__u32 tgid;
	__u32 seq;
	__u8 payload[56];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} small_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} samples SEC(".maps");

const volatile __u32 target_tid = 0;

__u64 small_rb_dropped = 0;
__u64 calls = 0;

/* A ring buffer has no value type: this keeps struct metrics_sample in the BTF. */
struct metrics_sample *unused_sample __attribute__((unused));

SEC("tp/syscalls/sys_enter_getpid")
int emit(void *ctx)
{
	struct metrics_sample local = {};
	struct metrics_sample *s;
	__u64 id = bpf_get_current_pid_tgid();

	if ((__u32)id != target_tid)
		return 0;
	__sync_fetch_and_add(&calls, 1);
	local.tgid = id >> 32;
	local.seq = (__u32)calls;

	s = bpf_ringbuf_reserve(&small_rb, sizeof(*s), 0);
	if (s) {
		__builtin_memcpy(s, &local, sizeof(local));
		bpf_ringbuf_submit(s, 0);
	} else {
		__sync_fetch_and_add(&small_rb_dropped, 1);
	}
	bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU, &local, sizeof(local));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
