// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ebpf_reno (struct_ops_tcp.h) twice in SEC(".struct_ops.link") (Linux 6.4): each map is created with
 * BPF_F_LINK and registered through a bpf_link; the tests move a link from ebpf_reno_link to ebpf_reno_next
 * (BPF_LINK_UPDATE). Both maps point to the same programs, which implement the same members.
 */
#include "struct_ops_tcp.h"

SEC(".struct_ops.link")
struct tcp_congestion_ops ebpf_reno_link = EBPF_RENO_OPS("ebpf_reno_l");

SEC(".struct_ops.link")
struct tcp_congestion_ops ebpf_reno_next = EBPF_RENO_OPS("ebpf_reno_n");
