// SPDX-License-Identifier: GPL-2.0
/*
 * callbacks.bpf.c - subprograms the kernel calls back: bpf_loop (Linux
 * 5.17) and bpf_for_each_map_elem (5.13).
 *
 * Idea: a callback is a static subprogram whose address is passed to a
 * helper (ld_imm64 with BPF_PSEUDO_FUNC): the loader must relocate that
 * instruction as well as ordinary calls. Apart from calls.bpf.c so that the
 * plain calls need no kernel this new.
 *
 * Programs, SEC("xdp"), BPF_PROG_TEST_RUN with any packet of 14 bytes or
 * more:
 *   loop_sum  sums 0..9 with bpf_loop into result_loop (45); returns 45.
 *   map_max   fills values[i] = i * 3 (i < 8), finds the maximum with
 *             bpf_for_each_map_elem into result_max (21) and the number of
 *             elements visited into visited (8); returns 21.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

__u64 result_loop, result_max, visited;

struct loop_ctx {
	__u64 sum;
};

static long sum_cb(__u32 index, void *data)
{
	struct loop_ctx *lc = data;

	lc->sum += index;
	return 0;	/* 0: continue, 1: stop */
}

struct max_ctx {
	__u64 max;
	__u32 seen;
};

/* The first argument is really a struct bpf_map *: declared void * so the
 * object's BTF/DWARF does not drag in struct bpf_map's whole type graph. */
static long max_cb(void *map, __u32 *key, __u64 *val, void *data)
{
	struct max_ctx *mc = data;

	mc->seen++;
	if (*val > mc->max)
		mc->max = *val;
	return 0;
}

SEC("xdp")
int loop_sum(struct xdp_md *ctx)
{
	struct loop_ctx lc = {};

	bpf_loop(10, sum_cb, &lc, 0);
	result_loop = lc.sum;
	return lc.sum;
}

SEC("xdp")
int map_max(struct xdp_md *ctx)
{
	struct max_ctx mc = {};
	__u32 i;

#pragma clang loop unroll(full)
	for (i = 0; i < 8; i++) {
		__u32 key = i;
		__u64 v = i * 3;

		bpf_map_update_elem(&values, &key, &v, BPF_ANY);
	}
	bpf_for_each_map_elem(&values, max_cb, &mc, 0);
	result_max = mc.max;
	visited = mc.seen;
	return mc.max;
}

char LICENSE[] SEC("license") = "GPL";
