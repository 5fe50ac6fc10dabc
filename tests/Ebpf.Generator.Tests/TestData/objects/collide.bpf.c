// SPDX-License-Identifier: GPL-2.0
/* Names that collide in C# (EBPF010) and a section no attach path knows (EBPF011). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} foo_bar SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fooBar SEC(".maps");

SEC("tp/syscalls/sys_enter_getpid")
int count(void *ctx)
{
	__u32 k = 0;
	__u64 *a = bpf_map_lookup_elem(&foo_bar, &k), *b = bpf_map_lookup_elem(&fooBar, &k);
	if (a && b)
		*a += *b;
	return 0;
}

SEC("nosuchkind/whatever")
int mystery(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
