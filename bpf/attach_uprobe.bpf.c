// SPDX-License-Identifier: GPL-2.0
/*
 * attach_uprobe.bpf.c - user-space probes: uprobe, uretprobe, USDT.
 *
 * Idea: the two ways of naming the attach point, and libbpf's USDT support
 * library (usdt.bpf.h: two weak maps, __bpf_usdt_specs and
 * __bpf_usdt_ip_to_spec_id, weak hidden subprograms, and a .kconfig extern
 * LINUX_HAS_BPF_COOKIE):
 *   uprobe_manual      SEC("uprobe")      user space chooses binary + offset
 *   uretprobe_manual   SEC("uretprobe")
 *   uprobe_auto        SEC("uprobe//proc/self/exe:uprobe_target_func")
 *                      path and symbol in the section name (the loader
 *                      resolves /proc/self/exe in its own process)
 *   uretprobe_auto     SEC("uretprobe//proc/self/exe:uprobe_target_func")
 *   usdt_manual        SEC("usdt")        user space chooses binary,
 *                      provider, name
 *   usdt_auto          SEC("usdt//proc/self/exe:ebpf_test:probe2")
 *
 * The probed function is expected to look like
 *   int uprobe_target_func(int a, int b) { return a + b; }
 * and the USDT probes to carry two integer arguments. Each program counts
 * its hits (filtered on `target_tgid`, .rodata, 0 = everyone) and keeps
 * the last arguments / return value seen.
 *
 * BPF_KPROBE/BPF_KRETPROBE read the arguments and the return value from the
 * registers of the architecture's pt_regs: the Makefile builds it for x86-64
 * (attach_uprobe.bpf.o) and arm64 (arm64/attach_uprobe.bpf.o). The USDT
 * programs are the same on both: usdt.bpf.h reads registers at the offsets
 * user space decoded from the probe's notes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

const volatile int target_tgid = 0;

__u64 uprobe_manual_hits, uretprobe_manual_hits;
__u64 uprobe_auto_hits, uretprobe_auto_hits;
__u64 usdt_manual_hits, usdt_auto_hits;
int last_a, last_b, last_ret;
long last_usdt_a, last_usdt_b;
long last_usdt_cookie;

static __always_inline bool is_target(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == (__u32)target_tgid;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_manual, int a, int b)
{
	if (!is_target())
		return 0;
	__sync_fetch_and_add(&uprobe_manual_hits, 1);
	last_a = a;
	last_b = b;
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_manual, int ret)
{
	if (!is_target())
		return 0;
	__sync_fetch_and_add(&uretprobe_manual_hits, 1);
	last_ret = ret;
	return 0;
}

SEC("uprobe//proc/self/exe:uprobe_target_func")
int BPF_KPROBE(uprobe_auto, int a, int b)
{
	if (!is_target())
		return 0;
	__sync_fetch_and_add(&uprobe_auto_hits, 1);
	last_a = a;
	last_b = b;
	return 0;
}

SEC("uretprobe//proc/self/exe:uprobe_target_func")
int BPF_KRETPROBE(uretprobe_auto, int ret)
{
	if (!is_target())
		return 0;
	__sync_fetch_and_add(&uretprobe_auto_hits, 1);
	last_ret = ret;
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt_manual, long a, long b)
{
	if (!is_target())
		return 0;
	__sync_fetch_and_add(&usdt_manual_hits, 1);
	last_usdt_a = a;
	last_usdt_b = b;
	last_usdt_cookie = bpf_usdt_cookie(ctx);
	return 0;
}

SEC("usdt//proc/self/exe:ebpf_test:probe2")
int BPF_USDT(usdt_auto, long a, long b)
{
	if (!is_target())
		return 0;
	__sync_fetch_and_add(&usdt_auto_hits, 1);
	last_usdt_a = a;
	last_usdt_b = b;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
