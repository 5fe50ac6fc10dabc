// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * runprog - load an object with the system libbpf, run programs through
 * BPF_PROG_TEST_RUN and dump the global-data maps afterwards. A development
 * aid for checking what the programs in this directory compute.
 *
 *   tools/runprog OBJ [-e PROG] [-t] [-s SECONDS] [-x] [PROG[:CTXHEX|@PKT] ...]
 *
 *   -e PROG   enable autoload of PROG (for "?" sections)
 *   -t        attach every loaded program with bpf_program__attach() first
 *             (tracepoints etc.), so they run while the tool runs
 *   -s N      sleep N seconds after running (with -t)
 *   -x        run the program with an Ethernet/IPv4/UDP packet as data_in
 *   PROG:HEX  run PROG with HEX as ctx_in (ctx_out is printed)
 *
 * After the runs, every map whose name ends in .bss/.data/.rodata/.kconfig
 * (or a custom .data.X/.rodata.X) is printed as hex.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void dump(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x%s", p[i], (i % 32 == 31 || i + 1 == n) ? "\n        " : (i % 8 == 7 ? "  " : " "));
	printf("\n");
}

static unsigned char pkt[64] = {
	/* eth: dst, src, IPv4 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
	/* ipv4: ver/ihl, tos, len=50, id, frag, ttl, proto=UDP, csum, src, dst */
	0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
	/* udp: sport 1234, dport 4242, len 30, csum */
	0x04, 0xd2, 0x10, 0x92, 0, 30, 0, 0,
	/* payload */
	'h', 'e', 'l', 'l', 'o',
};

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int attach = 0, sleep_s = 0, with_pkt = 0, i, err;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJ [-e PROG] [-t] [-s N] [-x] [PROG[:CTXHEX]] ...\n", argv[0]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		perror("open");
		return 1;
	}
	/* libbpf 1.1 does not know tcx/ sections */
	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);

		if (strncmp(sec, "tcx/", 4) == 0) {
			bpf_program__set_type(prog, BPF_PROG_TYPE_SCHED_CLS);
			bpf_program__set_expected_attach_type(prog, strncmp(sec, "tcx/ingress", 11) == 0 ? 46 : 47);
		}
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
			prog = bpf_object__find_program_by_name(obj, argv[++i]);
			if (prog)
				bpf_program__set_autoload(prog, true);
		}
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load: %d\n", err);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0)
			attach = 1;
		else if (strcmp(argv[i], "-x") == 0)
			with_pkt = 1;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sleep_s = atoi(argv[++i]);
	}
	if (attach) {
		bpf_object__for_each_program(prog, obj) {
			if (!bpf_program__autoload(prog))
				continue;
			if (!bpf_program__attach(prog))
				fprintf(stderr, "attach %s: %s\n", bpf_program__name(prog), strerror(errno));
		}
		getpid();
		getppid();
		if (sleep_s)
			sleep(sleep_s);
	}
	for (i = 2; i < argc; i++) {
		char name[128], *colon;
		unsigned char ctx[4096], data_out[256];
		size_t ctxlen = 0;

		if (argv[i][0] == '-') {
			if (strcmp(argv[i], "-e") == 0 || strcmp(argv[i], "-s") == 0)
				i++;
			continue;
		}
		snprintf(name, sizeof(name), "%s", argv[i]);
		colon = strchr(name, ':');
		if (colon) {
			*colon++ = 0;
			for (; colon[0] && colon[1] && ctxlen < sizeof(ctx); colon += 2)
				ctx[ctxlen++] = hexval(colon[0]) << 4 | hexval(colon[1]);
		}
		prog = bpf_object__find_program_by_name(obj, name);
		if (!prog) {
			fprintf(stderr, "no program %s\n", name);
			continue;
		}
		LIBBPF_OPTS(bpf_test_run_opts, opts);
		if (ctxlen) {
			opts.ctx_in = ctx;
			opts.ctx_size_in = ctxlen;
		}
		if (with_pkt) {
			opts.data_in = pkt;
			opts.data_size_in = sizeof(pkt);
			opts.data_out = data_out;
			opts.data_size_out = sizeof(data_out);
		}
		err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
		printf("run %s: err=%d retval=%d (0x%x)\n", name, err, (int)opts.retval, opts.retval);
		if (ctxlen) {
			printf("  ctx:   ");
			dump(ctx, ctxlen);
		}
	}
	bpf_object__for_each_map(map, obj) {
		const char *n = bpf_map__name(map);
		size_t sz = bpf_map__value_size(map);
		const void *p;

		if (!strchr(n, '.'))
			continue;
		p = bpf_map__initial_value(map, &sz);
		if (!p)
			continue;
		printf("%s (%zu bytes):\n        ", n, sz);
		{
			unsigned char *buf = malloc(sz);
			int zero = 0;

			if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, buf) == 0)
				dump(buf, sz);
			else
				printf("lookup failed\n");
			free(buf);
		}
	}
	bpf_object__close(obj);
	return 0;
}
