// SPDX-License-Identifier: GPL-2.0
/*
 * attach_net.bpf.c - packet-path attach kinds.
 *
 * Idea: one minimal counting program per networking hook, all accepting
 * every packet. Counters in .bss; `udp_port` (.rodata, host order, 0 = any)
 * narrows what counts as "ours" where a program parses UDP.
 *   xdp_count        SEC("xdp")          XDP: packets, and IPv4 UDP packets
 *                                        to udp_port; XDP_PASS
 *   tcx_ingress      SEC("tcx/ingress")  TCX (6.6+ link-based tc): counts,
 *   tcx_egress       SEC("tcx/egress")   returns TCX_NEXT
 *   tc_count         SEC("tc")           classic cls_act classifier (netlink
 *                                        tc filter / clsact qdisc), counts,
 *                                        returns TC_ACT_OK
 *   socket_udp       SEC("socket")       socket filter (SO_ATTACH_BPF):
 *                                        counts packets and those that are
 *                                        UDP (IPv4 or IPv6, read relative to
 *                                        the network header, so it works on
 *                                        UDP sockets, packet sockets and
 *                                        BPF_PROG_TEST_RUN alike); keeps the
 *                                        whole packet (returns skb->len)
 *   sk_lookup_count  SEC("sk_lookup")    socket lookup (netns link): counts
 *                                        lookups (and those for udp_port),
 *                                        returns SK_PASS
 * xdp_count, tc_count and socket_udp also run under BPF_PROG_TEST_RUN with
 * an Ethernet + IPv4 + UDP frame.
 *
 * libbpf 1.1 (bpftool 7.1) does not know the tcx/ section names: it cannot
 * load this object unless the loader sets those two programs' type
 * (SCHED_CLS) and expected attach type (BPF_TCX_INGRESS / _EGRESS) itself.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TC_ACT_OK 0

const volatile __u16 udp_port = 0;

__u64 xdp_packets, xdp_udp_packets;
__u64 tcx_ingress_packets, tcx_egress_packets;
__u64 tc_packets;
__u64 socket_packets, socket_udp_packets, socket_bytes;
__u64 sk_lookups, sk_lookups_port;

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;

	__sync_fetch_and_add(&xdp_packets, 1);

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return XDP_PASS;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (!udp_port || udp->dest == bpf_htons(udp_port))
		__sync_fetch_and_add(&xdp_udp_packets, 1);
	return XDP_PASS;
}

SEC("tcx/ingress")
int tcx_ingress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tcx_ingress_packets, 1);
	return TCX_NEXT;
}

SEC("tcx/egress")
int tcx_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tcx_egress_packets, 1);
	return TCX_NEXT;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tc_packets, 1);
	return TC_ACT_OK;
}

SEC("socket")
int socket_udp(struct __sk_buff *skb)
{
	__u8 proto = 0;

	__sync_fetch_and_add(&socket_packets, 1);
	__sync_fetch_and_add(&socket_bytes, skb->len);

	if (skb->protocol == bpf_htons(ETH_P_IP))
		bpf_skb_load_bytes_relative(skb, offsetof(struct iphdr, protocol), &proto, 1,
					    BPF_HDR_START_NET);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		bpf_skb_load_bytes_relative(skb, offsetof(struct ipv6hdr, nexthdr), &proto, 1,
					    BPF_HDR_START_NET);
	if (proto == IPPROTO_UDP)
		__sync_fetch_and_add(&socket_udp_packets, 1);
	return skb->len;
}

SEC("sk_lookup")
int sk_lookup_count(struct bpf_sk_lookup *ctx)
{
	__sync_fetch_and_add(&sk_lookups, 1);
	if (udp_port && ctx->protocol == IPPROTO_UDP && ctx->local_port == udp_port)
		__sync_fetch_and_add(&sk_lookups_port, 1);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
