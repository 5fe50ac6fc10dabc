// SPDX-License-Identifier: GPL-2.0
/*
 * prog_array.bpf.c - BPF_MAP_TYPE_PROG_ARRAY with initial values and
 * bpf_tail_call.
 *
 * Idea: `.values = { [0] = (void *)&tail_a, [2] = (void *)&tail_b }` makes
 * libbpf put program fds into the jump table right after loading. All
 * programs are XDP so the whole thing runs under BPF_PROG_TEST_RUN with any
 * >= 14-byte packet (no NIC needed):
 *
 *   tail_entry  reads the slot to jump to from the .bss variable `slot`
 *               (set it through the mmap'ed .bss before each run) and tail
 *               calls it. If the slot is empty (1, 3) or out of range the
 *               tail call falls through and it returns XDP_PASS (2).
 *   tail_a      slot 0: counts in hits_a, returns XDP_DROP (1).
 *   tail_b      slot 2: counts in hits_b, returns XDP_TX (3).
 *
 * Every run of tail_entry counts in hits_entry; fallthroughs counts the runs
 * where the tail call did not happen.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u32 slot;
__u64 hits_entry, hits_a, hits_b, fallthroughs;

SEC("xdp")
int tail_a(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&hits_a, 1);
	return XDP_DROP;
}

SEC("xdp")
int tail_b(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&hits_b, 1);
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (struct xdp_md *));
} jump_table SEC(".maps") = {
	.values = {
		[0] = (void *)&tail_a,
		[2] = (void *)&tail_b,
	},
};

SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&hits_entry, 1);
	bpf_tail_call(ctx, &jump_table, slot);
	/* only reached when the slot is empty or out of range */
	__sync_fetch_and_add(&fallthroughs, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
