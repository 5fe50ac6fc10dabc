#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
extern __u64 out[16];
__noinline int get_pid(struct task_struct *t) { return BPF_CORE_READ(t, tgid); }
SEC("tp/syscalls/sys_enter_getppid")
int prog_b(void *ctx) { out[1] = get_pid((void *)bpf_get_current_task()); return bpf_core_field_offset(struct task_struct, comm); }
