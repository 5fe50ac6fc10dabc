// SPDX-License-Identifier: GPL-2.0
/*
 * attach_fentry.bpf.c - BPF trampoline attach kinds (BPF_PROG_TYPE_TRACING).
 *
 * Idea: the loader must find the target function in vmlinux BTF and pass its
 * BTF id as attach_btf_id at load time; arguments are typed (BPF_PROG):
 *   unlink_entry   SEC("fentry/do_unlinkat")   entry, typed args
 *   unlink_exit    SEC("fexit/do_unlinkat")    exit, typed args + return value
 *   getpgid_modret SEC("fmod_ret/security_task_getpgid")  runs before the
 *                  function and may replace it: a non-zero return value
 *                  skips the function and becomes its return value. Returns
 *                  `getpgid_override` (.rodata, 0 = leave the call alone) for
 *                  calls from `target_tgid`. (fmod_ret is allowed on
 *                  security_* functions, and on error-injectable ones only
 *                  with CONFIG_FUNCTION_ERROR_INJECTION, which Debian lacks.)
 * Counters in .bss, filtered on `target_tgid` (.rodata, 0 = everything).
 * A test calling unlink() N times and getpgid(getpid()) M times sees
 *   unlinks = unlink_rets = N, last_unlink_ret = 0, last_unlink_dfd =
 *   AT_FDCWD (-100), getpgid_calls = M; with getpgid_override = -1
 *   (-EPERM) every getpgid(pid) from the target fails with EPERM. Note:
 *   getpgid(0) never reaches the security hook (the kernel only asks the
 *   LSMs when looking up another pid), so it is not counted.
 *
 * This machine's kernel refuses fentry/fexit/fmod_ret (EPERM at load);
 * tested under other kernels.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile int target_tgid = 0;
const volatile int getpgid_override = 0;

__u64 unlinks, unlink_rets, getpgid_calls;
int last_unlink_ret;
int last_unlink_dfd;

static __always_inline bool is_target(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == (__u32)target_tgid;
}

SEC("fentry/do_unlinkat")
int BPF_PROG(unlink_entry, int dfd, struct filename *name)
{
	if (is_target()) {
		__sync_fetch_and_add(&unlinks, 1);
		last_unlink_dfd = dfd;
	}
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(unlink_exit, int dfd, struct filename *name, int ret)
{
	if (is_target()) {
		__sync_fetch_and_add(&unlink_rets, 1);
		last_unlink_ret = ret;
	}
	return 0;
}

SEC("fmod_ret/security_task_getpgid")
int BPF_PROG(getpgid_modret, struct task_struct *p, int ret)
{
	if (!is_target())
		return 0;
	__sync_fetch_and_add(&getpgid_calls, 1);
	return getpgid_override;	/* non-zero: skip the function, return this */
}

char LICENSE[] SEC("license") = "GPL";
