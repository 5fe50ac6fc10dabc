// SPDX-License-Identifier: MIT
/*
 * coldstart_twin.c - libbpf twin of the Native AOT cold-start app (tests/Ebpf.Benchmarks/ColdStart): open
 * bench.bpf.o from its file, load it, attach count_getpid, print "attached" and the peak RSS, exit.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static long vm_hwm_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6)) { sscanf(line + 6, "%ld", &kb); break; }
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "bench.bpf.o";
	libbpf_set_print(silent);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) { perror("open"); return 1; }
	if (bpf_object__load(obj)) { perror("load"); return 1; }
	struct bpf_link *link = bpf_program__attach(bpf_object__find_program_by_name(obj, "count_getpid"));
	if (!link) { perror("attach"); return 1; }
	printf("attached %ld\n", vm_hwm_kb());
	fflush(stdout);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
