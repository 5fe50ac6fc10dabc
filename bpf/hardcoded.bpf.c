// SPDX-License-Identifier: GPL-2.0
/*
 * hardcoded.bpf.c - the anti-pattern: a kernel struct offset baked into the
 * code.
 *
 * Idea: same output as core_comm.bpf.c (struct comm_event into a ring
 * buffer on every getpid()), but comm is read with bpf_probe_read_kernel()
 * at a fixed offset, 0x620 into task_struct, that is right for one kernel
 * build only (on this machine's 6.18 comm is at 0x6d8: the program loads
 * and runs, and emits garbage). No vmlinux.h and no preserve_access_index
 * anywhere: the object has .BTF and .BTF.ext (func/line info) but zero CO-RE
 * relocations, which is what the "tied to one kernel layout" diagnostic
 * looks for (bpf_get_current_task() + constant offset + probe read).
 */

/* Just the types this file needs, declared locally and without
 * preserve_access_index. */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

enum {
	BPF_MAP_TYPE_RINGBUF = 27,
};

#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
#define TASK_COMM_OFFSET 0x620	/* task_struct::comm on ONE kernel build */

struct comm_event {
	__u32 pid;
	__u32 tgid;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct comm_event *unused_comm_event __attribute__((unused));

SEC("tp/syscalls/sys_enter_getpid")
int handle_getpid(void *ctx)
{
	void *task = (void *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	struct comm_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	bpf_probe_read_kernel(e->comm, sizeof(e->comm), task + TASK_COMM_OFFSET);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
