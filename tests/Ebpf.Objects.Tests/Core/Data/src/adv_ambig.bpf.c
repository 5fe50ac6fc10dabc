#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
__u64 out[128];

/* vmlinux has three struct perf_aux_event (16, 16, 32 bytes) and four struct workspace */
struct perf_aux_event___a { struct perf_event_header header; __u64 size; } __attribute__((preserve_access_index));
struct perf_aux_event___b { struct perf_event_header header; } __attribute__((preserve_access_index));
struct perf_aux_event___c { struct perf_event_header header; __u32 pid; } __attribute__((preserve_access_index));
struct workspace___w { struct list_head list; void *mem; } __attribute__((preserve_access_index));
struct syscall_tp_t___s { unsigned long long ent; int syscall_nr; } __attribute__((preserve_access_index));

SEC("tp/syscalls/sys_enter_getpid")
int ambig(void *ctx)
{
	struct perf_aux_event___a *a = (void *)bpf_get_current_task();
	struct perf_aux_event___b *b = (void *)a;
	struct perf_aux_event___c *c = (void *)a;
	struct workspace___w *w = (void *)a;
	struct syscall_tp_t___s *s = (void *)a;
	int i = 0;

	out[i++] = bpf_core_type_size(struct perf_aux_event___a);   /* ambiguous: 16 vs 32 */
	out[i++] = bpf_core_field_offset(a->size);                  /* one candidate: prunes ___a to it */
	out[i++] = bpf_core_type_size(struct perf_aux_event___a);   /* now 32 */
	out[i++] = bpf_core_type_id_kernel(struct perf_aux_event___a); /* now unique */
	out[i++] = bpf_core_field_offset(b->header);                /* all three match at 0 */
	out[i++] = bpf_core_field_exists(b->header);
	out[i++] = bpf_core_type_id_kernel(struct perf_aux_event___b); /* ambiguous ids */
	out[i++] = bpf_core_field_offset(c->pid);                   /* only the 16-byte pid/tid one */
	out[i++] = bpf_core_type_size(struct perf_aux_event___c);
	out[i++] = bpf_core_field_offset(w->list);                  /* field offset ambiguity */
	out[i++] = bpf_core_field_offset(w->mem);                   /* in two variants, at 0 */
	out[i++] = bpf_core_field_exists(w->list);
	out[i++] = bpf_core_field_offset(s->syscall_nr);            /* same offset in both */
	out[i++] = bpf_core_field_size(s->ent);
	out[i++] = bpf_core_type_size(struct syscall_tp_t___s);     /* 24 vs 64 */
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int ambig2(void *ctx)
{
	struct perf_aux_event___b *b = (void *)bpf_get_current_task();
	int i = 64;
	/* the cache is per local type id across programs: ___a was pruned above */
	out[i++] = bpf_core_type_size(struct perf_aux_event___a);
	out[i++] = bpf_core_type_size(struct perf_aux_event___b);
	out[i++] = BPF_CORE_READ(b, header.size);
	return 0;
}
