#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
__u64 out[16];
__weak __noinline int get_pid(struct task_struct *t) { return BPF_CORE_READ(t, pid) + 1; }
SEC("tp/syscalls/sys_enter_getpid")
int prog_a(void *ctx) { out[0] = get_pid((void *)bpf_get_current_task()); return 0; }
