// SPDX-License-Identifier: GPL-2.0
/*
 * nobtf_globals.bpf.c - compiled WITHOUT -g: no .BTF, no .BTF.ext, but global data and two programs, the object
 * bpftool still makes a skeleton for (untyped: the .bss and .data maps, the programs). The generator warns
 * (EBPF004, how to get BTF) and emits the same untyped skeleton; the loader creates .bss/.data without BTF.
 *
 *   count_packets  SEC("xdp")                          counts packets in .bss, XDP_PASS
 *   count_getpid   SEC("tp/syscalls/sys_enter_getpid")  counts getpid calls of the process whose tgid .data holds
 */
#define SEC(name) __attribute__((section(name), used))

typedef unsigned long long __u64;
typedef unsigned int __u32;

static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;

__u64 packets;
__u64 getpid_calls;
__u32 target_tgid = 0xffffffff;

SEC("xdp")
int count_packets(void *ctx)
{
	__sync_fetch_and_add(&packets, 1);
	return 2; /* XDP_PASS */
}

SEC("tp/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&getpid_calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
