// SPDX-License-Identifier: GPL-2.0
/*
 * core_fields.bpf.c - CO-RE field relocations against real kernel types.
 *
 * Idea: every field-based relocation kind, on struct task_struct and
 * friends from vmlinux.h (all preserve_access_index):
 *   FIELD_BYTE_OFFSET  BPF_CORE_READ chains (task->real_parent->tgid,
 *                      task->mm, task->signal->rlim[RLIMIT_NOFILE].rlim_cur
 *                      which puts an array index in the access string
 *                      "0:N:M:7:0"), bpf_core_field_offset(task->comm)
 *   FIELD_BYTE_SIZE    bpf_core_field_size(task->comm), and in the bitfield
 *                      macros
 *   FIELD_EXISTS       bpf_core_field_exists(task->__state)
 *   FIELD_SIGNED       __builtin_preserve_field_info(.., BPF_FIELD_SIGNED) on
 *                      task->prio (int) and task->flags (unsigned), and in
 *                      the bitfield macros
 *   FIELD_LSHIFT_U64 / FIELD_RSHIFT_U64
 *                      BPF_CORE_READ_BITFIELD_PROBED (probe read) and
 *                      BPF_CORE_READ_BITFIELD (direct load from a BTF
 *                      pointer) on the task_struct bitfields
 *                      sched_reset_on_fork and in_execve
 *
 * Programs:
 *   probe_reads   tp/syscalls/sys_enter_getpid, filtered on `target_tgid`
 *                 (0 = every process): fills `probed` (struct
 *                 core_fields_out) from bpf_get_current_task().
 *   direct_reads  tp_btf/sched_process_exec: the exec'ing task is a
 *                 trusted BTF pointer, so bitfields are read with a plain
 *                 load. Fills `exec_in_execve` (1: the kernel sets it
 *                 during exec) and counts `execs` for children of
 *                 `target_tgid` (0 = every process).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define RLIMIT_NOFILE 7

struct core_fields_out {
	__u64 calls;
	__s32 tgid;			/* task->tgid */
	__s32 ppid;			/* task->real_parent->tgid */
	__u64 nofile_cur;		/* task->signal->rlim[RLIMIT_NOFILE].rlim_cur */
	__u32 has_mm;			/* task->mm != NULL */
	__u32 comm_offset;		/* bpf_core_field_offset(task->comm) */
	__u32 comm_size;		/* bpf_core_field_size(task->comm) = 16 */
	__u32 state_exists;		/* bpf_core_field_exists(task->__state) */
	__u32 prio_signed;		/* 1: task->prio is signed */
	__u32 flags_signed;		/* 0: task->flags is unsigned */
	__u32 sched_reset_on_fork;	/* bitfield, probe-read */
	__u32 in_execve;		/* bitfield, probe-read (0 in getpid) */
};

const volatile int target_tgid = 0;

struct core_fields_out probed;
__u32 exec_in_execve;
__u64 execs;

SEC("tp/syscalls/sys_enter_getpid")
int probe_reads(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int tgid = BPF_CORE_READ(task, tgid);

	if (target_tgid && tgid != target_tgid)
		return 0;

	probed.calls++;
	probed.tgid = tgid;
	probed.ppid = BPF_CORE_READ(task, real_parent, tgid);
	probed.has_mm = BPF_CORE_READ(task, mm) != NULL;
	probed.nofile_cur = BPF_CORE_READ(task, signal, rlim[RLIMIT_NOFILE].rlim_cur);
	probed.comm_offset = bpf_core_field_offset(task->comm);
	probed.comm_size = bpf_core_field_size(task->comm);
	probed.state_exists = bpf_core_field_exists(task->__state);
	probed.prio_signed = __builtin_preserve_field_info(task->prio, BPF_FIELD_SIGNED);
	probed.flags_signed = __builtin_preserve_field_info(task->flags, BPF_FIELD_SIGNED);
	probed.sched_reset_on_fork = BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork);
	probed.in_execve = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(direct_reads, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	/* (not named p: BPF_CORE_READ_BITFIELD has a local called p) */
	if (target_tgid && task->real_parent->tgid != target_tgid)
		return 0;
	exec_in_execve = BPF_CORE_READ_BITFIELD(task, in_execve);
	__sync_fetch_and_add(&execs, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
