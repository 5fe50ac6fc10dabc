// SPDX-License-Identifier: GPL-2.0
/*
 * externs_typed.bpf.c - typed __ksym externs: kernel variables the loader
 * resolves to their BTF ids (BPF_PSEUDO_BTF_ID; the kernel then finds the
 * address itself), read with bpf_per_cpu_ptr / bpf_this_cpu_ptr.
 *
 * Idea: a typed ksym needs the kernel's BTF to describe the variable (a VAR
 * type): Linux 5.10 or later built with per-CPU variables in its BTF (pahole
 * 1.18 or later; Debian 11's 5.10 leaves them out, pahole 1.20). Where they
 * are missing the load fails, with libbpf as with this loader; so they are
 * apart from externs.bpf.c, whose kconfig and untyped ksyms work everywhere.
 *
 * Program `read_runqueues` (SEC("?raw_tp"), BPF_PROG_TEST_RUN, Linux 5.10):
 *   cpu0_nr_running (runqueues on CPU 0) and prog_active (bpf_prog_active
 *   on this CPU) into .bss. The kernel resolves a typed ksym's address with
 *   kallsyms_lookup_name(), which only knows data symbols with
 *   CONFIG_KALLSYMS_ALL=y: without it the verifier rejects this program
 *   ("ldimm64 failed to find the address for kernel symbol 'runqueues'").
 *   That is why it is not autoloaded ("?", libbpf semantics): the object
 *   loads wherever the BTF has the variables (the externs themselves are
 *   resolved to BTF ids at load); enable it on kernels with KALLSYMS_ALL.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* typed ksyms: per-CPU variables described in vmlinux BTF */
extern const struct rq runqueues __ksym;
extern const int bpf_prog_active __ksym;

unsigned int cpu0_nr_running;
int prog_active;

SEC("?raw_tp")
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
