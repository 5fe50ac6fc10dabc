// SPDX-License-Identifier: MIT
/*
 * libbpf_twin.c - the libbpf side of the performance comparison.
 *
 * A long-lived worker driven over stdin/stdout by the C# comparison driver (Ebpf.Benchmarks compare), which
 * runs the same work on our runtime in its own process and alternates the two sides round by round.
 *
 * Protocol, one request per line:
 *     <metric> <samples>
 * answered by one line:
 *     ok <ns of sample 1> <ns of sample 2> ...      (or "err <message>")
 * plus "alloc" counters are not applicable here (C allocates with malloc; the C# side measures its own).
 * The unit of work of one sample is defined per metric and is identical on both sides (see Metrics.cs):
 *
 *   btf_parse        parse /sys/kernel/btf/vmlinux from scratch (btf__load_vmlinux_btf); the free is not timed
 *   open_load        bpf_object__open_mem + small maps (hash 1K, array 1K, ring buffer 64K) + bpf_object__load;
 *                    libbpf loads and parses the kernel BTF inside every load; the close is not timed
 *   attach_detach    bpf_program__attach_tracepoint(count_getpid, syscalls/sys_enter_getpid) + bpf_link__destroy
 *   hash_update      4096 bpf_map_update_elem on bench_hash (4096 entries), keys 0..4095
 *   hash_lookup      4096 bpf_map_lookup_elem, every key present
 *   hash_delete      4096 bpf_map_delete_elem (the map is refilled before the sample, untimed)
 *   array_update     4096 bpf_map_update_elem on bench_array (4096 entries)
 *   array_lookup     4096 bpf_map_lookup_elem
 *   hash_batch       a full bpf_map_lookup_batch sweep of the 4096-entry hash, 4096 per call, until ENOENT
 *                    (a hash answers ENOENT with the last elements: one call)
 *   array_batch      the same on the 4096-entry array (which answers ENOENT on the call after: two calls)
 *   rb_drain_16      fill the 16 MiB ring with emit_16 (untimed), then ring_buffer__consume until empty (timed)
 *   rb_drain_256     the same with emit_256
 *   pb_drain_16      fill every online CPU's ring of the perf buffer on bench_pb (PB_PAGES pages per CPU) with
 *                    pb_emit_16 run on that CPU (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU; untimed), then
 *                    perf_buffer__consume once (timed): every CPU's ring drained
 *   pb_drain_256     the same with pb_emit_256
 *   (every drain metric: RB_DRAINS_PER_SAMPLE fill-then-drain cycles per sample, only the drains timed)
 *
 * Usage: libbpf_twin <path to bench.bpf.o>
 * With TWIN_IDLE_THREAD=1 in the environment the twin starts one idle thread first: a control that shows what
 * any multi-threaded process (every .NET process is one) pays in the kernel per bpf(2) call, because fdget() takes
 * a reference on the file (two atomics) once the descriptor table is shared between threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define MAP_ENTRIES 4096
#define RB_16_EVENTS 699000   /* 16 MiB / 24 B = 699050: nearly full */
#define RB_256_EVENTS 63500   /* 16 MiB / 264 B = 63550 */
#define RB_DRAINS_PER_SAMPLE 8 /* fill-then-drain cycles per sample, only the drains timed (as OurSide.RbDrainsPerSample) */
#define PB_PAGES 1024          /* pages per CPU of the perf buffer (4 MiB) */
#define PB_16_EVENTS 131000    /* per CPU: 4 MiB / 32 B = 131072 */
#define PB_256_EVENTS 15400    /* per CPU: 4 MiB / 272 B = 15420 */

struct bench_emit_args { uint32_t count, size; };
struct bench_event_hdr { uint64_t seq; uint32_t size, cpu; };

static const char *g_path;
static void *g_obj_bytes;
static size_t g_obj_size;

static struct bpf_object *g_maps_obj;   /* hash + array with 4096 entries */
static struct bpf_object *g_rb_obj;     /* 16 MiB ring buffer */
static struct bpf_object *g_tp_obj;     /* small maps, for attach */
static struct ring_buffer *g_rb;
static uint64_t g_rb_sum, g_rb_count;
static struct perf_buffer *g_pb;
static uint64_t g_pb_lost;
static int g_ncpus;
static int g_cpus[1024];

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static void read_object(void)
{
	FILE *f = fopen(g_path, "rb");
	if (!f) { perror(g_path); exit(2); }
	fseek(f, 0, SEEK_END);
	g_obj_size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	g_obj_bytes = malloc(g_obj_size);
	if (fread(g_obj_bytes, 1, g_obj_size, f) != g_obj_size) { perror("fread"); exit(2); }
	fclose(f);
}

/* Opens the object from memory; sizes of 0 keep the object's own. */
static struct bpf_object *open_sized(uint32_t hash, uint32_t array, uint32_t rb)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "bench");
	struct bpf_object *obj = bpf_object__open_mem(g_obj_bytes, g_obj_size, &opts);
	if (!obj) return NULL;
	if (hash) bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "bench_hash"), hash);
	if (array) bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "bench_array"), array);
	if (rb) bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "bench_rb"), rb);
	return obj;
}

