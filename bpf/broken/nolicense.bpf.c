// SPDX-License-Identifier: GPL-2.0
/*
 * broken/nolicense.bpf.c - a valid object (BTF and all) with NO "license"
 * section.
 *
 * Without a license the kernel treats the program as non-GPL, and it calls a
 * GPL-only helper (bpf_probe_read_kernel), so the load fails with
 *   "cannot call GPL-restricted function from non-GPL compatible program".
 * Readers should report the missing license; loaders pass an empty string.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 last_value;

SEC("tp/syscalls/sys_enter_getpid")
int read_something(void *ctx)
{
	void *task = (void *)bpf_get_current_task();
	__u64 first_word = 0;

	/* no CO-RE here (keeps the object small): the first 8 bytes of the
	 * current task_struct */
	bpf_probe_read_kernel(&first_word, sizeof(first_word), task);
	last_value = first_word;
	return 0;
}

/* no LICENSE on purpose */
