// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loadcheck - try every object (and every program in it) on this kernel
 * with the system libbpf.
 *
 *   make -C bpf loadcheck            # or: tools/loadcheck X.bpf.o ...
 *
 * For each object: load it whole (autoload as the object says: programs in
 * "?..." sections are skipped, as libbpf does). If that fails, or with -p,
 * load each program alone (autoload on for it, off for the others, including
 * "?" programs) and report which ones the kernel accepts, with the last lines
 * of libbpf's / the verifier's log for failures.
 *
 * Section names libbpf 1.1 does not know yet (tcx/ingress, tcx/egress) get
 * their program type and expected attach type set by hand, so the kernel
 * still verifies them.
 *
 * Pinned maps go under /sys/fs/bpf/loadcheck (removed afterwards).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#define PIN_ROOT "/sys/fs/bpf/loadcheck"

static char logbuf[1 << 20];
static size_t loglen;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (loglen < sizeof(logbuf) - 1) {
		int n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, args);

		if (n > 0)
			loglen += n;
		if (loglen >= sizeof(logbuf))
			loglen = sizeof(logbuf) - 1;
	}
	return 0;
}

static void log_tail(int lines)
{
	int seen = 0;
	char *p = logbuf + loglen;

	while (p > logbuf && seen <= lines) {
		p--;
		if (*p == '\n')
			seen++;
	}
	if (*p == '\n')
		p++;
	for (char *q = p; *q; ) {
		char *nl = strchr(q, '\n');
		int n = nl ? (int)(nl - q) : (int)strlen(q);

		printf("      | %.*s\n", n, q);
		if (!nl)
			break;
		q = nl + 1;
	}
}

static void fix_unknown_sections(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);

		if (strncmp(sec, "tcx/ingress", 11) == 0) {
			bpf_program__set_type(prog, BPF_PROG_TYPE_SCHED_CLS);
			bpf_program__set_expected_attach_type(prog, 46 /* BPF_TCX_INGRESS */);
		} else if (strncmp(sec, "tcx/egress", 10) == 0) {
			bpf_program__set_type(prog, BPF_PROG_TYPE_SCHED_CLS);
			bpf_program__set_expected_attach_type(prog, 47 /* BPF_TCX_EGRESS */);
		}
	}
}

static struct bpf_object *open_obj(const char *path)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = PIN_ROOT);
	struct bpf_object *obj = bpf_object__open_file(path, &opts);

	if (!obj)
		return NULL;
	fix_unknown_sections(obj);
	return obj;
}

static int load_one(const char *path, const char *only)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int err;

	loglen = 0;
	logbuf[0] = 0;
	obj = open_obj(path);
	if (!obj)
		return -errno;
	if (only) {
		bpf_object__for_each_program(prog, obj)
			bpf_program__set_autoload(prog, strcmp(bpf_program__name(prog), only) == 0);
	}
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	return err;
}

int main(int argc, char **argv)
{
	int per_prog = 0, failures = 0;

	libbpf_set_print(print_fn);
	mkdir(PIN_ROOT, 0700);

	for (int i = 1; i < argc; i++) {
		const char *path = argv[i];
		struct bpf_object *obj;
		struct bpf_program *prog;
		char names[256][128];
		int n = 0, err;

		if (strcmp(path, "-p") == 0) {
			per_prog = 1;
			continue;
		}

		err = load_one(path, NULL);
		printf("%-28s %s\n", path, err ? "FAIL (whole object)" : "OK (whole object)");
		if (err && !per_prog)
			log_tail(4);
		if (!err && !per_prog)
			continue;
		failures += err != 0;

		loglen = 0;
		obj = open_obj(path);
		if (!obj) {
			printf("    cannot open: %s\n", strerror(errno));
			log_tail(4);
			continue;
		}
		bpf_object__for_each_program(prog, obj) {
			if (n < 256)
				snprintf(names[n++], sizeof(names[0]), "%s", bpf_program__name(prog));
		}
		bpf_object__close(obj);

		for (int j = 0; j < n; j++) {
			obj = open_obj(path);
			prog = obj ? bpf_object__find_program_by_name(obj, names[j]) : NULL;
			const char *sec = prog ? bpf_program__section_name(prog) : "?";
			char secbuf[128];

			snprintf(secbuf, sizeof(secbuf), "%s", sec);
			if (obj)
				bpf_object__close(obj);
			err = load_one(path, names[j]);
			printf("    %-24s %-40s %s\n", names[j], secbuf, err ? "FAIL" : "ok");
			if (err)
				log_tail(getenv("LINES_TAIL") ? atoi(getenv("LINES_TAIL")) : 3);
		}
	}
	system("rm -rf " PIN_ROOT);
	return failures ? 1 : 0;
}
