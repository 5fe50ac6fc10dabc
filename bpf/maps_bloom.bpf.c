// SPDX-License-Identifier: GPL-2.0
/*
 * maps_bloom.bpf.c - the bloom filter map (Linux 5.16), apart from
 * maps.bpf.c so that the other map kinds need no kernel that new.
 *
 * Idea: a map with no key whose definition carries map_extra (the number of
 * hash functions, 3 here), pushed to and peeked at from a program:
 *   remember_caller  tp/syscalls/sys_enter_getpid: adds the caller's tgid to
 *                    bloom_map unless it is (probably) there already, and
 *                    counts its own calls in `calls` (.bss) and the callers
 *                    that were new in `added`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);	/* no key */
	__uint(max_entries, 64);
	__uint(map_extra, 3);	/* number of hash functions */
	__type(value, __u32);
} bloom_map SEC(".maps");

__u64 calls, added;

SEC("tp/syscalls/sys_enter_getpid")
int remember_caller(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	__sync_fetch_and_add(&calls, 1);
	if (bpf_map_peek_elem(&bloom_map, &tgid) != 0) {
		bpf_map_push_elem(&bloom_map, &tgid, BPF_ANY);
		__sync_fetch_and_add(&added, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
