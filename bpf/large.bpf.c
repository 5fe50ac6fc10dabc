// SPDX-License-Identifier: GPL-2.0
/*
 * large.bpf.c - a deliberately big object (about 720 KB with -g) for timing
 * the source generator and the object readers.
 *
 * Idea: what makes real objects big: many maps whose values are kernel
 * structs, many global variables of kernel struct types in .bss, .data and
 * .rodata, many programs with CO-RE reads, and the DWARF + BTF for all of
 * those types (struct task_struct, sk_buff, file, inode, mm_struct, sock,
 * cgroup, ... and everything they reach: most of the size is the type
 * closure of task_struct, shared by all).
 *
 *   - 16 hash maps  kmap_<type>   (u32 -> struct <type>, 4 entries each)
 *   - 1 array map   results       (u32 -> u64, 64 entries)
 *   - .bss          g_<type>      20 zero-initialised kernel structs
 *   - .data         d_<type>      4 initialised kernel structs
 *   - .rodata       ro_<type>     4 const volatile kernel structs
 *   - 16 programs   store_<type>  SEC("raw_tp"): copies g_<type> into
 *                   kmap_<type>[0] and records a few CO-RE reads of the
 *                   current task into results[<n>]; returns <n>
 *   - 8 programs    chain_<n>     SEC("raw_tp"): longer BPF_CORE_READ
 *                   chains (task -> mm, files, fs, nsproxy, cred, signal,
 *                   sighand, cgroups), result into results[32 + n]
 * Everything loads (and runs, with BPF_PROG_TEST_RUN: Linux 5.10) on this
 * kernel and on 5.10.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps");

static __always_inline void put_result(__u32 slot, __u64 v)
{
	bpf_map_update_elem(&results, &slot, &v, BPF_ANY);
}

static __always_inline struct task_struct *cur(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

/* One map, one .bss global and one program per kernel struct. */
#define STRUCT_SET(n, T)								\
	struct {									\
		__uint(type, BPF_MAP_TYPE_HASH);					\
		__uint(max_entries, 4);							\
		__type(key, __u32);							\
		__type(value, struct T);						\
	} kmap_##T SEC(".maps");							\
	struct T g_##T;								\
	SEC("raw_tp")									\
	int store_##T(void *ctx)							\
	{										\
		__u32 key = 0;								\
		struct task_struct *t = cur();						\
											\
		bpf_map_update_elem(&kmap_##T, &key, &g_##T, BPF_ANY);		\
		put_result(n, BPF_CORE_READ(t, pid) + bpf_core_type_size(struct T));	\
		return n;								\
	}

STRUCT_SET(0, task_struct)
STRUCT_SET(1, sk_buff)
STRUCT_SET(2, file)
STRUCT_SET(3, inode)
STRUCT_SET(4, mm_struct)
STRUCT_SET(5, dentry)
STRUCT_SET(6, super_block)
STRUCT_SET(7, sock)
STRUCT_SET(8, files_struct)
STRUCT_SET(9, cred)
STRUCT_SET(10, signal_struct)
STRUCT_SET(11, vm_area_struct)
STRUCT_SET(12, cgroup)
STRUCT_SET(13, fs_struct)
STRUCT_SET(14, nsproxy)
STRUCT_SET(15, css_set)

/* More .bss globals of kernel struct types (no map, no program). */
struct address_space g_address_space;
struct socket g_socket;
struct sighand_struct g_sighand_struct;
struct user_namespace g_user_namespace;

/* .data: initialised kernel structs. */
struct qstr d_qstr = { .len = 5, .name = 0 };
struct timer_list d_timer_list = { .expires = 1000 };
struct kiocb d_kiocb = { .ki_pos = 42 };
struct path d_path_pad[2] = { [1] = { .mnt = 0 } };

/* .rodata: const volatile kernel structs. */
const volatile struct iov_iter ro_iov_iter = { .count = 7 };
const volatile struct hrtimer ro_hrtimer = {};
const volatile struct work_struct ro_work_struct = {};
const volatile struct xdp_buff ro_xdp_buff = { .frame_sz = 4096 };

SEC("raw_tp")
int chain_0(void *ctx)
{
	struct task_struct *t = cur();

	put_result(32, BPF_CORE_READ(t, mm, map_count) + BPF_CORE_READ(t, mm, total_vm) +
			       d_qstr.len);
	return 0;
}

SEC("raw_tp")
int chain_1(void *ctx)
{
	struct task_struct *t = cur();

	put_result(33, BPF_CORE_READ(t, files, next_fd) + d_timer_list.expires);
	return 0;
}

SEC("raw_tp")
int chain_2(void *ctx)
{
	struct task_struct *t = cur();

	put_result(34, BPF_CORE_READ(t, fs, users) + BPF_CORE_READ(t, fs, umask) + d_kiocb.ki_pos);
	return 0;
}

SEC("raw_tp")
int chain_3(void *ctx)
{
	struct task_struct *t = cur();

	put_result(35, BPF_CORE_READ(t, nsproxy, pid_ns_for_children, level) +
			       BPF_CORE_READ(t, nsproxy, uts_ns, name.sysname[0]) + ro_iov_iter.count);
	return 0;
}

SEC("raw_tp")
int chain_4(void *ctx)
{
	struct task_struct *t = cur();

	put_result(36, BPF_CORE_READ(t, cred, uid.val) + BPF_CORE_READ(t, cred, euid.val) +
			       BPF_CORE_READ(t, real_cred, user_ns, level) + ro_xdp_buff.frame_sz);
	return 0;
}

SEC("raw_tp")
int chain_5(void *ctx)
{
	struct task_struct *t = cur();

	put_result(37, BPF_CORE_READ(t, signal, nr_threads) + BPF_CORE_READ(t, signal, rlim[7].rlim_cur));
	return 0;
}

SEC("raw_tp")
int chain_6(void *ctx)
{
	struct task_struct *t = cur();

	put_result(38, BPF_CORE_READ(t, sighand, action[9].sa.sa_flags) +
			       BPF_CORE_READ(t, group_leader, pid));
	return 0;
}

SEC("raw_tp")
int chain_7(void *ctx)
{
	struct task_struct *t = cur();

	put_result(39, BPF_CORE_READ(t, cgroups, dfl_cgrp, level) +
			       BPF_CORE_READ(t, mm, exe_file, f_inode, i_ino) + g_fs_struct.users);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
