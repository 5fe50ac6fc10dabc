// SPDX-License-Identifier: GPL-2.0
/*
 * kconfig_virtual.bpf.c - .kconfig externs resolved the way libbpf resolves them, in the shape of the kernel
 * selftest that exercises them (test_core_extern):
 *
 *   - LINUX_KERNEL_VERSION, a virtual value the loader computes;
 *   - LINUX_EBPF_TEST_UNKNOWN, a __weak virtual value no loader knows: libbpf reads it as 0 (a strong one is an
 *     error), so that objects written for a newer libbpf still load;
 *   - CONFIG_BPF_SYSCALL, strong: the test gives it through BpfObjectOptions.KernelConfigOverrides, as the selftest
 *     gives libbpf its own kconfig text;
 *   - __weak CONFIG_EBPF_TEST_* values of each C type (tristate, bool, char, u16, int, u64, char[8]) set by the test,
 *     and CONFIG_EBPF_TEST_ABSENT, set by nobody, so 0;
 *   - a branch on CONFIG_EBPF_TEST_ABSENT that calls a helper no kernel has: .kconfig is frozen before load, the
 *     verifier sees the constant 0 and removes the branch, so the program loads.
 *
 * read_values (raw_tp/sys_enter) copies every value into .bss on the next system call.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

static long (*helper_no_kernel_has)(void *ctx, int arg) = (void *)999;

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int LINUX_EBPF_TEST_UNKNOWN __kconfig __weak;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_EBPF_TEST_TRISTATE __kconfig __weak;
extern bool CONFIG_EBPF_TEST_BOOL __kconfig __weak;
extern char CONFIG_EBPF_TEST_CHAR __kconfig __weak;
extern __u16 CONFIG_EBPF_TEST_USHORT __kconfig __weak;
extern int CONFIG_EBPF_TEST_INT __kconfig __weak;
extern __u64 CONFIG_EBPF_TEST_ULONG __kconfig __weak;
extern const char CONFIG_EBPF_TEST_STR[8] __kconfig __weak;
extern __u64 CONFIG_EBPF_TEST_ABSENT __kconfig __weak;

__u64 kernel_version = -1;
__u64 unknown_virtual = -1;
__u64 bpf_syscall = -1;
__u64 tristate_value = -1;
__u64 bool_value = -1;
__u64 char_value = -1;
__u64 ushort_value = -1;
__u64 int_value = -1;
__u64 ulong_value = -1;
char str_value[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
__u64 absent_value = -1;

SEC("raw_tp/sys_enter")
int read_values(void *ctx)
{
	__u32 i;

	kernel_version = LINUX_KERNEL_VERSION;
	unknown_virtual = LINUX_EBPF_TEST_UNKNOWN;
	bpf_syscall = CONFIG_BPF_SYSCALL;
	tristate_value = CONFIG_EBPF_TEST_TRISTATE;
	bool_value = CONFIG_EBPF_TEST_BOOL;
	char_value = CONFIG_EBPF_TEST_CHAR;
	ushort_value = CONFIG_EBPF_TEST_USHORT;
	int_value = CONFIG_EBPF_TEST_INT;
	ulong_value = CONFIG_EBPF_TEST_ULONG;
	for (i = 0; i < sizeof(str_value); i++)
		str_value[i] = CONFIG_EBPF_TEST_STR[i];
	if (CONFIG_EBPF_TEST_ABSENT)
		absent_value = helper_no_kernel_has(ctx, 1);
	else
		absent_value = 0xC0FFEE;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
