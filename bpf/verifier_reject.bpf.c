// SPDX-License-Identifier: GPL-2.0
/*
 * verifier_reject.bpf.c - one program the verifier must reject, one it
 * accepts.
 *
 * Idea: loading `bad_oob` fails with EACCES and a verifier log that ends in
 *   "R2 unbounded memory access, make sure to bounds check any such access"
 * (register number and wording vary with kernel and compiler versions): it
 * indexes an 8-slot array inside a map value with an index taken from the
 * context without any bounds check. Before that it does 128 rounds of valid,
 * unrolled work, so the log_level 1 log is long (about 27 KiB, 400 lines,
 * on this kernel): the "whole verifier log comes back" tests need a loader
 * that grows its log buffer (the kernel fails with ENOSPC when it is too
 * small).
 *
 * `good_checked` does a bounds-checked version and loads fine; load it alone
 * (autoload off for bad_oob) to see an object from this file succeed. It
 * increments table[0].v[idx] and returns the new value, or -1 if idx >= 8.
 * Both are SEC("raw_tp") (Linux 4.17; BPF_PROG_TEST_RUN runs them from 5.10
 * with a context of one u64 argument, the index).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct slots {
	__u64 v[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slots);
} table SEC(".maps");

#define WARMUP_ROUNDS 128

SEC("raw_tp")
int bad_oob(__u64 *args)
{
	__u32 zero = 0, idx = args[0], i;
	__u64 sum = 0;
	struct slots *s = bpf_map_lookup_elem(&table, &zero);

	if (!s)
		return 0;
	/* Plenty of valid work first, so the log is long (tens of KiB at
	 * log_level 1) and a loader must grow its buffer to get all of it. */
#pragma clang loop unroll(full)
	for (i = 0; i < WARMUP_ROUNDS; i++)
		sum += s->v[i & 7] ^ i;
	s->v[0] = sum;
	/* BUG (deliberate): idx may be anything up to 2^32 - 1 */
	return s->v[idx];
}

SEC("raw_tp")
int good_checked(__u64 *args)
{
	__u32 zero = 0, idx = args[0];
	struct slots *s = bpf_map_lookup_elem(&table, &zero);

	if (!s || idx >= 8)
		return -1;
	s->v[idx]++;
	return s->v[idx];
}

char LICENSE[] SEC("license") = "GPL";
