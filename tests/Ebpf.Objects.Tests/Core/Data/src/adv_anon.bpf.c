#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
__u64 out[16];

typedef struct __attribute__((preserve_access_index)) { int a; int b; } anon_pair_t;

SEC("tp/syscalls/sys_enter_getpid")
int anon(void *ctx)
{
	anon_pair_t *p = (void *)bpf_get_current_task();
	struct __attribute__((preserve_access_index)) { int x; int y; } *q = (void *)p;
	out[0] = bpf_core_type_id_local(struct task_struct *);
	out[1] = BPF_CORE_READ(p, b);
	out[2] = bpf_core_field_exists(p->a);
	out[3] = bpf_core_type_exists(anon_pair_t);
	out[4] = BPF_CORE_READ(q, y);
	return 0;
}
