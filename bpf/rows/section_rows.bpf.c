// SPDX-License-Identifier: GPL-2.0
/*
 * section_rows.bpf.c - one program per row of the section table (SectionDefinitions, libbpf's section_defs[]),
 * in table order, for the row-walking test (tests/Ebpf.Runtime.Tests/Attach/SectionRowTests.cs).
 *
 * Each program is named after its row's pattern (r_ + the pattern with every run of other characters than [a-z0-9]
 * turned into '_': "kprobe.multi+" -> r_kprobe_multi, "cgroup/connect4" -> r_cgroup_connect4) and sits in a
 * section that row matches. Prefix rows name a target where one exists on every kernel the tests run on (vfs_read,
 * getpid in libc.so.6, syscalls/sys_enter_getpid, the USDT probe ebpf_test:probe1 of the tests' native library,
 * task iterators), so that auto-attach runs for real wherever the kernel allows the kind. fmod_ret may modify an
 * LSM hook (security_task_getpgid); the sleepable trampolines need a function on the kernel's error-injection list,
 * here the x86-64 syscall entry __x64_sys_getpgid (in the kernel BTF, unlike the SYSCALL_DEFINE0 ones such as
 * getpid), which kernels built without CONFIG_FUNCTION_ERROR_INJECTION (Debian's) refuse.
 *
 * Every body returns a constant the verifier accepts for its kind: 0 for tracing, LSM, iterator, struct_ops,
 * netfilter and flow dissector programs, 1 (pass/allow) elsewhere.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#define ROW(name, sec, ret) \
	SEC(sec) int name(void *ctx) { return ret; }

ROW(r_socket, "socket", 1)
ROW(r_sk_reuseport_migrate, "sk_reuseport/migrate", 1)
ROW(r_sk_reuseport, "sk_reuseport", 1)
ROW(r_kprobe, "kprobe/vfs_read", 1)
ROW(r_uprobe, "uprobe/libc.so.6:getpid", 1)
ROW(r_uprobe_s, "uprobe.s/libc.so.6:getpid", 1)
ROW(r_kretprobe, "kretprobe/vfs_read", 1)
ROW(r_uretprobe, "uretprobe/libc.so.6:getpid", 1)
ROW(r_uretprobe_s, "uretprobe.s/libc.so.6:getpid", 1)
ROW(r_kprobe_multi, "kprobe.multi/vfs_read", 1)
ROW(r_kretprobe_multi, "kretprobe.multi/vfs_read", 1)
ROW(r_kprobe_session, "kprobe.session/vfs_read", 1)
ROW(r_uprobe_multi, "uprobe.multi/libc.so.6:getpid", 1)
ROW(r_uretprobe_multi, "uretprobe.multi/libc.so.6:getpid", 1)
ROW(r_uprobe_session, "uprobe.session/libc.so.6:getpid", 1)
ROW(r_uprobe_multi_s, "uprobe.multi.s/libc.so.6:getpid", 1)
ROW(r_uretprobe_multi_s, "uretprobe.multi.s/libc.so.6:getpid", 1)
ROW(r_uprobe_session_s, "uprobe.session.s/libc.so.6:getpid", 1)
ROW(r_ksyscall, "ksyscall/getpid", 1)
ROW(r_kretsyscall, "kretsyscall/getpid", 1)
ROW(r_usdt, "usdt/libuprobe_target.so:ebpf_test:probe1", 1)
ROW(r_usdt_s, "usdt.s/libuprobe_target.so:ebpf_test:probe1", 1)
ROW(r_tc_ingress, "tc/ingress", 1)
ROW(r_tc_egress, "tc/egress", 1)
ROW(r_tcx_ingress, "tcx/ingress", 1)
ROW(r_tcx_egress, "tcx/egress", 1)
ROW(r_tc, "tc", 1)
ROW(r_classifier, "classifier", 1)
ROW(r_action, "action", 1)
ROW(r_netkit_primary, "netkit/primary", 1)
ROW(r_netkit_peer, "netkit/peer", 1)
ROW(r_tracepoint, "tracepoint/syscalls/sys_enter_getpid", 1)
ROW(r_tp, "tp/syscalls/sys_enter_getpid", 1)
ROW(r_raw_tracepoint, "raw_tracepoint/sys_enter", 1)
ROW(r_raw_tp, "raw_tp/sys_enter", 1)
ROW(r_raw_tracepoint_w, "raw_tracepoint.w/sys_enter", 1)
ROW(r_raw_tp_w, "raw_tp.w/sys_enter", 1)
ROW(r_tp_btf, "tp_btf/sched_switch", 0)
ROW(r_fentry, "fentry/vfs_read", 0)
ROW(r_fmod_ret, "fmod_ret/security_task_getpgid", 0)
ROW(r_fexit, "fexit/vfs_read", 0)
ROW(r_fentry_s, "fentry.s/__x64_sys_getpgid", 0)
ROW(r_fmod_ret_s, "fmod_ret.s/__x64_sys_getpgid", 0)
ROW(r_fexit_s, "fexit.s/__x64_sys_getpgid", 0)
ROW(r_fsession, "fsession/vfs_read", 0)
ROW(r_fsession_s, "fsession.s/__x64_sys_getpgid", 0)
ROW(r_freplace, "freplace/target", 0)
ROW(r_lsm, "lsm/file_open", 0)
ROW(r_lsm_s, "lsm.s/file_open", 0)
ROW(r_lsm_cgroup, "lsm_cgroup/socket_bind", 0)
ROW(r_iter, "iter/task", 0)
ROW(r_iter_s, "iter.s/task", 0)
ROW(r_syscall, "syscall", 1)
ROW(r_xdp_frags_devmap, "xdp.frags/devmap", 1)
ROW(r_xdp_devmap, "xdp/devmap", 1)
ROW(r_xdp_frags_cpumap, "xdp.frags/cpumap", 1)
ROW(r_xdp_cpumap, "xdp/cpumap", 1)
ROW(r_xdp_frags, "xdp.frags", 1)
ROW(r_xdp, "xdp", 1)
ROW(r_perf_event, "perf_event", 1)
ROW(r_lwt_in, "lwt_in", 1)
ROW(r_lwt_out, "lwt_out", 1)
ROW(r_lwt_xmit, "lwt_xmit", 1)
ROW(r_lwt_seg6local, "lwt_seg6local", 1)
ROW(r_sockops, "sockops", 1)
ROW(r_sk_skb_stream_parser, "sk_skb/stream_parser", 1)
ROW(r_sk_skb_stream_verdict, "sk_skb/stream_verdict", 1)
ROW(r_sk_skb_verdict, "sk_skb/verdict", 1)
ROW(r_sk_skb, "sk_skb", 1)
ROW(r_sk_msg, "sk_msg", 1)
ROW(r_lirc_mode2, "lirc_mode2", 1)
ROW(r_flow_dissector, "flow_dissector", 0)
ROW(r_cgroup_skb_ingress, "cgroup_skb/ingress", 1)
ROW(r_cgroup_skb_egress, "cgroup_skb/egress", 1)
ROW(r_cgroup_skb, "cgroup/skb", 1)
ROW(r_cgroup_sock_create, "cgroup/sock_create", 1)
ROW(r_cgroup_sock_release, "cgroup/sock_release", 1)
ROW(r_cgroup_sock, "cgroup/sock", 1)
ROW(r_cgroup_post_bind4, "cgroup/post_bind4", 1)
ROW(r_cgroup_post_bind6, "cgroup/post_bind6", 1)
ROW(r_cgroup_bind4, "cgroup/bind4", 1)
ROW(r_cgroup_bind6, "cgroup/bind6", 1)
ROW(r_cgroup_connect4, "cgroup/connect4", 1)
ROW(r_cgroup_connect6, "cgroup/connect6", 1)
ROW(r_cgroup_connect_unix, "cgroup/connect_unix", 1)
ROW(r_cgroup_sendmsg4, "cgroup/sendmsg4", 1)
ROW(r_cgroup_sendmsg6, "cgroup/sendmsg6", 1)
ROW(r_cgroup_sendmsg_unix, "cgroup/sendmsg_unix", 1)
ROW(r_cgroup_recvmsg4, "cgroup/recvmsg4", 1)
ROW(r_cgroup_recvmsg6, "cgroup/recvmsg6", 1)
ROW(r_cgroup_recvmsg_unix, "cgroup/recvmsg_unix", 1)
ROW(r_cgroup_getpeername4, "cgroup/getpeername4", 1)
ROW(r_cgroup_getpeername6, "cgroup/getpeername6", 1)
ROW(r_cgroup_getpeername_unix, "cgroup/getpeername_unix", 1)
ROW(r_cgroup_getsockname4, "cgroup/getsockname4", 1)
ROW(r_cgroup_getsockname6, "cgroup/getsockname6", 1)
ROW(r_cgroup_getsockname_unix, "cgroup/getsockname_unix", 1)
ROW(r_cgroup_sysctl, "cgroup/sysctl", 1)
ROW(r_cgroup_getsockopt, "cgroup/getsockopt", 1)
ROW(r_cgroup_setsockopt, "cgroup/setsockopt", 1)
ROW(r_cgroup_dev, "cgroup/dev", 1)
ROW(r_struct_ops, "struct_ops/init", 0)
ROW(r_struct_ops_s, "struct_ops.s/init", 0)
ROW(r_sk_lookup, "sk_lookup", 1)
ROW(r_netfilter, "netfilter", 0)

char LICENSE[] SEC("license") = "GPL";
