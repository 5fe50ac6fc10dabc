// SPDX-License-Identifier: GPL-2.0
/*
 * attach_cgroup.bpf.c - cgroup attach kinds (attached to a cgroup v2
 * directory fd with BPF_PROG_ATTACH or a cgroup link).
 *
 * Idea: one minimal, always-allowing program per cgroup hook; each counts
 * into its own .bss counter:
 *   skb_ingress    SEC("cgroup_skb/ingress")  packets received by sockets in
 *                                             the cgroup; 1 = allow
 *   skb_egress     SEC("cgroup_skb/egress")   packets sent; 1 = allow
 *   sock_create    SEC("cgroup/sock_create")  socket(2); records the last
 *                                             family/type/protocol; 1 = allow
 *   connect4       SEC("cgroup/connect4")     connect(2) on AF_INET sockets;
 *                                             counts separately those to
 *                                             `watch_port` (.rodata, host
 *                                             order, 0 = none); 1 = allow
 *   sysctl_read    SEC("cgroup/sysctl")       sysctl reads/writes through
 *                                             /proc/sys; counts reads and
 *                                             writes; 1 = allow
 * A test putting itself into a fresh cgroup, attaching everything, and
 * creating one UDP socket that connects to 127.0.0.1:watch_port and sends
 * one datagram sees sock_creates = 1, connects = connects_to_port = 1,
 * egress_packets >= 1.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 watch_port = 0;

__u64 ingress_packets, egress_packets, ingress_bytes, egress_bytes;
__u64 sock_creates;
__u32 last_family, last_type, last_protocol;
__u64 connects, connects_to_port;
__u64 sysctl_reads, sysctl_writes;

SEC("cgroup_skb/ingress")
int skb_ingress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&ingress_packets, 1);
	__sync_fetch_and_add(&ingress_bytes, skb->len);
	return 1;
}

SEC("cgroup_skb/egress")
int skb_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress_packets, 1);
	__sync_fetch_and_add(&egress_bytes, skb->len);
	return 1;
}

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *sk)
{
	__sync_fetch_and_add(&sock_creates, 1);
	last_family = sk->family;
	last_type = sk->type;
	last_protocol = sk->protocol;
	return 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	__sync_fetch_and_add(&connects, 1);
	if (watch_port && ctx->user_port == bpf_htons(watch_port))
		__sync_fetch_and_add(&connects_to_port, 1);
	return 1;
}

SEC("cgroup/sysctl")
int sysctl_read(struct bpf_sysctl *ctx)
{
	if (ctx->write)
		__sync_fetch_and_add(&sysctl_writes, 1);
	else
		__sync_fetch_and_add(&sysctl_reads, 1);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
