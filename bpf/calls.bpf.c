// SPDX-License-Identifier: GPL-2.0
/*
 * calls.bpf.c - bpf-to-bpf calls.
 *
 * Idea: subprograms live in .text and are appended to each program that
 * calls them; the loader must relocate the call instructions (and the
 * func_info / line_info of the copies). Covered:
 *   - square():      static __noinline subprogram (verified inline with its
 *                    caller);
 *   - clamp_add():   global __noinline function (BTF linkage global: the
 *                    kernel verifies it once, on its own, from its BTF
 *                    signature; Linux 5.6);
 *   - mix():         static subprogram shared by both programs;
 *   - sum_below():   static subprogram with a bounded loop (Linux 5.3).
 * Callbacks (bpf_loop, bpf_for_each_map_elem) are in callbacks.bpf.c: they
 * need Linux 5.17 and 5.13.
 *
 * Programs, SEC("xdp"), BPF_PROG_TEST_RUN with any packet of 14 bytes or
 * more:
 *   calls_a  returns mix(square(seed), clamp_add(40, 2)) = 49 * 2 + 42 = 140
 *            (seed is a .data variable, 7) and sets result_a = sum of 0..9
 *            computed by sum_below(seed + 3) = 45.
 *   calls_b  fills values[i] = i * 3 (i < 8), finds the maximum by looking
 *            each one up (21, into result_b), returns
 *            mix(result_b, clamp_add(1000, 1000)) = 21 * 2 + 255 = 297
 *            (clamp_add saturates at 255).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

__u64 result_a, result_b;
/* .data, so clang cannot constant-fold square(seed) away */
__u64 seed = 7;

static __noinline __u64 square(__u64 x)
{
	return x * x;
}

/* Global: verified independently, so it may only assume what its
 * signature says (two scalars). */
__noinline int clamp_add(int a, int b)
{
	int s = a + b;

	if (s < 0)
		return 0;
	if (s > 255)
		return 255;
	return s;
}

static __noinline __u64 mix(__u64 x, __u64 y)
{
	return x * 2 + y;
}

static __noinline __u64 sum_below(__u32 n)
{
	__u64 sum = 0;
	__u32 i;

	for (i = 0; i < n && i < 64; i++)
		sum += i;
	return sum;
}

static __always_inline void set_value(__u32 key, __u64 v)
{
	bpf_map_update_elem(&values, &key, &v, BPF_ANY);
}

SEC("xdp")
int calls_a(struct xdp_md *ctx)
{
	result_a = sum_below(seed + 3);	/* 10 */
	return mix(square(seed), clamp_add(40, 2));
}

SEC("xdp")
int calls_b(struct xdp_md *ctx)
{
	__u64 max = 0, *v;
	__u32 i;

#pragma clang loop unroll(full)
	for (i = 0; i < 8; i++)
		set_value(i, i * 3);
#pragma clang loop unroll(full)
	for (i = 0; i < 8; i++) {
		__u32 key = i;

		v = bpf_map_lookup_elem(&values, &key);
		if (v && *v > max)
			max = *v;
	}
	result_b = max;
	return mix(result_b, clamp_add(1000, 1000));
}

char LICENSE[] SEC("license") = "GPL";
