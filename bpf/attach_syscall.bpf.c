// SPDX-License-Identifier: GPL-2.0
/*
 * attach_syscall.bpf.c - a SEC("syscall") program with a context struct.
 *
 * Idea: BPF_PROG_TYPE_SYSCALL programs are not attached anywhere; user space
 * runs them with BPF_PROG_TEST_RUN, passing ctx_in, and the kernel copies
 * the (possibly modified) context back into the same buffer. The context is
 * whatever struct the program declares:
 *
 *   struct syscall_prog_args {       offset
 *       __u64 a;                     0    in
 *       __u64 b;                     8    in
 *       __u64 sum;                   16   out: a + b
 *       __u64 product;               24   out: a * b
 *       __u32 pid;                   32   out: tgid of the caller
 *       __u32 calls;                 36   out: runs so far, including this
 *       char comm[16];               40   out: caller's comm
 *   };                               size 56
 *
 * Program `compute` returns 0. The ctx must be exactly what the program
 * touches or larger: with a smaller ctx_size_in the kernel refuses the run
 * (EINVAL, it checks ctx_size_in against the largest ctx offset the
 * verifier saw). The run count is also kept in .bss (total_calls).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct syscall_prog_args {
	__u64 a;
	__u64 b;
	__u64 sum;
	__u64 product;
	__u32 pid;
	__u32 calls;
	char comm[16];
};

__u32 total_calls;

SEC("syscall")
int compute(struct syscall_prog_args *args)
{
	char comm[16];

	args->sum = args->a + args->b;
	args->product = args->a * args->b;
	args->pid = bpf_get_current_pid_tgid() >> 32;
	args->calls = ++total_calls;	/* test runs do not race: no atomics */
	/* helpers cannot write into ctx: go through the stack */
	bpf_get_current_comm(comm, sizeof(comm));
	__builtin_memcpy(args->comm, comm, sizeof(comm));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
