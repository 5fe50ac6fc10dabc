// SPDX-License-Identifier: GPL-2.0
/*
 * core_comm.bpf.c - the project story: one CO-RE relocation that makes a
 * program portable across kernel layouts.
 *
 * Idea: read task_struct->comm through CO-RE. The only relocation in this
 * object is FIELD_BYTE_OFFSET of task_struct::comm (access string "0:N"),
 * so relocating it against two kernels whose comm sits at 0x620 and 0x624
 * changes exactly one instruction's offset. pid/tgid come from
 * bpf_get_current_pid_tgid(), not from task_struct, to keep it that way.
 * Compare hardcoded.bpf.c: same output, offset baked in.
 *
 * Program `handle_getpid` (tp/syscalls/sys_enter_getpid): for every getpid()
 * on the system, emits one struct comm_event { pid, tgid, comm } into the
 * `events` ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16

struct comm_event {
	__u32 pid;	/* thread id */
	__u32 tgid;	/* process id */
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

/* Keeps struct comm_event in the object's BTF for user space. */
struct comm_event *unused_comm_event __attribute__((unused));

SEC("tp/syscalls/sys_enter_getpid")
int handle_getpid(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	struct comm_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
