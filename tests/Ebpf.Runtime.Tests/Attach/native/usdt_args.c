// SPDX-License-Identifier: MIT
/*
 * usdt_args.c - USDT probes whose argument specs cover each location form a compiler writes, so that the decoders
 * of both architectures are tested on real notes (SystemTap's <sys/sdt.h>, the compiler choosing the operands).
 * Built by make-usdt-fixtures.sh into usdt_args.x86_64.so and usdt_args.arm64.so (committed: the tests need no
 * compiler); not loaded or run by the tests, only read.
 *
 *   ebpf_args:regs(long, int, short, unsigned char)   registers (arm64 "-8@x0", x86-64 "-8@%rdi", "1@%cl")
 *   ebpf_args:consts()                                constants ("-4@5", "-4@$-17", "-8@123456789012")
 *   ebpf_args:many(10 x long)                         the arguments past the argument registers, on the stack
 *                                                     (arm64 "-8@[sp]", "-8@[sp, 8]"; x86-64 "-8@8(%rsp)")
 *   ebpf_args:stack(long, int, short, char)           memory operands forced (STAP_SDT_ARG_CONSTRAINT=o, in the
 *                                                     second translation unit: -DUSDT_MEMORY)
 */
#include <sys/sdt.h>

#ifndef USDT_MEMORY
__attribute__((noinline, visibility("default"))) int probe_regs(long a, int b, short c, unsigned char d)
{
	DTRACE_PROBE4(ebpf_args, regs, a, b, c, d);
	return (int)a + b + c + d;
}

__attribute__((noinline, visibility("default"))) int probe_consts(void)
{
	DTRACE_PROBE3(ebpf_args, consts, 5, -17, 123456789012L);
	return 0;
}

__attribute__((noinline, visibility("default"))) int probe_many(long a, long b, long c, long d, long e, long f,
								  long g, long h, long i, long j)
{
	DTRACE_PROBE10(ebpf_args, many, a, b, c, d, e, f, g, h, i, j);
	return 0;
}
#else
struct rec { long a; int b; short c; char d; };

__attribute__((noinline, visibility("default"))) int probe_stack(const struct rec *p)
{
	struct rec local = *p;
	DTRACE_PROBE4(ebpf_args, stack, local.a, local.b, local.c, local.d);
	return 0;
}
#endif