static struct bpf_object *open_load(uint32_t hash, uint32_t array, uint32_t rb)
{
	struct bpf_object *obj = open_sized(hash, array, rb);
	if (!obj) return NULL;
	if (bpf_object__load(obj)) { bpf_object__close(obj); return NULL; }
	return obj;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	return bpf_map__fd(bpf_object__find_map_by_name(obj, name));
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx; (void)size;
	const struct bench_event_hdr *h = data;
	g_rb_sum += h->seq;
	g_rb_count++;
	return 0;
}

static void on_pb_event(void *ctx, int cpu, void *data, __u32 size)
{
	(void)ctx; (void)cpu; (void)size;
	const struct bench_event_hdr *h = data;
	g_rb_sum += h->seq;
	g_rb_count++;
}

static void on_pb_lost(void *ctx, int cpu, __u64 cnt)
{
	(void)ctx; (void)cpu;
	g_pb_lost += cnt;
}

/* The online CPUs, as libbpf's perf_buffer__new sees them (/sys/devices/system/cpu/online). */
static int online_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	int a, b, n = 0;
	char sep;
	if (!f) return -1;
	while (fscanf(f, "%d", &a) == 1) {
		b = a;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-') {
			if (fscanf(f, "%d", &b) != 1) break;
			if (fscanf(f, "%c", &sep) != 1) sep = 0;
		}
		for (int c = a; c <= b && n < (int)(sizeof(g_cpus) / sizeof(g_cpus[0])); c++) g_cpus[n++] = c;
		if (sep != ',') break;
	}
	fclose(f);
	return n;
}

/* Runs a pb_emit program on one CPU; returns the events it wrote. */
static int fill_perf_cpu(const char *prog, int cpu, uint32_t count)
{
	uint64_t args[1] = { count };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args),
		    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = (uint32_t)cpu);
	int fd = bpf_program__fd(bpf_object__find_program_by_name(g_rb_obj, prog));
	if (bpf_prog_test_run_opts(fd, &o)) return -1;
	return (int)o.retval;
}

static int fill_ring(const char *prog, uint32_t count)
{
	struct bench_emit_args args = { .count = count, .size = 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &args, .ctx_size_in = sizeof(args));
	int fd = bpf_program__fd(bpf_object__find_program_by_name(g_rb_obj, prog));
	if (bpf_prog_test_run_opts(fd, &o)) return -1;
	return (int)o.retval;
}

