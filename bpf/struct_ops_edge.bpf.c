// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * struct_ops values a kernel cannot fully take:
 *  - future_reno is a tcp_congestion_ops whose local definition (the ___future flavour) has one member no
 *    kernel has, `future_knob`: zero in the object, so the loader skips it (as libbpf does); set from C#, the
 *    load fails naming the struct, the member and the kernel. Its `reserved_cb` callback is NULL for the same
 *    reason, and `name`/`flags` are ordinary data members copied by name into the kernel's layout.
 *  - no_such is an instance of a struct no kernel has (SEC("?.struct_ops"): not created unless asked).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct tcp_congestion_ops___future {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*reserved_cb)(struct sock *sk);
	__u64 future_knob;
	__u32 flags;
	char name[16];
};

struct ebpf_no_such_ops {
	int (*run)(void);
	int level;
};

SEC("struct_ops/edge_ssthresh")
__u32 BPF_PROG(edge_ssthresh, struct sock *sk)
{
	return 2;
}

SEC("struct_ops/edge_cong_avoid")
void BPF_PROG(edge_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC("struct_ops/edge_undo_cwnd")
__u32 BPF_PROG(edge_undo_cwnd, struct sock *sk)
{
	return 2;
}

SEC("struct_ops/no_such_run")
int BPF_PROG(no_such_run)
{
	return 0;
}

SEC(".struct_ops")
struct tcp_congestion_ops___future future_reno = {
	.ssthresh	= (void *)edge_ssthresh,
	.cong_avoid	= (void *)edge_cong_avoid,
	.undo_cwnd	= (void *)edge_undo_cwnd,
	.name		= "ebpf_edge",
};

SEC("?.struct_ops")
struct ebpf_no_such_ops no_such = {
	.run	= (void *)no_such_run,
	.level	= 3,
};
