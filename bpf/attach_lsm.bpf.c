// SPDX-License-Identifier: GPL-2.0
/*
 * attach_lsm.bpf.c - BPF LSM programs (BPF_PROG_TYPE_LSM).
 *
 * Idea: LSM hooks are trampolines on bpf_lsm_<hook>; the program gets the
 * hook's arguments plus the return value of the previous LSM as the last
 * argument, and its own non-zero return value denies the operation.
 *   file_open_hook  SEC("lsm/file_open"): counts files opened by
 *                   `target_tgid` (.rodata, 0 = everyone) in file_opens.
 *   bpf_hook        SEC("lsm/bpf"): counts bpf() syscalls by `target_tgid`
 *                   in bpf_calls, remembers the last command in last_bpf_cmd,
 *                   and returns `bpf_verdict` (.rodata: 0 = allow, -EPERM =
 *                   -1 = deny) for them. It declares only the first hook
 *                   argument: the hook gained a fourth one (bool kernel) in
 *                   6.16, so the position of `ret` differs between kernels.
 * file_open_hook passes through a denial from an earlier LSM (ret != 0).
 *
 * Needs CONFIG_BPF_LSM=y and "bpf" in the active LSM list (lsm=...). This
 * machine's kernel refuses to load LSM programs (EPERM); verified on Debian
 * 6.1 and 6.12 kernels under qemu.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile int target_tgid = 0;
const volatile long bpf_verdict = 0;	/* 0: allow, -EPERM (-1): deny */

__u64 file_opens, bpf_calls;
int last_bpf_cmd = -1;

static __always_inline bool is_target(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == (__u32)target_tgid;
}

SEC("lsm/file_open")
int BPF_PROG(file_open_hook, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (is_target())
		__sync_fetch_and_add(&file_opens, 1);
	return 0;
}

SEC("lsm/bpf")
int BPF_PROG(bpf_hook, int cmd)
{
	long verdict;

	if (!is_target())
		return 0;
	__sync_fetch_and_add(&bpf_calls, 1);
	last_bpf_cmd = cmd;
	/* Not `deny ? -EPERM : 0`: clang turns that into a negation the
	 * verifier does not track before 6.13, and LSM return values must be
	 * provably within [-4095, 0]. An explicit range check always works. */
	verdict = bpf_verdict;
	if (verdict < -4095 || verdict > 0)
		return 0;
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
