/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * exec_snoop.h - the event exec_snoop.bpf.c sends to user space, shared by
 * the BPF side and the sample application (and its generated C# mirror).
 * Plain C types only, so it can be included with or without vmlinux.h (user
 * space C needs <stdbool.h> first, for bool). Layout (x86-64 and BPF):
 * size 176; pid @0, ppid @4, exit_code @8, duration_ns @16, ts_ns @24,
 * comm @32, filename @48, exit_event @175.
 */
#ifndef EXEC_SNOOP_H
#define EXEC_SNOOP_H

#define EXEC_SNOOP_TASK_COMM_LEN 16
#define EXEC_SNOOP_MAX_FILENAME_LEN 127

struct event {
	int pid;
	int ppid;
	unsigned exit_code;
	unsigned long long duration_ns;
	unsigned long long ts_ns;
	char comm[EXEC_SNOOP_TASK_COMM_LEN];
	char filename[EXEC_SNOOP_MAX_FILENAME_LEN];
	bool exit_event;
};

#endif /* EXEC_SNOOP_H */
