// SPDX-License-Identifier: GPL-2.0
/*
 * core_types.bpf.c - CO-RE type-based relocations. Built with clang-19:
 * clang-14 cannot emit TYPE_MATCHES.
 *
 * Idea: relocations whose subject is a whole type, not a field:
 *   TYPE_EXISTS     bpf_core_type_exists     struct (task_struct via a local
 *                                            flavour), typedef, enum, and a
 *                                            local struct the kernel lacks
 *   TYPE_SIZE       bpf_core_type_size       struct, typedef (pid_t, and the
 *                                            pointer typedef __sighandler_t),
 *                                            enum
 *   TYPE_ID_LOCAL   bpf_core_type_id_local   struct, and a pointer type
 *                                            (no kernel candidate needed)
 *   TYPE_ID_TARGET  bpf_core_type_id_kernel  struct (vmlinux BTF id of
 *                                            task_struct), and the missing
 *                                            struct (0)
 *   TYPE_MATCHES    bpf_core_type_matches    structs (list_head as in
 *                                            vmlinux.h; task_struct flavours
 *                                            that match, mismatch in kind,
 *                                            and mismatch in char signedness),
 *                                            pointer typedef, enum (itself and
 *                                            a flavour with an unknown
 *                                            enumerator)
 *
 * task_struct is only ever named through small local ___flavours with
 * scalar members (the ___suffix is ignored when looking for the kernel
 * type): relocations only need the name, and it keeps the full task_struct
 * out of this object's BTF. That matters for reproducibility: clang-19
 * orders the FWD types it emits for pointer-only structs by memory address,
 * so an object with many of them (anything that embeds task_struct) is not
 * byte-identical when built from a different directory.
 *
 * Program `probe_types` (SEC("xdp"), BPF_PROG_TEST_RUN with any packet) stores
 * every answer in `out` (struct core_types_out, .bss). On this kernel
 * (6.18, x86-64): task_size 3264, pid_t/pid_type sizes 4, sighandler size
 * 8, task_kernel_id = id of task_struct in /sys/kernel/btf/vmlinux (114
 * here); every *_exists / *_matches is 1 except missing_exists,
 * missing_kernel_id, task_wrong_matches, task_comm_matches and
 * pid_type_bogus_matches, which are 0. task_comm_matches is 0 because since
 * 6.2 the kernel is built with -funsigned-char, so vmlinux BTF's `char` is
 * unsigned while clang's BPF `char` is signed, and type matching compares
 * integer signedness (task_struct::comm is char[16]): the full task_struct
 * from vmlinux.h does not "match" the running kernel either.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* A type no kernel has. */
struct core_types_not_in_kernel {
	int x;
} __attribute__((preserve_access_index));

/* Flavours of task_struct: the ___suffix is ignored when looking for the
 * kernel type.
 *   ___min    a subset with the right kinds (int vs pid_t match: typedefs
 *             are skipped; a pointer to the same struct matches by name)
 *   ___wrong  pid declared as a pointer: does not match
 *   ___comm   comm as char[16]: does not match (signedness, see above) */
struct task_struct___min {
	int pid;
	int tgid;
	struct task_struct___min *real_parent;
} __attribute__((preserve_access_index));

struct task_struct___wrong {
	char *pid;
} __attribute__((preserve_access_index));

struct task_struct___comm {
	char comm[16];
} __attribute__((preserve_access_index));

/* An enum flavour with an enumerator the kernel's enum pid_type lacks. */
enum pid_type___bogus {
	PIDTYPE_PID___bogus = 0,
	PIDTYPE_BOGUS___bogus = 99,
};

struct core_types_out {
	/* TYPE_EXISTS */
	__u32 task_exists;
	__u32 pid_t_exists;
	__u32 pid_type_exists;
	__u32 missing_exists;
	/* TYPE_SIZE */
	__u32 task_size;
	__u32 pid_t_size;
	__u32 pid_type_size;
	__u32 sighandler_size;
	/* TYPE_ID_LOCAL / TYPE_ID_TARGET */
	__u32 task_local_id;
	__u32 task_ptr_local_id;
	__u32 task_kernel_id;
	__u32 missing_kernel_id;
	/* TYPE_MATCHES */
	__u32 list_head_matches;
	__u32 task_min_matches;
	__u32 task_wrong_matches;
	__u32 task_comm_matches;
	__u32 sighandler_matches;
	__u32 pid_type_matches;
	__u32 pid_type_bogus_matches;
};

struct core_types_out out;

SEC("xdp")
int probe_types(struct xdp_md *ctx)
{
	out.task_exists = bpf_core_type_exists(struct task_struct___min);
	out.pid_t_exists = bpf_core_type_exists(pid_t);
	out.pid_type_exists = bpf_core_type_exists(enum pid_type);
	out.missing_exists = bpf_core_type_exists(struct core_types_not_in_kernel);

	out.task_size = bpf_core_type_size(struct task_struct___min);
	out.pid_t_size = bpf_core_type_size(pid_t);
	out.pid_type_size = bpf_core_type_size(enum pid_type);
	out.sighandler_size = bpf_core_type_size(__sighandler_t);

	out.task_local_id = bpf_core_type_id_local(struct task_struct___min);
	out.task_ptr_local_id = bpf_core_type_id_local(struct task_struct___min *);
	out.task_kernel_id = bpf_core_type_id_kernel(struct task_struct___min);
	out.missing_kernel_id = bpf_core_type_id_kernel(struct core_types_not_in_kernel);

	out.list_head_matches = bpf_core_type_matches(struct list_head);
	out.task_min_matches = bpf_core_type_matches(struct task_struct___min);
	out.task_wrong_matches = bpf_core_type_matches(struct task_struct___wrong);
	out.task_comm_matches = bpf_core_type_matches(struct task_struct___comm);
	out.sighandler_matches = bpf_core_type_matches(__sighandler_t);
	out.pid_type_matches = bpf_core_type_matches(enum pid_type);
	out.pid_type_bogus_matches = bpf_core_type_matches(enum pid_type___bogus);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
