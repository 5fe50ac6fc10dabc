// SPDX-License-Identifier: GPL-2.0
/*
 * attach_tracepoint.bpf.c - the tracepoint family of attach kinds.
 *
 * Idea: the same events seen through each tracepoint flavour, each program
 * counting into its own .bss counter so tests can check exact counts:
 *   tp_getppid      SEC("tp/syscalls/sys_enter_getppid")   classic tracepoint
 *                   (perf event), ctx = struct trace_event_raw_sys_enter
 *   tp_exec         SEC("tracepoint/sched/sched_process_exec") long prefix
 *   raw_sys_enter   SEC("raw_tp/sys_enter")                raw tracepoint,
 *                   ctx = u64 args (regs, id): counts id == __NR_getppid,
 *                   the architecture's number (x86-64 110, arm64 173): the
 *                   Makefile also builds arm64/attach_tracepoint.bpf.o
 *   raw_exec        SEC("raw_tracepoint/sched_process_exec") long prefix
 *   btf_fork        SEC("tp_btf/sched_process_fork")      BTF-typed args
 *
 * Filters: `target_tgid` (.rodata, 0 = everything). getppid counters count
 * calls made by that process; exec and fork counters count execs/forks of
 * its children (exec: the parent of the exec'ing task; fork: the forking
 * parent). So a test with target_tgid = its own pid that calls getppid() N
 * times and spawns M children that each exec once sees
 *   getppid_tp = getppid_raw = N, exec_tp = exec_raw = M, forks_btf = M.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#if defined(__TARGET_ARCH_arm64)
#define NR_getppid 173		/* include/uapi/asm-generic/unistd.h */
#elif defined(__TARGET_ARCH_x86)
#define NR_getppid 110		/* arch/x86/entry/syscalls/syscall_64.tbl */
#else
#error "attach_tracepoint.bpf.c: define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

const volatile int target_tgid = 0;

__u64 getppid_tp, getppid_raw, exec_tp, exec_raw, forks_btf;

static __always_inline bool is_target(int tgid)
{
	return !target_tgid || tgid == target_tgid;
}

static __always_inline int current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline int current_parent_tgid(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, real_parent, tgid);
}

SEC("tp/syscalls/sys_enter_getppid")
int tp_getppid(struct trace_event_raw_sys_enter *ctx)
{
	if (is_target(current_tgid()))
		__sync_fetch_and_add(&getppid_tp, 1);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	if (is_target(current_parent_tgid()))
		__sync_fetch_and_add(&exec_tp, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_sys_enter, struct pt_regs *regs, long id)
{
	if (id == NR_getppid && is_target(current_tgid()))
		__sync_fetch_and_add(&getppid_raw, 1);
	return 0;
}

SEC("raw_tracepoint/sched_process_exec")
int BPF_PROG(raw_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	/* raw_tp arguments are untrusted pointers: probe-read through CO-RE */
	if (is_target(BPF_CORE_READ(p, real_parent, tgid)))
		__sync_fetch_and_add(&exec_raw, 1);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_fork, struct task_struct *parent, struct task_struct *child)
{
	/* tp_btf arguments are trusted BTF pointers: plain loads */
	if (is_target(parent->tgid))
		__sync_fetch_and_add(&forks_btf, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
