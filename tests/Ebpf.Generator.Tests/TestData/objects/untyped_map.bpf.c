// SPDX-License-Identifier: GPL-2.0
/* A hash map declared with sizes only (no __type): EBPF008. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} sized_only SEC(".maps");

SEC("tp/syscalls/sys_enter_getpid")
int touch(void *ctx)
{
	__u32 k = 0;
	__u64 v = 1;
	bpf_map_update_elem(&sized_only, &k, &v, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
