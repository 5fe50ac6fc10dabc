// SPDX-License-Identifier: GPL-2.0
/*
 * attach_kprobe.bpf.c - the kprobe family of attach kinds.
 *
 * Idea: dynamic kernel probes, each program counting into its own .bss
 * counter (filtered on `target_tgid`, .rodata, 0 = everything):
 *   unlink_entry     SEC("kprobe/do_unlinkat")        function entry,
 *                    arguments via BPF_KPROBE (pt_regs): records dfd
 *   unlink_exit      SEC("kretprobe/do_unlinkat")     function return,
 *                    records the last return value
 *   getpgid_multi    SEC("kprobe.multi/__x64_sys_getpgid") one link, many
 *                    (here: one) functions; names may be globs
 *   getpgid_multi_ret SEC("kretprobe.multi/__x64_sys_getpgid")
 *   getpgid_sys      SEC("ksyscall/getpgid")           syscall entry with
 *                    the syscall's own arguments (BPF_KSYSCALL; the loader
 *                    finds the arch-specific wrapper, __x64_sys_getpgid)
 *
 * The C depends on the target architecture: pt_regs (BPF_KPROBE reads the
 * arguments from its registers, BPF_KSYSCALL from the wrapper's inner
 * pt_regs) and the syscall wrapper's name in the kprobe.multi sections
 * (SYS_PREFIX: __x64_sys_ or __arm64_sys_). The Makefile builds it twice:
 * attach_kprobe.bpf.o (-D__TARGET_ARCH_x86) and arm64/attach_kprobe.bpf.o
 * (-D__TARGET_ARCH_arm64, arm64/vmlinux.h).
 *   getpgid_sysret   SEC("kretsyscall/getpgid")
 * A test calling unlink() N times and getpgid(P) M times sees
 *   unlinks = unlink_rets = N, getpgid_multi_hits = getpgid_multi_rets =
 *   getpgid_sys_hits = getpgid_sys_rets = M, last_unlink_dfd = AT_FDCWD
 *   (-100: libc's unlink is unlinkat(AT_FDCWD, ...) or the kernel's unlink
 *   passes it) and last_getpgid_arg = P: the arguments as the architecture's
 *   calling convention puts them in pt_regs.
 *
 * This machine's kernel has CONFIG_KPROBES=n: the programs load
 * (BPF_PROG_TYPE_KPROBE also serves uprobes) but cannot be attached.
 * ksyscall needs LINUX_HAS_SYSCALL_WRAPPER, which libbpf probes with a
 * kprobe, so it is 0 here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#if defined(__TARGET_ARCH_arm64)
#define SYS_PREFIX "__arm64_sys_"
#elif defined(__TARGET_ARCH_x86)
#define SYS_PREFIX "__x64_sys_"
#else
#error "attach_kprobe.bpf.c: define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

const volatile int target_tgid = 0;

__u64 unlinks, unlink_rets;
long last_unlink_ret;
int last_unlink_dfd;
__u64 getpgid_multi_hits, getpgid_multi_rets;
__u64 getpgid_sys_hits, getpgid_sys_rets;
int last_getpgid_arg;

static __always_inline bool is_target(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == (__u32)target_tgid;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_entry, int dfd, struct filename *name)
{
	if (is_target()) {
		__sync_fetch_and_add(&unlinks, 1);
		last_unlink_dfd = dfd;
	}
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(unlink_exit, long ret)
{
	if (is_target()) {
		__sync_fetch_and_add(&unlink_rets, 1);
		last_unlink_ret = ret;
	}
	return 0;
}

SEC("kprobe.multi/" SYS_PREFIX "getpgid")
int getpgid_multi(struct pt_regs *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&getpgid_multi_hits, 1);
	return 0;
}

SEC("kretprobe.multi/" SYS_PREFIX "getpgid")
int getpgid_multi_ret(struct pt_regs *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&getpgid_multi_rets, 1);
	return 0;
}

SEC("ksyscall/getpgid")
int BPF_KSYSCALL(getpgid_sys, pid_t pid)
{
	if (is_target()) {
		__sync_fetch_and_add(&getpgid_sys_hits, 1);
		last_getpgid_arg = pid;
	}
	return 0;
}

SEC("kretsyscall/getpgid")
int BPF_KRETPROBE(getpgid_sysret, long ret)
{
	if (is_target())
		__sync_fetch_and_add(&getpgid_sys_rets, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
