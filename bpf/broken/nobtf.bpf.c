// SPDX-License-Identifier: GPL-2.0
/*
 * broken/nobtf.bpf.c - compiled WITHOUT -g into nobtf.bpf.o: a valid
 * program, but the object has no .BTF and no .BTF.ext section.
 *
 * Readers must cope (no types, no func/line info, no CO-RE); a loader can
 * still load it: one XDP program, no maps (BTF-defined maps need BTF), no
 * global variables. xdp_pass returns XDP_PASS (2).
 */
#define SEC(name) __attribute__((section(name), used))

#define XDP_PASS 2

struct xdp_md;

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
