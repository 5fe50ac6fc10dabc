/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ebpf_reno: a small Reno-like TCP congestion control written as struct_ops callbacks, shared by
 * struct_ops_tcp.bpf.c (registered by map update, SEC(".struct_ops"), Linux 5.6) and
 * struct_ops_tcp_link.bpf.c (registered through a bpf_link, SEC(".struct_ops.link"), Linux 6.4).
 *
 * Slow start up to ssthresh, then one segment more per window (additive increase), half the window on
 * loss. Only helpers and fields a 5.10 kernel lets tcp_congestion_ops programs use; no kfuncs.
 *
 * Every callback counts its calls in .bss (read by the tests after moving data over loopback):
 *   init_calls, release_calls, ssthresh_calls, cong_avoid_calls, set_state_calls, cwnd_event_calls,
 *   pkts_acked_calls, undo_cwnd_calls; acked_segments sums cong_avoid's `acked`.
 *
 * ebpf_reno_init_alt is a second `init` that no struct_ops variable points to, in SEC("?struct_ops/..."): it is
 * not loaded unless C# binds a callback to it before Load (the skeleton tests do). It counts in init_alt_calls,
 * keeps the socket's address family in init_alt_family (AF_INET for the tests' sockets: proof that it read the
 * socket it was called for) and its congestion window at that moment in init_alt_cwnd (which differs by kernel:
 * 10 on 6.18, 0 on Debian's 6.1 and 6.12).
 */
#ifndef EBPF_STRUCT_OPS_TCP_H
#define EBPF_STRUCT_OPS_TCP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

__u64 init_calls;
__u64 release_calls;
__u64 ssthresh_calls;
__u64 cong_avoid_calls;
__u64 set_state_calls;
__u64 cwnd_event_calls;
__u64 pkts_acked_calls;
__u64 undo_cwnd_calls;
__u64 acked_segments;
__u64 init_alt_calls;
__u32 init_alt_cwnd;
__u32 init_alt_family;

#define TCP_CONG_NON_RESTRICTED 0x1

static __always_inline struct tcp_sock *reno_tcp_sk(struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

static __always_inline __u32 reno_min(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

static __always_inline __u32 reno_max(__u32 a, __u32 b)
{
	return a > b ? a : b;
}

static __always_inline bool reno_cwnd_limited(struct tcp_sock *tp)
{
	if (tp->snd_cwnd < tp->snd_ssthresh)
		return tp->snd_cwnd < 2 * tp->max_packets_out;
	return BPF_CORE_READ_BITFIELD(tp, is_cwnd_limited);
}

SEC("struct_ops/ebpf_reno_init")
void BPF_PROG(ebpf_reno_init, struct sock *sk)
{
	__sync_fetch_and_add(&init_calls, 1);
}

SEC("?struct_ops/ebpf_reno_init_alt")
void BPF_PROG(ebpf_reno_init_alt, struct sock *sk)
{
	__sync_fetch_and_add(&init_alt_calls, 1);
	init_alt_cwnd = reno_tcp_sk(sk)->snd_cwnd;
	init_alt_family = sk->__sk_common.skc_family;
}

SEC("struct_ops/ebpf_reno_release")
void BPF_PROG(ebpf_reno_release, struct sock *sk)
{
	__sync_fetch_and_add(&release_calls, 1);
}

SEC("struct_ops/ebpf_reno_ssthresh")
__u32 BPF_PROG(ebpf_reno_ssthresh, struct sock *sk)
{
	__sync_fetch_and_add(&ssthresh_calls, 1);
	return reno_max(reno_tcp_sk(sk)->snd_cwnd >> 1, 2);
}

SEC("struct_ops/ebpf_reno_cong_avoid")
void BPF_PROG(ebpf_reno_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = reno_tcp_sk(sk);
	__u32 cwnd;

	__sync_fetch_and_add(&cong_avoid_calls, 1);
	__sync_fetch_and_add(&acked_segments, acked);
	if (!reno_cwnd_limited(tp))
		return;
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		/* slow start: one segment more per segment acked */
		cwnd = reno_min(tp->snd_cwnd + acked, tp->snd_ssthresh);
		acked -= cwnd - tp->snd_cwnd;
		tp->snd_cwnd = reno_min(cwnd, tp->snd_cwnd_clamp);
		if (!acked)
			return;
	}
	/* congestion avoidance: one segment more per window acked */
	tp->snd_cwnd_cnt += acked;
	if (tp->snd_cwnd_cnt >= tp->snd_cwnd && tp->snd_cwnd > 0) {
		tp->snd_cwnd_cnt -= tp->snd_cwnd;
		tp->snd_cwnd = reno_min(tp->snd_cwnd + 1, tp->snd_cwnd_clamp);
	}
}

SEC("struct_ops/ebpf_reno_set_state")
void BPF_PROG(ebpf_reno_set_state, struct sock *sk, __u8 new_state)
{
	__sync_fetch_and_add(&set_state_calls, 1);
}

SEC("struct_ops/ebpf_reno_cwnd_event")
void BPF_PROG(ebpf_reno_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	__sync_fetch_and_add(&cwnd_event_calls, 1);
}

SEC("struct_ops/ebpf_reno_pkts_acked")
void BPF_PROG(ebpf_reno_pkts_acked, struct sock *sk, const struct ack_sample *sample)
{
	__sync_fetch_and_add(&pkts_acked_calls, 1);
}

SEC("struct_ops/ebpf_reno_undo_cwnd")
__u32 BPF_PROG(ebpf_reno_undo_cwnd, struct sock *sk)
{
	struct tcp_sock *tp = reno_tcp_sk(sk);

	__sync_fetch_and_add(&undo_cwnd_calls, 1);
	return reno_max(tp->snd_cwnd, tp->prior_cwnd);
}

#define EBPF_RENO_OPS(cc_name)					\
	{							\
		.init		= (void *)ebpf_reno_init,	\
		.release	= (void *)ebpf_reno_release,	\
		.ssthresh	= (void *)ebpf_reno_ssthresh,	\
		.cong_avoid	= (void *)ebpf_reno_cong_avoid,	\
		.set_state	= (void *)ebpf_reno_set_state,	\
		.cwnd_event	= (void *)ebpf_reno_cwnd_event,	\
		.pkts_acked	= (void *)ebpf_reno_pkts_acked,	\
		.undo_cwnd	= (void *)ebpf_reno_undo_cwnd,	\
		.flags		= TCP_CONG_NON_RESTRICTED,	\
		.name		= cc_name,			\
	}

#endif