/* Runs one sample of a metric; returns the elapsed ns, or -1 on error. */
static long long run_sample(const char *m)
{
	uint64_t t0, t1;
	if (!strcmp(m, "btf_parse")) {
		t0 = now_ns();
		struct btf *btf = btf__load_vmlinux_btf();
		t1 = now_ns();
		if (!btf) return -1;
		btf__free(btf);
		return (long long)(t1 - t0);
	}
	if (!strcmp(m, "open_load")) {
		t0 = now_ns();
		struct bpf_object *obj = open_load(1024, 1024, 65536);
		t1 = now_ns();
		if (!obj) return -1;
		bpf_object__close(obj);
		return (long long)(t1 - t0);
	}
	if (!strcmp(m, "attach_detach")) {
		if (!g_tp_obj && !(g_tp_obj = open_load(1024, 1024, 65536))) return -1;
		struct bpf_program *p = bpf_object__find_program_by_name(g_tp_obj, "count_getpid");
		t0 = now_ns();
		struct bpf_link *l = bpf_program__attach_tracepoint(p, "syscalls", "sys_enter_getpid");
		if (!l) return -1;
		bpf_link__destroy(l);
		t1 = now_ns();
		return (long long)(t1 - t0);
	}
	if (!strncmp(m, "hash_", 5) || !strncmp(m, "array_", 6)) {
		if (!g_maps_obj && !(g_maps_obj = open_load(MAP_ENTRIES, MAP_ENTRIES, 65536))) return -1;
		int is_hash = m[0] == 'h';
		int fd = map_fd(g_maps_obj, is_hash ? "bench_hash" : "bench_array");
		const char *op = strchr(m, '_') + 1;
		uint64_t v = 0;
		if (!strcmp(op, "update")) {
			t0 = now_ns();
			for (uint32_t k = 0; k < MAP_ENTRIES; k++) {
				v = k;
				if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) return -1;
			}
			t1 = now_ns();
			return (long long)(t1 - t0);
		}
		/* every other op wants a full map */
		for (uint32_t k = 0; k < MAP_ENTRIES; k++) {
			v = k;
			if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) return -1;
		}
		if (!strcmp(op, "lookup")) {
			uint64_t sum = 0;
			t0 = now_ns();
			for (uint32_t k = 0; k < MAP_ENTRIES; k++) {
				if (bpf_map_lookup_elem(fd, &k, &v)) return -1;
				sum += v;
			}
			t1 = now_ns();
			if (sum != (uint64_t)MAP_ENTRIES * (MAP_ENTRIES - 1) / 2) return -1;
			return (long long)(t1 - t0);
		}
		if (!strcmp(op, "delete")) {
			t0 = now_ns();
			for (uint32_t k = 0; k < MAP_ENTRIES; k++)
				if (bpf_map_delete_elem(fd, &k)) return -1;
			t1 = now_ns();
			return (long long)(t1 - t0);
		}
		if (!strcmp(op, "batch")) {
			static uint32_t keys[MAP_ENTRIES];
			static uint64_t vals[MAP_ENTRIES];
			uint32_t out_batch = 0, total = 0;
			int first = 1;
			LIBBPF_OPTS(bpf_map_batch_opts, bo);
			t0 = now_ns();
			for (;;) {
				uint32_t count = MAP_ENTRIES;
				int r = bpf_map_lookup_batch(fd, first ? NULL : &out_batch, &out_batch, keys, vals, &count, &bo);
				first = 0;
				total += count;
				if (r) {
					if (errno == ENOENT) break;
					return -1;
				}
			}
			t1 = now_ns();
			if (total != MAP_ENTRIES) return -1;
			return (long long)(t1 - t0);
		}
		return -1;
	}
	if (!strncmp(m, "rb_drain_", 9)) {
		int big = !strcmp(m, "rb_drain_256");
		if (!g_rb_obj && !(g_rb_obj = open_load(1024, 1024, 0))) return -1;
		if (!g_rb && !(g_rb = ring_buffer__new(map_fd(g_rb_obj, "bench_rb"), on_event, NULL, NULL))) return -1;
		uint32_t want = big ? RB_256_EVENTS : RB_16_EVENTS;
		long long elapsed = 0;
		for (int i = 0; i < RB_DRAINS_PER_SAMPLE; i++) {
			if (fill_ring(big ? "emit_256" : "emit_16", want) != (int)want) return -1;
			g_rb_count = 0;
			t0 = now_ns();
			int n = ring_buffer__consume(g_rb);
			t1 = now_ns();
			if (n < 0 || g_rb_count != want) return -1;
			elapsed += (long long)(t1 - t0);
		}
		return elapsed;
	}
	if (!strncmp(m, "pb_drain_", 9)) {
		int big = !strcmp(m, "pb_drain_256");
		if (!g_rb_obj && !(g_rb_obj = open_load(1024, 1024, 0))) return -1;
		if (!g_pb) {
			g_pb = perf_buffer__new(map_fd(g_rb_obj, "bench_pb"), PB_PAGES, on_pb_event, on_pb_lost, NULL, NULL);
			if (!g_pb) return -1;
			if ((g_ncpus = online_cpus()) <= 0) return -1;
		}
		uint32_t per_cpu = big ? PB_256_EVENTS : PB_16_EVENTS;
		uint64_t want = (uint64_t)per_cpu * (uint64_t)g_ncpus;
		long long elapsed = 0;
		for (int i = 0; i < RB_DRAINS_PER_SAMPLE; i++) {
			for (int c = 0; c < g_ncpus; c++)
				if (fill_perf_cpu(big ? "pb_emit_256" : "pb_emit_16", g_cpus[c], per_cpu) != (int)per_cpu) return -1;
			g_rb_count = 0;
			t0 = now_ns();
			int r = perf_buffer__consume(g_pb);
			t1 = now_ns();
			if (r < 0 || g_rb_count != want || g_pb_lost) return -1;
			elapsed += (long long)(t1 - t0);
		}
		return elapsed;
	}
	errno = EINVAL;
	return -1;
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;) pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *idle = getenv("TWIN_IDLE_THREAD");
	if (idle && idle[0] == '1') {
		pthread_t t;
		pthread_create(&t, NULL, idle_thread, NULL);
	}
	if (argc < 2) { fprintf(stderr, "usage: %s bench.bpf.o\n", argv[0]); return 2; }
	g_path = argv[1];
	libbpf_set_print(silent);
	read_object();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready libbpf %d.%d\n", libbpf_major_version(), libbpf_minor_version());

	char line[256], metric[64];
	int samples;
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%63s %d", metric, &samples) != 2) {
			if (!strncmp(line, "quit", 4)) break;
			printf("err bad request\n");
			continue;
		}
		char *out = malloc((size_t)samples * 24 + 8);
		size_t len = 0;
		int failed = 0;
		for (int i = 0; i < samples; i++) {
			errno = 0;
			long long ns = run_sample(metric);
			if (ns < 0) {
				printf("err %s: sample %d failed: %s\n", metric, i, strerror(errno ? errno : EINVAL));
				failed = 1;
				break;
			}
			len += (size_t)sprintf(out + len, " %lld", ns);
		}
		if (!failed) printf("ok%s\n", out);
		free(out);
	}
	if (g_rb) ring_buffer__free(g_rb);
	if (g_pb) perf_buffer__free(g_pb);
	bpf_object__close(g_rb_obj);
	bpf_object__close(g_maps_obj);
	bpf_object__close(g_tp_obj);
	return 0;
}
