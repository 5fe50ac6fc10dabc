// SPDX-License-Identifier: GPL-2.0
/*
 * exec_snoop.bpf.c - the sample application's object: process exec/exit
 * tracing in the style of libbpf-bootstrap's bootstrap.bpf.c.
 *
 * Idea: a realistic small tool. sched_process_exec records the start time
 * of each process in `exec_start` (pid -> ns) and emits an exec event;
 * sched_process_exit emits an exit event with the exit code and how long
 * the process lived, skipping processes younger than `min_duration_ns`.
 * Events are struct event (exec_snoop.h) in the 256 KiB ring buffer `rb`.
 * `target_pid` (a tgid, 0 = all) restricts events to one process.
 * `rb_dropped` counts the events lost because the ring buffer was full (the
 * runtime finds it by name and reports it as ebpf.reader.lost).
 *
 * CO-RE: ppid via BPF_CORE_READ(task, real_parent, tgid), exit code via
 * BPF_CORE_READ(task, exit_code).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exec_snoop.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, pid_t);
	__type(value, u64);
} exec_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

const volatile unsigned long long min_duration_ns = 0;
const volatile int target_pid = 0;

/* Events that did not fit in the ring buffer (reserve failed). */
__u64 rb_dropped = 0;

/* A ring buffer has no value type: this keeps struct event in the BTF. */
struct event *unused_event __attribute__((unused));

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned int fname_off;
	struct event *e;
	pid_t pid;
	u64 ts;

	pid = bpf_get_current_pid_tgid() >> 32;
	if (target_pid && pid != target_pid)
		return 0;

	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);

	/* with a minimum duration only exits are reported */
	if (min_duration_ns)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&rb_dropped, 1);
		return 0;
	}

	e->exit_event = false;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = 0;
	e->duration_ns = 0;
	e->ts_ns = ts;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	fname_off = ctx->__data_loc_filename & 0xFFFF;
	bpf_probe_read_str(&e->filename, sizeof(e->filename), (void *)ctx + fname_off);

	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 id, ts, *start_ts, duration_ns = 0;
	struct event *e;
	pid_t pid, tid;

	id = bpf_get_current_pid_tgid();
	pid = id >> 32;
	tid = (u32)id;

	/* threads exiting are not processes exiting */
	if (pid != tid)
		return 0;
	if (target_pid && pid != target_pid)
		return 0;

	ts = bpf_ktime_get_ns();
	start_ts = bpf_map_lookup_elem(&exec_start, &pid);
	if (start_ts)
		duration_ns = ts - *start_ts;
	else if (min_duration_ns)
		return 0;
	bpf_map_delete_elem(&exec_start, &pid);

	if (min_duration_ns && duration_ns < min_duration_ns)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&rb_dropped, 1);
		return 0;
	}

	e->exit_event = true;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
	e->duration_ns = duration_ns;
	e->ts_ns = ts;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	e->filename[0] = '\0';

	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
