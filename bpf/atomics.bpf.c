// SPDX-License-Identifier: GPL-2.0
/*
 * atomics.bpf.c - the atomic operations of Linux 5.12 (BPF_ATOMIC beyond
 * plain add): fetch-and-add, and/or/xor with and without fetch, xchg,
 * cmpxchg, on 64- and 32-bit globals.
 *
 * Idea: what globals.bpf.c deliberately avoids. An older kernel's verifier
 * refuses these instructions ("BPF_STX uses reserved fields" on 5.10), so
 * the loader must name the missing feature and its version instead.
 *
 * Program `apply` (SEC("xdp"), BPF_PROG_TEST_RUN with any packet of 14
 * bytes or more), from the initial values below, once:
 *   add64     += 5    old value (10) into fetched[0]      -> 15
 *   or64      |= 0xf0, old (0x0f) into fetched[1]         -> 0xff
 *   and64     &= 0x0f, old (0xff) into fetched[2]         -> 0x0f
 *   xor64     ^= 0xff, old (0x0f) into fetched[3]         -> 0xf0
 *   xchg64    := 99,   old (1) into fetched[4]            -> 99
 *   cmpxchg64 7 -> 8 (succeeds), old (7) into fetched[5]  -> 8
 *   cmpxchg32 3 -> 4 when it is 5 (fails), old (3) into fetched[6] -> 3
 *   plain32   += 1 without fetch (the old BPF_XADD)       -> 2
 * and returns the number of operations (8). Each further run applies them
 * again to the new values.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 add64 = 10, or64 = 0x0f, and64 = 0xff, xor64 = 0x0f, xchg64 = 1, cmpxchg64 = 7;
__u32 cmpxchg32 = 3, plain32 = 1;
__u64 fetched[7];

SEC("xdp")
int apply(struct xdp_md *ctx)
{
	fetched[0] = __sync_fetch_and_add(&add64, 5);
	fetched[1] = __sync_fetch_and_or(&or64, 0xf0);
	fetched[2] = __sync_fetch_and_and(&and64, 0x0f);
	fetched[3] = __sync_fetch_and_xor(&xor64, 0xff);
	fetched[4] = __sync_lock_test_and_set(&xchg64, 99);
	fetched[5] = __sync_val_compare_and_swap(&cmpxchg64, 7, 8);
	fetched[6] = __sync_val_compare_and_swap(&cmpxchg32, 5, 4);
	__sync_fetch_and_add(&plain32, 1);
	return 8;
}

char LICENSE[] SEC("license") = "GPL";
