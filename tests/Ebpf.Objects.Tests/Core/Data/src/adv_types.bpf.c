#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
__u64 out[128];

struct list_head___m { struct list_head *next, *prev; };
struct list_head___bad { struct list_head *next; int prev; };
struct list_head___fwdptr { struct list_head___nope *next; };
struct rb_node___m { unsigned long __rb_parent_color; struct rb_node *rb_right; struct rb_node *rb_left; };
struct task_struct___few { int pid; int tgid; struct task_struct *real_parent; };
struct task_struct___ptrfwd { struct mm_struct *mm; struct signal_struct *signal; struct files_struct *files; };
struct task_struct___union { union { int pid; }; };
union task_struct___asunion { int pid; };
struct task_struct___comm8 { char comm[8]; };
struct callback_head___fp { struct callback_head *next; void (*func)(struct callback_head *); };
struct callback_head___fpbad { struct callback_head *next; int (*func)(struct callback_head *, int); };
enum pid_type___few { PIDTYPE_PID___few, PIDTYPE_TGID___few };
enum pid_type___bogus { PIDTYPE_NOT_THERE };
enum pid_type___big { PIDTYPE_PID___big = 1ULL << 40 };
typedef int pid_t___m;
typedef long pid_t___bad;
typedef void (*smp_call_func_t___m)(void *info);
typedef int (*smp_call_func_t___bad)(void *info, int x);
typedef struct list_head list_head_t___m;
struct sched_info___x { unsigned long pcount; };
struct core_not_in_kernel { int x; };
struct perf_aux_event___t { __u64 size; };

SEC("syscall")
int types(void *ctx)
{
	int i = 0;
	out[i++] = bpf_core_type_matches(struct list_head___m);
	out[i++] = bpf_core_type_matches(struct list_head___bad);
	out[i++] = bpf_core_type_matches(struct list_head___fwdptr);
	out[i++] = bpf_core_type_matches(struct rb_node___m);
	out[i++] = bpf_core_type_matches(struct task_struct___few);
	out[i++] = bpf_core_type_matches(struct task_struct___ptrfwd);
	out[i++] = bpf_core_type_matches(struct task_struct___union);
	out[i++] = bpf_core_type_matches(union task_struct___asunion);
	out[i++] = bpf_core_type_matches(struct task_struct___comm8);
	out[i++] = bpf_core_type_matches(struct callback_head___fp);
	out[i++] = bpf_core_type_matches(struct callback_head___fpbad);
	out[i++] = bpf_core_type_matches(enum pid_type___few);
	out[i++] = bpf_core_type_matches(enum pid_type___bogus);
	out[i++] = bpf_core_type_matches(enum pid_type___big);
	out[i++] = bpf_core_type_matches(pid_t___m);
	out[i++] = bpf_core_type_matches(pid_t___bad);
	out[i++] = bpf_core_type_matches(smp_call_func_t___m);
	out[i++] = bpf_core_type_matches(smp_call_func_t___bad);
	out[i++] = bpf_core_type_matches(list_head_t___m);
	out[i++] = bpf_core_type_matches(struct sched_info___x);
	out[i++] = bpf_core_type_exists(smp_call_func_t___m);
	out[i++] = bpf_core_type_exists(smp_call_func_t___bad);
	out[i++] = bpf_core_type_exists(pid_t___bad);
	out[i++] = bpf_core_type_exists(enum pid_type___big);
	out[i++] = bpf_core_type_exists(union task_struct___asunion);
	out[i++] = bpf_core_type_exists(struct core_not_in_kernel);
	out[i++] = bpf_core_type_size(enum pid_type___big);
	out[i++] = bpf_core_type_size(smp_call_func_t___m);
	out[i++] = bpf_core_type_size(pid_t___bad);
	out[i++] = bpf_core_type_size(struct core_not_in_kernel);
	out[i++] = bpf_core_type_size(union task_struct___asunion);
	out[i++] = bpf_core_type_id_kernel(pid_t___m);
	out[i++] = bpf_core_type_id_kernel(smp_call_func_t___m);
	out[i++] = bpf_core_type_id_kernel(struct core_not_in_kernel);
	out[i++] = bpf_core_type_id_local(pid_t___m);
	out[i++] = bpf_core_type_id_local(struct core_not_in_kernel);
	out[i++] = bpf_core_type_id_local(int);
	out[i++] = bpf_core_enum_value_exists(enum pid_type___few, PIDTYPE_TGID___few);
	out[i++] = bpf_core_enum_value(enum pid_type___few, PIDTYPE_TGID___few);
	out[i++] = bpf_core_enum_value(enum pid_type___few, PIDTYPE_PID___few);
	out[i++] = bpf_core_enum_value_exists(enum pid_type___big, PIDTYPE_PID___big);
	out[i++] = bpf_core_enum_value(enum pid_type___big, PIDTYPE_PID___big);
	out[i++] = bpf_core_enum_value(enum pid_type___bogus, PIDTYPE_NOT_THERE);
	out[i++] = bpf_core_enum_value_exists(enum pid_type___bogus, PIDTYPE_NOT_THERE);
	return 0;
}
