// SPDX-License-Identifier: GPL-2.0
/*
 * kfuncs.bpf.c - calls to kernel functions (kfuncs) declared as __ksym
 * extern functions.
 *
 * Idea: the loader resolves each extern function against vmlinux BTF (a
 * FUNC with that name), and patches the call instruction with
 * src_reg = BPF_PSEUDO_KFUNC_CALL and imm = the BTF id. The verifier then
 * tracks the acquired reference (KF_ACQUIRE / KF_RELEASE) and the RCU
 * critical section.
 *
 * Programs:
 *   on_fork     tp_btf/sched_process_fork: acquires a reference on the child
 *               task (bpf_task_acquire), reads its tgid/pid, releases it
 *               (bpf_task_release). Counts forks whose parent tgid is
 *               `target_tgid` (0 = all) in forks_seen, last child pid in
 *               last_child_pid.
 *   lookup_pid  SEC("syscall"), BPF_PROG_TEST_RUN with ctx
 *               struct pid_lookup_ctx { int pid; int tgid; int found; }:
 *               looks `pid` up with bpf_task_from_pid inside a
 *               bpf_rcu_read_lock/unlock section, writes its tgid and
 *               found = 1 back into ctx (found = 0 if there is no such task).
 *               Returns found.
 *
 * Needs Linux 6.2+ (bpf_task_from_pid, bpf_rcu_read_lock): externs are
 * resolved for the whole object, so on 6.1 nothing in it loads ("extern
 * (func ksym) 'bpf_rcu_read_lock': not found in kernel or module BTFs").
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

struct pid_lookup_ctx {
	int pid;
	int tgid;
	int found;
};

const volatile int target_tgid = 0;

__u64 forks_seen;
int last_child_pid;

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *t;

	if (target_tgid && parent->tgid != target_tgid)
		return 0;

	t = bpf_task_acquire(child);
	if (!t)
		return 0;
	last_child_pid = t->pid;
	__sync_fetch_and_add(&forks_seen, 1);
	bpf_task_release(t);
	return 0;
}

SEC("syscall")
int lookup_pid(struct pid_lookup_ctx *args)
{
	struct task_struct *t;

	args->found = 0;
	bpf_rcu_read_lock();
	t = bpf_task_from_pid(args->pid);
	if (t) {
		args->tgid = t->tgid;
		args->found = 1;
		bpf_task_release(t);
	}
	bpf_rcu_read_unlock();
	return args->found;
}

char LICENSE[] SEC("license") = "GPL";
