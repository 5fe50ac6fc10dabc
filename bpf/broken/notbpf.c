/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken/notbpf.c - compiled with the host compiler into notbpf.o: a
 * perfectly good ELF relocatable object, for x86-64 (e_machine EM_X86_64,
 * 62), not BPF (EM_BPF, 247). Readers must refuse it.
 */
int answer(int x)
{
	return x * 2 + 42;
}

int counter = 1;
