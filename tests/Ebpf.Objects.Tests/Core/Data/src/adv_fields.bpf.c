// Adversarial CO-RE field relocations (compared against libbpf by the oracle test).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#define bpf_core_field_signed(f) __builtin_preserve_field_info(f, BPF_FIELD_SIGNED)

char LICENSE[] SEC("license") = "GPL";

__u64 out[128];

/* flattened view of sk_buff: the kernel nests these in anonymous unions/structs */
struct sk_buff___flat {
	unsigned int len;
	struct net_device *dev;
	__u16 protocol;
	char cb[48];
	__u32 hash;
	__u8 pkt_type:3;
} __attribute__((preserve_access_index));

/* local anonymous members */
struct task_struct___anon {
	union {
		unsigned int __state;
		long placeholder;
	};
	struct {
		int pid;
		struct {
			int tgid;
		};
	};
	char comm[16];
} __attribute__((preserve_access_index));

/* size mismatches for direct loads */
struct task_struct___sizes {
	__u64 flags;            /* kernel: unsigned int -> load resized */
	long prio;              /* kernel: int (signed) -> poisoned load */
	struct mm_struct *mm;   /* pointer -> same size */
	unsigned int in_execve; /* kernel: bitfield -> poisoned load */
	int pid;
	int missing_field;
} __attribute__((preserve_access_index));

struct task_struct___bf {
	unsigned int sched_reset_on_fork:1;
	unsigned int sched_contributes_to_load:1;
	unsigned int in_execve:1;
	unsigned int in_iowait:1;
} __attribute__((preserve_access_index));

/* the kernel's pglist_data has fields beyond 32 KiB */
struct pglist_data___far {
	int nr_zones;
	unsigned long node_start_pfn;
} __attribute__((preserve_access_index));

struct cgroup___flex {
	int level;
	struct cgroup *ancestors[];
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, char[4096]);
} scratch SEC(".maps");

static __noinline int sub_read_pid(struct task_struct *t)
{
	return BPF_CORE_READ(t, pid);
}

__noinline int global_read_tgid(struct task_struct *t)
{
	if (!t)
		return 0;
	return BPF_CORE_READ(t, tgid);
}

SEC("tp/syscalls/sys_enter_getpid")
int offsets(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct sk_buff___flat *skb = (void *)task;
	struct task_struct___anon *ta = (void *)task;
	struct cgroup___flex *cg = (void *)task;
	struct cgroup *kcg = (void *)task;

	out[0] = bpf_core_field_offset(skb->len);
	out[1] = bpf_core_field_offset(skb->dev);
	out[2] = bpf_core_field_offset(skb->protocol);
	out[3] = bpf_core_field_offset(skb->cb);
	out[4] = bpf_core_field_size(skb->cb);
	out[5] = bpf_core_field_exists(skb->hash);
	out[6] = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	out[7] = bpf_core_field_offset(ta->pid);
	out[8] = bpf_core_field_offset(ta->tgid);
	out[9] = bpf_core_field_offset(ta->__state);
	out[10] = bpf_core_field_offset(ta->comm[5]);
	out[11] = bpf_core_field_size(ta->comm[5]);
	out[12] = bpf_core_field_offset(task->comm[15]);
	out[13] = bpf_core_field_offset(cg->ancestors[3]);
	out[14] = bpf_core_field_offset(kcg->ancestors[7]);
	out[15] = bpf_core_field_exists(cg->ancestors[1]);
	out[16] = bpf_core_field_offset(task->signal->rlim[3]);
	out[17] = bpf_core_field_size(task->signal->rlim[3]);
	out[18] = bpf_core_field_offset(task->thread.sp);
	out[19] = bpf_core_field_offset(task->se.avg.util_avg);
	out[20] = bpf_core_field_signed(task->pid);
	out[21] = bpf_core_field_signed(task->comm[1]);
	out[22] = bpf_core_field_signed(task->__state);
	out[23] = sub_read_pid(task);
	out[24] = global_read_tgid(task);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(direct, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct task_struct___sizes *s = (void *)prev;
	struct task_struct___bf *b = (void *)prev;
	struct pglist_data___far *pg = (void *)prev;
	int k = 0;
	struct task_struct___sizes *w;

	out[30] = s->flags;
	out[31] = s->prio;
	out[32] = (unsigned long)s->mm;
	out[33] = s->in_execve;
	out[34] = s->pid;
	out[35] = BPF_CORE_READ_BITFIELD(b, in_execve);
	out[36] = BPF_CORE_READ_BITFIELD(b, sched_contributes_to_load);
	out[37] = BPF_CORE_READ_BITFIELD_PROBED(b, in_iowait);
	out[38] = pg->nr_zones;
	out[39] = pg->node_start_pfn;
	if (bpf_core_field_exists(s->missing_field))
		out[40] = s->missing_field;

	w = bpf_map_lookup_elem(&scratch, &k);
	if (w) {
		w->pid = 7;                 /* ST */
		w->flags = out[1];          /* STX, resized */
		w->prio = 3;                /* ST, poisoned (signed) */
	}
	return 0;
}
