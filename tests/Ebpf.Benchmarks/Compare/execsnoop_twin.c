// SPDX-License-Identifier: MIT
/*
 * execsnoop_twin.c - the libbpf twin of the sample app (sample-app/, execsnoop), doing what it does the same way:
 * open bpf/exec_snoop.bpf.o (read into memory first, as a bpftool skeleton embeds it), set the .rodata filters, load,
 * attach every program, create the ring-buffer reader, print "execsnoop: attached" on stderr, then print one table
 * row per event on stdout with printf (stdio's own buffering, as C tools do: by line on a terminal, by block into a
 * file or a pipe; the sample flushes by batch on a terminal, by 60 KiB, idleness or a second otherwise), keep the
 * log2 histogram of process lifetimes, and on SIGINT/SIGTERM (or after --duration SECONDS) consume what is left, detach, report the events the
 * BPF side dropped (its .bss `rb_dropped`) and print the histogram.
 *
 * Used by the comparison for the cold start (killed once it prints "attached") and the exec storm (its output
 * discarded, the rows counted). Table output only (the sample's --json is not mirrored).
 *
 * Usage: execsnoop_twin [exec_snoop.bpf.o] [--duration SECONDS]
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "../../../bpf/exec_snoop.h"

struct rodata { unsigned long long min_duration_ns; int target_pid; };

static volatile sig_atomic_t g_stop;
static unsigned long long g_slots[64];
/* the wall clock converted to HH:MM:SS once per second, as the sample does */
static time_t g_second = -1;
static char g_hhmmss[16];

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void format_duration(char *buf, size_t len, unsigned long long ns)
{
	double v = ns >= 1000000000ull ? ns / 1e9 : ns >= 1000000ull ? ns / 1e6 : ns / 1e3;
	const char *unit = ns >= 1000000000ull ? "s" : ns >= 1000000ull ? "ms" : "us";
	int n = snprintf(buf, len, "%.3f", v);
	while (n > 0 && buf[n - 1] == '0') buf[--n] = 0;
	if (n > 0 && buf[n - 1] == '.') buf[--n] = 0;
	snprintf(buf + n, len - (size_t)n, "%s", unit);
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	const struct event *e = data;
	if (size < sizeof(*e)) return 0;
	time_t now = time(NULL);
	if (now != g_second) {
		struct tm tm;
		g_second = now;
		localtime_r(&now, &tm);
		strftime(g_hhmmss, sizeof(g_hhmmss), "%H:%M:%S", &tm);
	}
	if (e->exit_event) {
		char lifetime[48] = "";
		if (e->duration_ns > 0) {
			unsigned long long us = e->duration_ns / 1000;
			int slot = us == 0 ? 0 : 64 - __builtin_clzll(us);
			g_slots[slot > 63 ? 63 : slot]++;
			char d[32];
			format_duration(d, sizeof(d), e->duration_ns);
			snprintf(lifetime, sizeof(lifetime), " (%s)", d);
		}
		printf("%-8s %-5s %-16.16s %-7d %-7d [%u]%s\n", g_hhmmss, "EXIT", e->comm, e->pid, e->ppid, e->exit_code, lifetime);
	} else {
		printf("%-8s %-5s %-16.16s %-7d %-7d %.127s\n", g_hhmmss, "EXEC", e->comm, e->pid, e->ppid, e->filename);
	}
	return 0;
}

static void print_histogram(void)
{
	int last = -1;
	unsigned long long max = 0;
	for (int i = 0; i < 64; i++) {
		if (g_slots[i]) last = i;
		if (g_slots[i] > max) max = g_slots[i];
	}
	if (last < 0) {
		printf("no process lifetimes recorded\n");
		return;
	}
	printf("%20s%-16s: count    distribution\n", "usecs", "");
	for (int i = 0; i <= last; i++) {
		unsigned long long low = i == 0 ? 0 : 1ull << (i - 1), high = i == 0 ? 1 : (1ull << i) - 1;
		int stars = (int)(g_slots[i] * 40 / max);
		char bar[41];
		memset(bar, ' ', 40);
		memset(bar, '*', (size_t)stars);
		bar[40] = 0;
		printf("%20llu -> %-12llu: %-8llu |%s|\n", low, high, g_slots[i], bar);
	}
}

/* The .bss variable `rb_dropped`, found through the object's BTF (what a bpftool skeleton's struct layout encodes). */
static unsigned long long read_dropped(struct bpf_object *obj)
{
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t n = strlen(name), sz;
		if (n < 5 || strcmp(name + n - 5, ".bss")) continue;
		const char *mem = bpf_map__initial_value(map, &sz); /* after load: the live mapping */
		struct btf *btf = bpf_object__btf(obj);
		int id = btf__find_by_name_kind(btf, ".bss", BTF_KIND_DATASEC);
		if (!mem || id < 0) return 0;
		const struct btf_type *sec = btf__type_by_id(btf, (unsigned)id);
		const struct btf_var_secinfo *v = btf_var_secinfos(sec);
		for (int i = 0; i < btf_vlen(sec); i++, v++) {
			const struct btf_type *var = btf__type_by_id(btf, v->type);
			if (!strcmp(btf__name_by_offset(btf, var->name_off), "rb_dropped") && v->offset + 8 <= sz)
				return *(volatile const unsigned long long *)(mem + v->offset);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = "exec_snoop.bpf.o";
	double duration = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--duration") && i + 1 < argc) duration = atof(argv[++i]);
		else path = argv[i];
	}
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
	struct bpf_link *links[8];
	int nlinks = 0;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_link *l = bpf_program__attach(prog);
		if (!l) { perror("attach"); return 1; }
		if (nlinks < 8) links[nlinks++] = l;
	}
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), on_event, NULL, NULL);
	if (!rb) { perror("ring_buffer__new"); return 1; }
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "execsnoop: attached; tracing exec and exit, Ctrl-C to stop\n");
	printf("%-8s %-5s %-16s %-7s %-7s %s\n", "TIME", "EVENT", "COMM", "PID", "PPID", "FILENAME/EXIT CODE");
	fflush(stdout);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!g_stop) {
		ring_buffer__poll(rb, 100);
		if (duration > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >= duration) break;
		}
	}
	ring_buffer__consume(rb);
	fflush(stdout);
	for (int i = 0; i < nlinks; i++) bpf_link__destroy(links[i]);
	unsigned long long dropped = read_dropped(obj);
	if (dropped > 0)
		fprintf(stderr, "execsnoop: %llu events lost: the ring buffer was full\n", dropped);
	printf("\n");
	print_histogram();
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
