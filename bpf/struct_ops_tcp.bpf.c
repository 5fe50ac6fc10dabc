// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ebpf_reno (struct_ops_tcp.h) as a SEC(".struct_ops") map: the oldest form (Linux 5.6), registered with the
 * kernel by the map's update and unregistered by deleting the element. The tests give the congestion control a
 * per-process name (the `name` member) before Load, so that concurrent runs do not collide.
 */
#include "struct_ops_tcp.h"

SEC(".struct_ops")
struct tcp_congestion_ops ebpf_reno = EBPF_RENO_OPS("ebpf_reno");
