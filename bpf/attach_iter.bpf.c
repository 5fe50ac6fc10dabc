// SPDX-License-Identifier: GPL-2.0
/*
 * attach_iter.bpf.c - a BPF iterator.
 *
 * Idea: SEC("iter/task") is called once per task (thread) in the system
 * with a seq_file; whatever it prints with BPF_SEQ_PRINTF is what a read()
 * of the iterator fd (bpf_iter_create on the link) or of a pinned iterator
 * file returns. dump_task prints one line per task:
 *   "<tgid> <pid> <comm>\n"
 * e.g. "1234 1234 dotnet". When `only_tgid` (.rodata) is non-zero, only
 * that process's threads are printed. A final call with task == NULL marks
 * the end: it prints nothing but records the number of lines in
 * `tasks_printed` (.bss).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile int only_tgid = 0;

__u64 tasks_printed;
__u64 lines_in_this_pass;

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task) {
		tasks_printed = lines_in_this_pass;
		lines_in_this_pass = 0;
		return 0;
	}
	if (only_tgid && task->tgid != only_tgid)
		return 0;

	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->pid, task->comm);
	lines_in_this_pass++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
