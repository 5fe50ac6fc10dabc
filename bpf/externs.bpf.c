// SPDX-License-Identifier: GPL-2.0
/*
 * externs.bpf.c - extern variables the loader must resolve: .kconfig and
 * __ksym (kfunc calls are in kfuncs.bpf.c).
 *
 * Idea: the loader fills the .kconfig map from the kernel config
 * (/proc/config.gz or /boot/config-$(uname -r)) plus the libbpf "virtual"
 * LINUX_* values, and patches ld_imm64 instructions for __ksym externs:
 * untyped ones (const void) with the kallsyms address, typed ones with the
 * vmlinux BTF id of the VAR (the kernel then resolves the address). Weak
 * externs that cannot be resolved become 0 / NULL instead of failing.
 *
 * Programs, all SEC("syscall") so BPF_PROG_TEST_RUN runs them (no ctx); each
 * copies what it sees into .bss:
 *   read_kconfig    kernel_version, has_syscall_wrapper, hz, bpf_jit
 *                   (tristate: 0 no, 1 yes, 2 module), bpf_syscall,
 *                   missing_config (CONFIG_DOES_NOT_EXIST, weak, so 0).
 *                   Returns 0.
 *   read_ksyms      untyped ksyms: btf_start/btf_end (addresses of
 *                   __start_BTF/__stop_BTF from kallsyms, so btf_end -
 *                   btf_start = size of /sys/kernel/btf/vmlinux) and
 *                   missing_ksym_addr (weak, unresolvable, so 0).
 *                   Returns 0.
 *   read_runqueues  typed per-CPU ksyms with bpf_per_cpu_ptr /
 *                   bpf_this_cpu_ptr: cpu0_nr_running (runqueues on CPU 0)
 *                   and prog_active (bpf_prog_active on this CPU).
 *                   The kernel resolves a typed ksym's address with
 *                   kallsyms_lookup_name(), which only knows data symbols
 *                   with CONFIG_KALLSYMS_ALL=y: without it the verifier
 *                   rejects this program ("ldimm64 failed to find the
 *                   address for kernel symbol 'runqueues'"). That is why
 *                   it sits in a "?syscall" section: not autoloaded (libbpf
 *                   semantics), so the object loads everywhere; enable it
 *                   explicitly on kernels with KALLSYMS_ALL. The externs
 *                   themselves are still resolved (BTF ids) at load.
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

/* typed ksyms: per-CPU variables described in vmlinux BTF */
extern const struct rq runqueues __ksym;
extern const int bpf_prog_active __ksym;

unsigned int kernel_version;
bool has_syscall_wrapper;
int hz;
int bpf_jit;
bool bpf_syscall;
int missing_config;

__u64 btf_start, btf_end, missing_ksym_addr;

unsigned int cpu0_nr_running;
int prog_active;

SEC("syscall")
int read_kconfig(void *ctx)
{
	kernel_version = LINUX_KERNEL_VERSION;
	has_syscall_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	hz = CONFIG_HZ;
	bpf_jit = CONFIG_BPF_JIT;
	bpf_syscall = CONFIG_BPF_SYSCALL;
	missing_config = CONFIG_DOES_NOT_EXIST;
	return 0;
}

SEC("syscall")
int read_ksyms(void *ctx)
{
	btf_start = (__u64)&__start_BTF;
	btf_end = (__u64)&__stop_BTF;
	missing_ksym_addr = (__u64)&does_not_exist_ksym;
	return 0;
}

SEC("?syscall")
int read_runqueues(void *ctx)
{
	const struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	if (rq)
		cpu0_nr_running = rq->nr_running;
	prog_active = *active;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
