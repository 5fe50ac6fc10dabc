// SPDX-License-Identifier: GPL-2.0
/*
 * core_enums.bpf.c - CO-RE enumerator relocations, 32- and 64-bit. Built with
 * clang-19: clang-14 cannot emit BTF_KIND_ENUM64.
 *
 * Idea: ENUMVAL_EXISTS and ENUMVAL_VALUE, the value being whatever the
 * *target* kernel says, not what the local definition says:
 *   - enum bpf_map_type (32-bit, from vmlinux.h): BPF_MAP_TYPE_RINGBUF
 *   - enum perf_callchain_context (ENUM64 in both vmlinux.h and kernel BTF):
 *     PERF_CONTEXT_MAX = (u64)-4095, relocated into an ld_imm64
 *   - local ___flavor enums (32-bit and 64-bit) whose enumerators carry
 *     deliberately wrong local values: an existing one (the kernel value
 *     replaces the local one) and a missing one (exists = 0; its
 *     ENUMVAL_VALUE relocation is guarded by the exists check, so libbpf
 *     poisons dead code only).
 *
 * Program `probe_enums` (SEC("xdp"), BPF_PROG_TEST_RUN with any packet) stores
 * the answers in `out` (struct core_enums_out, .bss). On this kernel:
 *   ringbuf_exists 1, ringbuf_value 27, ringbuf_flavor_value 27 (local says
 *   1000), missing_exists 0, missing_value 0xdead (fallback);
 *   ctx_max_exists 1, ctx_max_value 0xfffffffffffff001,
 *   ctx_kernel_flavor_value 0xffffffffffffff80 (local says 0xffff...0001),
 *   ctx_missing_exists 0, ctx_missing_value 0xdead.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* 32-bit flavour of enum bpf_map_type: RINGBUF exists (the kernel value 27
 * wins over the local 1000), NOT_A_MAP does not. */
enum bpf_map_type___local {
	BPF_MAP_TYPE_RINGBUF___local = 1000,
	BPF_MAP_TYPE_NOT_A_MAP___local = 1001,
};

/* 64-bit flavour of enum perf_callchain_context. */
enum perf_callchain_context___local {
	PERF_CONTEXT_KERNEL___local = 0xffffffffffff0001ULL,
	PERF_CONTEXT_NOT_THERE___local = 0xffffffff00000000ULL,
};

struct core_enums_out {
	__u32 ringbuf_exists;
	__u32 ringbuf_value;
	__u32 ringbuf_flavor_value;
	__u32 missing_exists;
	__u64 missing_value;
	__u64 ctx_max_exists;
	__u64 ctx_max_value;
	__u64 ctx_kernel_flavor_value;
	__u64 ctx_missing_exists;
	__u64 ctx_missing_value;
};

struct core_enums_out out;

SEC("xdp")
int probe_enums(struct xdp_md *ctx)
{
	out.ringbuf_exists = bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	out.ringbuf_value = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	out.ringbuf_flavor_value = bpf_core_enum_value(enum bpf_map_type___local,
						       BPF_MAP_TYPE_RINGBUF___local);
	out.missing_exists = bpf_core_enum_value_exists(enum bpf_map_type___local,
							BPF_MAP_TYPE_NOT_A_MAP___local);
	if (bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_NOT_A_MAP___local))
		out.missing_value = bpf_core_enum_value(enum bpf_map_type___local,
							BPF_MAP_TYPE_NOT_A_MAP___local);
	else
		out.missing_value = 0xdead;

	out.ctx_max_exists = bpf_core_enum_value_exists(enum perf_callchain_context, PERF_CONTEXT_MAX);
	out.ctx_max_value = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_MAX);
	out.ctx_kernel_flavor_value = bpf_core_enum_value(enum perf_callchain_context___local,
							  PERF_CONTEXT_KERNEL___local);
	out.ctx_missing_exists = bpf_core_enum_value_exists(enum perf_callchain_context___local,
							    PERF_CONTEXT_NOT_THERE___local);
	if (bpf_core_enum_value_exists(enum perf_callchain_context___local,
				       PERF_CONTEXT_NOT_THERE___local))
		out.ctx_missing_value = bpf_core_enum_value(enum perf_callchain_context___local,
							    PERF_CONTEXT_NOT_THERE___local);
	else
		out.ctx_missing_value = 0xdead;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
