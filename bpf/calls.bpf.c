// SPDX-License-Identifier: GPL-2.0
/*
 * calls.bpf.c - bpf-to-bpf calls and callbacks.
 *
 * Idea: subprograms live in .text and are appended to each program that
 * calls them; the loader must relocate the call instructions (and the
 * func_info / line_info of the copies). Covered:
 *   - square():      static __noinline subprogram (verified inline with its
 *                    caller);
 *   - clamp_add():   global __noinline function (BTF linkage global: the
 *                    kernel verifies it once, on its own, from its BTF
 *                    signature);
 *   - mix():         static subprogram shared by both programs;
 *   - sum_cb():      callback passed to bpf_loop;
 *   - max_cb():      callback passed to bpf_for_each_map_elem.
 *
 * Programs, SEC("syscall"), BPF_PROG_TEST_RUN without ctx:
 *   calls_a  returns mix(square(seed), clamp_add(40, 2)) = 49 * 2 + 42 = 140
 *            (seed is a .data variable, 7) and sets result_a = sum of 0..9
 *            computed by bpf_loop = 45.
 *   calls_b  fills values[i] = i * 3 (i < 8), finds the maximum with
 *            bpf_for_each_map_elem (21, into result_b), returns
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

static __always_inline void set_value(__u32 key, __u64 v)
{
	bpf_map_update_elem(&values, &key, &v, BPF_ANY);
}

SEC("syscall")
int calls_a(void *ctx)
{
	struct loop_ctx lc = {};

	bpf_loop(10, sum_cb, &lc, 0);
	result_a = lc.sum;
	return mix(square(seed), clamp_add(40, 2));
}

SEC("syscall")
int calls_b(void *ctx)
{
	struct max_ctx mc = {};
	__u32 i;

#pragma clang loop unroll(full)
	for (i = 0; i < 8; i++)
		set_value(i, i * 3);
	bpf_for_each_map_elem(&values, max_cb, &mc, 0);
	result_b = mc.max;
	return mix(result_b, clamp_add(1000, 1000));
}

char LICENSE[] SEC("license") = "GPL";
