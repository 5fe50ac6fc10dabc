// SPDX-License-Identifier: GPL-2.0
/*
 * externs.bpf.c - extern variables the loader must resolve: .kconfig and
 * untyped __ksym (typed ksyms are in externs_typed.bpf.c, kfunc calls in
 * kfuncs.bpf.c).
 *
 * Idea: the loader fills the .kconfig map from the kernel config
 * (/proc/config.gz or /boot/config-$(uname -r)) plus the libbpf "virtual"
 * LINUX_* values, and patches ld_imm64 instructions for untyped __ksym
 * externs (const void) with the kallsyms address. Weak externs that cannot
 * be resolved become 0 / NULL instead of failing. Nothing here needs more
 * than a kernel with global data (5.2).
 *
 * Programs, SEC("xdp") so BPF_PROG_TEST_RUN runs them (with any packet of
 * 14 bytes or more); each copies what it sees into .bss:
 *   read_kconfig    kernel_version, has_syscall_wrapper, hz, bpf_jit
 *                   (tristate: 0 no, 1 yes, 2 module), bpf_syscall,
 *                   missing_config (CONFIG_DOES_NOT_EXIST, weak, so 0).
 *                   Returns 0.
 *   read_ksyms      untyped ksyms: btf_start/btf_end (addresses of
 *                   __start_BTF/__stop_BTF from kallsyms, so btf_end -
 *                   btf_start = size of /sys/kernel/btf/vmlinux) and
 *                   missing_ksym_addr (weak, unresolvable, so 0).
 *                   Returns 0.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* libbpf "virtual" kconfig values */
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
/* real CONFIG_ values: int, tristate, bool, and a missing weak one */
extern int CONFIG_HZ __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_DOES_NOT_EXIST __kconfig __weak;

/* untyped ksyms: kallsyms addresses; the last one is weak and missing. The
 * first two are data symbols, which /proc/kallsyms lists only with
 * CONFIG_KALLSYMS_ALL (Debian's arm64 6.1 kernel lacks it): weak, so that the
 * kconfig externs load everywhere, and 0 there */
extern const void __start_BTF __ksym __weak;
extern const void __stop_BTF __ksym __weak;
extern const void does_not_exist_ksym __ksym __weak;

unsigned int kernel_version;
bool has_syscall_wrapper;
int hz;
int bpf_jit;
bool bpf_syscall;
int missing_config;

__u64 btf_start, btf_end, missing_ksym_addr;

SEC("xdp")
int read_kconfig(struct xdp_md *ctx)
{
	kernel_version = LINUX_KERNEL_VERSION;
	has_syscall_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	hz = CONFIG_HZ;
	bpf_jit = CONFIG_BPF_JIT;
	bpf_syscall = CONFIG_BPF_SYSCALL;
	missing_config = CONFIG_DOES_NOT_EXIST;
	return 0;
}

SEC("xdp")
int read_ksyms(struct xdp_md *ctx)
{
	btf_start = (__u64)&__start_BTF;
	btf_end = (__u64)&__stop_BTF;
	missing_ksym_addr = (__u64)&does_not_exist_ksym;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
