// SPDX-License-Identifier: GPL-2.0
/*
 * core_flavors.bpf.c - "___flavor" types and guarded relocations.
 *
 * Idea: one program, two kernel layouts. Linux 5.14 renamed
 * task_struct::state (long) to __state (unsigned int). The two local
 * flavours below describe each layout; the suffix after "___" is ignored
 * when the loader looks for the kernel type, so both relocate against
 * `struct task_struct`. bpf_core_field_exists() picks the layout at load
 * time:
 *   - on this kernel __state exists, so the `state` read is dead code: the
 *     loader cannot resolve its offset and poisons the instruction (libbpf
 *     replaces it with a call to the invalid helper 0xbad2310), but the
 *     verifier never reaches it, and the program loads.
 *   - read_state_unguarded reads the missing field without a guard. Its
 *     poisoned instruction is reachable, so the verifier rejects the program
 *     (kernel: "invalid func unknown#195896080", which libbpf rewrites to
 *     "failed to resolve CO-RE relocation <byte_off> [N] struct
 *     task_struct___pre514.state (0:0 @ offset 0)"). It is in its own
 *     program in a "?tp/..." section (not autoloaded under libbpf rules) so
 *     that the rest of the object loads; enable it to see the failure.
 *
 * Programs (tp/syscalls/sys_enter_getpid, filtered on `target_tgid`, 0 =
 * every process):
 *   read_state            state_value (0 = TASK_RUNNING while in a syscall),
 *                         used_new_layout (1 here), calls.
 *   read_state_unguarded  "?tp/...": fails verification on >= 5.14 kernels.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Layout before 5.14. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* Layout since 5.14. */
struct task_struct___post514 {
	unsigned int __state;
} __attribute__((preserve_access_index));

const volatile int target_tgid = 0;

__u64 state_value;
__u32 used_new_layout;
__u64 calls;
__u64 unguarded_calls;

static __always_inline bool wanted(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == (__u32)target_tgid;
}

SEC("tp/syscalls/sys_enter_getpid")
int read_state(void *ctx)
{
	void *task = (void *)bpf_get_current_task();

	if (!wanted())
		return 0;

	if (bpf_core_field_exists(((struct task_struct___post514 *)task)->__state)) {
		state_value = BPF_CORE_READ((struct task_struct___post514 *)task, __state);
		used_new_layout = 1;
	} else {
		state_value = BPF_CORE_READ((struct task_struct___pre514 *)task, state);
		used_new_layout = 0;
	}
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

SEC("?tp/syscalls/sys_enter_getpid")
int read_state_unguarded(void *ctx)
{
	struct task_struct___pre514 *task = (void *)bpf_get_current_task();

	if (!wanted())
		return 0;
	state_value = BPF_CORE_READ(task, state);
	__sync_fetch_and_add(&unguarded_calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
