// SPDX-License-Identifier: MIT
/*
 * execsnoop_twin.c - libbpf twin of the sample app (sample-app/, execsnoop) up to "attached", for the cold-start and
 * peak-RSS comparison: open bpf/exec_snoop.bpf.o (read into memory first, as a bpftool skeleton embeds it), set the
 * .rodata filters, load, attach every program, create the ring-buffer reader, print "execsnoop: attached" on stderr
 * like the sample, then poll the ring buffer until killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

struct rodata { unsigned long long min_duration_ns; int target_pid; };

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx; (void)data; (void)size;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "exec_snoop.bpf.o";
	libbpf_set_print(silent);
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); return 1; }
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *bytes = malloc((size_t)size);
	if (fread(bytes, 1, (size_t)size, f) != (size_t)size) { perror("fread"); return 1; }
	fclose(f);

	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "exec_snoop");
	struct bpf_object *obj = bpf_object__open_mem(bytes, (size_t)size, &opts);
	if (!obj) { perror("open"); return 1; }
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t n = strlen(name);
		if (n >= 7 && !strcmp(name + n - 7, ".rodata")) {
			size_t sz;
			struct rodata *ro = (struct rodata *)bpf_map__initial_value(map, &sz);
			if (ro && sz >= sizeof(*ro)) { ro->target_pid = 0; ro->min_duration_ns = 0; }
		}
	}
	if (bpf_object__load(obj)) { perror("load"); return 1; }
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) { perror("attach"); return 1; }
	}
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), on_event, NULL, NULL);
	if (!rb) { perror("ring_buffer__new"); return 1; }
	fprintf(stderr, "execsnoop: attached\n");
	for (;;)
		ring_buffer__poll(rb, 100);
}
