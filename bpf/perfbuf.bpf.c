// SPDX-License-Identifier: GPL-2.0
/*
 * perfbuf.bpf.c - perf-buffer samples on demand, written from a tracepoint:
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY (Linux 4.3) and a tracepoint program (4.7)
 * are all it needs.
 *
 * Idea: the perf-buffer reader tests need exact samples, only the test's
 * own. A thread sets `target_tid` to itself and calls getpid(): each call
 * writes one sample to the perf ring of the CPU it runs on, and calls from
 * other threads write nothing.
 *
 * Map: samples (perf event array; max_entries 0, so the loader sizes it to
 * the possible CPUs). Globals (.bss): target_tid (set by user space; 0:
 * nobody), calls (the target's calls so far).
 *
 * Program `sample_getpid` (tp/syscalls/sys_enter_getpid): for the target
 * thread, calls += 1 and one struct perf_sample { tgid; seq = calls } through
 * bpf_perf_event_output(BPF_F_CURRENT_CPU). An 8-byte sample takes 24 bytes
 * of its CPU's ring (perf header, size, data, padding).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct perf_sample {
	__u32 tgid;
	__u32 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

__u32 target_tid;
__u64 calls;

SEC("tp/syscalls/sys_enter_getpid")
int sample_getpid(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct perf_sample s = { .tgid = id >> 32 };

	if (!target_tid || (__u32)id != target_tid)
		return 0;
	__sync_fetch_and_add(&calls, 1);
	s.seq = calls;
	bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU, &s, sizeof(s));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
