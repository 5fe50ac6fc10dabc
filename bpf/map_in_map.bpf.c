// SPDX-License-Identifier: GPL-2.0
/*
 * map_in_map.bpf.c - maps of maps with an inner-map template and initial
 * values.
 *
 * Idea: __array(values, struct inner_map) describes the inner map (its
 * definition is the template libbpf creates the outer map with), and
 * `.values = { [i] = &map }` fills slots at load time. One ARRAY_OF_MAPS
 * (slots 0 and 2 filled, 1 and 3 empty) and one HASH_OF_MAPS (key 1 filled)
 * share the same template; the inner maps are ordinary SEC(".maps") maps.
 *
 * Program `bump` (SEC("xdp"), BPF_PROG_TEST_RUN with any packet): for each
 * outer slot that holds a map, adds (slot + 1) to inner[0]. After one run:
 *   inner_a[0] = 1 (outer_array slot 0)
 *   inner_b[0] = 3 (outer_array slot 2) + 2 (outer_hash key 1) = 5
 *   inner_c[0] = 0 (no initial value points at it: a spare for tests that
 *                   put a map into an empty slot from user space)
 * and it returns the number of inner maps found (3). Slots it probes:
 * outer_array 0..3 (adding slot + 1) and outer_hash keys 1 and 2 (adding
 * key + 1).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_map inner_a SEC(".maps"), inner_b SEC(".maps"), inner_c SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_array SEC(".maps") = {
	.values = {
		[0] = &inner_a,
		[2] = &inner_b,
	},
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_hash SEC(".maps") = {
	.values = {
		[1] = &inner_b,
	},
};

static __always_inline int add_to_inner(void *outer, __u32 key, __u64 delta)
{
	__u32 zero = 0;
	__u64 *v;
	void *inner = bpf_map_lookup_elem(outer, &key);

	if (!inner)
		return 0;
	v = bpf_map_lookup_elem(inner, &zero);
	if (!v)
		return 0;
	__sync_fetch_and_add(v, delta);
	return 1;
}

SEC("xdp")
int bump(struct xdp_md *ctx)
{
	int found = 0;

	found += add_to_inner(&outer_array, 0, 1);
	found += add_to_inner(&outer_array, 1, 2);	/* empty slot */
	found += add_to_inner(&outer_array, 2, 3);
	found += add_to_inner(&outer_array, 3, 4);	/* empty slot */
	found += add_to_inner(&outer_hash, 1, 2);
	found += add_to_inner(&outer_hash, 2, 3);	/* no such key */
	return found;
}

/* Same walk from a tracepoint, so the maps are also used by a tracing
 * program (getpid from any process bumps inner_a[0] by 1). */
SEC("tp/syscalls/sys_enter_getpid")
int bump_on_getpid(void *ctx)
{
	add_to_inner(&outer_array, 0, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
