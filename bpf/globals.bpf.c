// SPDX-License-Identifier: GPL-2.0
/*
 * globals.bpf.c - global variables in every data section libbpf maps.
 *
 * Idea: .rodata (const volatile, set before load, frozen), .data
 * (initialised, read-write), .bss (zero-initialised), and the custom
 * SEC(".data.custom") / SEC(".rodata.custom") sections, each of which
 * becomes its own internal array map. Scalars, a struct, arrays and a string
 * in each, so the generated accessors cover every shape.
 *
 * Programs (same body, see account()):
 *   on_getpid  tp/syscalls/sys_enter_getpid; only counts calls from
 *              `target_pid` (a tgid; 0 = every process).
 *   run        SEC("xdp"); BPF_PROG_TEST_RUN it (with any packet of 14
 *              bytes or more: Linux 4.12 runs XDP programs on demand) to
 *              get exactly one deterministic call, accounted to
 *              `target_pid`. Returns cfg.magic.
 *
 * Nothing here needs more than global data (Linux 5.2): the counters use
 * plain atomic adds (BPF_XADD, which every kernel accepts), never the fetch
 * variants of 5.12 (those are in atomics.bpf.c).
 *
 * Per call, with the default values below:
 *   bss_calls += 1                        (.bss)
 *   bss_hist[bss_calls % 8] += 1          (.bss array)
 *   bss_stats.calls += 1, .weighted += weights[i] for i in 0..3 = 10,
 *   bss_stats.last_pid = tgid             (.bss struct)
 *   data_counter += cfg.step (= 2)        (.data, starts at 42)
 *   custom_counter += custom_step (= 5)   (.data.custom, starts at 7)
 * Big-endian twin: globals.bpfeb.o (same source, -target bpfeb).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct config {
	__u32 magic;
	__u32 step;
	__u64 threshold;
	char name[8];
};

struct stats {
	__u64 calls;
	__u64 weighted;
	__u32 last_pid;
	__u32 pad;
};

/* .rodata: set by user space before load, read-only afterwards */
const volatile __u32 target_pid = 0;
const volatile struct config cfg = {
	.magic = 0xC0DEF00D,
	.step = 2,
	.threshold = 1000,
	.name = "default",
};
const volatile __u32 weights[4] = { 1, 2, 3, 4 };
const volatile bool verbose = false;

/* .data: initialised, writable */
__u64 data_counter = 42;
char data_tag[8] = "tag";
__s32 data_signed = -1;

/* .bss: zero-initialised, writable */
__u64 bss_calls;
__u64 bss_hist[8];
struct stats bss_stats;

/* custom sections: one extra map each */
__u64 custom_counter SEC(".data.custom") = 7;
__u32 custom_array[2] SEC(".data.custom") = { 10, 20 };
const volatile __u32 custom_step SEC(".rodata.custom") = 5;
const volatile char custom_name[16] SEC(".rodata.custom") = "custom";

static __always_inline int account(__u32 tgid)
{
	__u64 calls, weighted = 0;
	int i;

	if (target_pid && tgid != target_pid)
		return 0;

	__sync_fetch_and_add(&bss_calls, 1);
	calls = bss_calls;	/* exact for one caller at a time, as the tests do */
	__sync_fetch_and_add(&bss_hist[calls % 8], 1);

	for (i = 0; i < 4; i++)
		weighted += weights[i];
	__sync_fetch_and_add(&bss_stats.calls, 1);
	__sync_fetch_and_add(&bss_stats.weighted, weighted);
	bss_stats.last_pid = tgid;

	__sync_fetch_and_add(&data_counter, cfg.step);
	__sync_fetch_and_add(&custom_counter, custom_step);
	custom_array[1] = custom_array[0] + (__u32)calls;

	if (verbose && calls > cfg.threshold)
		bpf_printk("globals: %s passed %llu calls", custom_name, cfg.threshold);
	return 1;
}

SEC("tp/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	account(bpf_get_current_pid_tgid() >> 32);
	return 0;
}

SEC("xdp")
int run(struct xdp_md *ctx)
{
	account(target_pid);
	return cfg.magic;
}

char LICENSE[] SEC("license") = "GPL";
