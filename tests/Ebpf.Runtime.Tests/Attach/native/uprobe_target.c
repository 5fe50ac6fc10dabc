// SPDX-License-Identifier: MIT
/*
 * uprobe_target.c - the native code the uprobe and USDT tests probe. Built by the tests with the host's gcc
 * (gcc -O2 -fPIC -shared), loaded into the test process with NativeLibrary.Load and called through function
 * pointers, so that every call is a real hit of the probed instructions.
 *
 *   uprobe_target_func(a, b)  what attach_uprobe.bpf.c's uprobe/uretprobe programs expect: returns a + b
 *   fire_probes(a, b)         fires USDT probe ebpf_test:probe1(a, b) and, when its semaphore is set (a USDT
 *                             program is attached), ebpf_test:probe2(a * 10, b * 10); returns 1 if probe2 was
 *                             enabled. Then ebpf_test:probe3(a + 1000, b - 1000), whose arguments are in memory
 *                             (stack slots: "-8@-16(%rsp)" on x86-64, "-8@[sp]" and "-8@[sp, 8]" on arm64), where probe1's are in
 *                             registers ("-8@%rdi", "-8@x0")
 *   probe2_enabled()          the semaphore of probe2 (the kernel increments it while a uprobe with that
 *                             reference counter is attached)
 *
 * The SDT notes are written by hand (what <sys/sdt.h> from systemtap-sdt-dev expands to), so the build needs
 * nothing but gcc.
 */
#define EBPF_SDT_NOTE(provider, name, semaphore, args)                                  \
	"990: nop\n"                                                                     \
	".pushsection .note.stapsdt,\"?\",\"note\"\n"                                    \
	".balign 4\n"                                                                    \
	".4byte 992f-991f, 994f-993f, 3\n"                                               \
	"991: .asciz \"stapsdt\"\n"                                                      \
	"992: .balign 4\n"                                                               \
	"993: .8byte 990b\n"                                                             \
	".8byte _.stapsdt.base\n"                                                        \
	".8byte " semaphore "\n"                                                         \
	".asciz \"" provider "\"\n"                                                      \
	".asciz \"" name "\"\n"                                                          \
	".asciz \"" args "\"\n"                                                          \
	"994: .balign 4\n"                                                               \
	".popsection\n"                                                                  \
	".ifndef _.stapsdt.base\n"                                                       \
	".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"          \
	".weak _.stapsdt.base\n"                                                         \
	".hidden _.stapsdt.base\n"                                                       \
	"_.stapsdt.base: .space 1\n"                                                     \
	".size _.stapsdt.base, 1\n"                                                      \
	".popsection\n"                                                                  \
	".endif\n"

unsigned short ebpf_test_probe2_semaphore __attribute__((section(".probes"), used, visibility("hidden")));

__attribute__((noinline, visibility("default"))) int uprobe_target_func(int a, int b)
{
	__asm__ __volatile__("" ::: "memory");
	return a + b;
}

__attribute__((noinline, visibility("default"))) int fire_probes(long a, long b)
{
	int enabled = 0;

	__asm__ __volatile__(EBPF_SDT_NOTE("ebpf_test", "probe1", "0", "-8@%[a1] -8@%[a2]")
			     :: [a1] "nor"(a), [a2] "nor"(b));
	if (__builtin_expect(ebpf_test_probe2_semaphore, 0)) {
		enabled = 1;
		__asm__ __volatile__(EBPF_SDT_NOTE("ebpf_test", "probe2", "ebpf_test_probe2_semaphore", "-8@%[a1] -8@%[a2]")
				     :: [a1] "nor"(a * 10), [a2] "nor"(b * 10));
	}
	{
		volatile long m1 = a + 1000, m2 = b - 1000;

		__asm__ __volatile__(EBPF_SDT_NOTE("ebpf_test", "probe3", "0", "-8@%[m1] -8@%[m2]")
				     :: [m1] "m"(m1), [m2] "m"(m2));
	}
	return enabled;
}

__attribute__((visibility("default"))) int probe2_enabled(void)
{
	return *(volatile unsigned short *)&ebpf_test_probe2_semaphore;
}
