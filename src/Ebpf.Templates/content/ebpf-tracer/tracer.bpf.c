// SPDX-License-Identifier: GPL-2.0
// A CO-RE eBPF program: on every exec, one event goes to user space through a ring buffer.
// The parent's pid is read from task_struct->real_parent->tgid with BPF_CORE_READ: the field offsets are those
// of vmlinux.h at compile time, and the loader relocates them for the running kernel (CO-RE), so this object runs
// on any kernel with BTF and ring buffers (Linux 5.8+).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 128

struct event {
	__u32 pid;
	__u32 ppid;
	__u64 timestamp_ns;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

// A ring buffer has no value type: this global keeps struct event in the object's BTF, where the source generator
// finds it (Types="event" in the .csproj) and makes TracerSkeleton.Event of it.
struct event *unused_event __attribute__((unused));

// Set from C# between Open and Load (skel.Rodata.TargetPid): 0 traces every process.
const volatile __u32 target_pid = 0;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (target_pid && pid != target_pid)
		return 0;

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->timestamp_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	// The tracepoint's filename is a __data_loc string: its offset is in the low 16 bits of __data_loc_filename.
	unsigned int loc = BPF_CORE_READ(ctx, __data_loc_filename) & 0xFFFF;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + loc);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
