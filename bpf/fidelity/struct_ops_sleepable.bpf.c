// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A sleepable struct_ops program: SEC("struct_ops.s/...") is loaded with BPF_F_SLEEPABLE (Linux 6.3; libbpf 1.2).
 * The struct is bpf_dummy_ops, the kernel's struct_ops for BPF_PROG_TEST_RUN, whose test_sleepable member is the
 * one that takes sleepable programs (the kernel refuses a sleepable program for test_1 or test_2).
 *
 * ebpf_sleepable calls bpf_copy_from_user(), which the verifier allows in sleepable programs only: it reads the
 * 8 bytes at user_addr (set from C# before the run) in the memory of the process that runs the test, keeps them
 * in `copied` and the helper's result in `copy_err`, and returns state->val + 1 (or -1 without a state).
 * ebpf_test_1 is an ordinary (not sleepable) test_1 returning state->val * 2.
 *
 * In a subdirectory, out of the all-objects walks: libbpf 1.1 (bpftool 7.1, the CO-RE oracle) refuses
 * struct_ops.s sections.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_copy_from_user_str(void *dst, __u32 dst__sz, const void *unsafe_ptr__ign, __u64 flags) __weak __ksym;

__u64 user_addr;
__u64 copied;
__s64 copy_err;
__u64 sleepable_runs;

SEC("struct_ops.s/test_sleepable")
int BPF_PROG(ebpf_sleepable, struct bpf_dummy_ops_state *state)
{
	char value[8] = {};

	if (bpf_copy_from_user_str) /* bpf_ksym_exists() of libbpf 1.2 */
		copy_err = bpf_copy_from_user_str(value, sizeof(value), (const void *)user_addr, 0);
	__builtin_memcpy(&copied, value, sizeof(copied));
	__sync_fetch_and_add(&sleepable_runs, 1);
	return state ? state->val + 1 : -1;
}

SEC("struct_ops/test_1")
int BPF_PROG(ebpf_test_1, struct bpf_dummy_ops_state *state)
{
	return state ? state->val * 2 : -1;
}

SEC(".struct_ops")
struct bpf_dummy_ops ebpf_dummy = {
	.test_1		= (void *)ebpf_test_1,
	.test_sleepable	= (void *)ebpf_sleepable,
};
