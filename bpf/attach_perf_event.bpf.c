// SPDX-License-Identifier: GPL-2.0
/*
 * attach_perf_event.bpf.c - a program run on perf event samples.
 *
 * Idea: SEC("perf_event") (BPF_PROG_TYPE_PERF_EVENT) attached to a
 * perf_event_open() fd, e.g. a software cpu-clock event with a sample
 * period/frequency, with PERF_EVENT_IOC_SET_BPF or a perf link. Each sample
 * runs on_sample, which counts samples in total (`samples`), per CPU
 * (`cpu_samples`, a PERCPU_ARRAY with one slot) and for `target_tgid`
 * (.rodata, 0 = every task) in `target_samples`, and keeps the sample
 * period the kernel reports.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile int target_tgid = 0;

__u64 samples, target_samples;
__u64 last_sample_period;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cpu_samples SEC(".maps");

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u32 zero = 0;
	__u64 *per_cpu;

	__sync_fetch_and_add(&samples, 1);
	last_sample_period = ctx->sample_period;

	per_cpu = bpf_map_lookup_elem(&cpu_samples, &zero);
	if (per_cpu)
		*per_cpu += 1;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) == (__u32)target_tgid)
		__sync_fetch_and_add(&target_samples, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
