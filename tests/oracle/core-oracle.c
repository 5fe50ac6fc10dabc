// SPDX-License-Identifier: MIT
/*
 * core-oracle: report libbpf's own CO-RE relocation decisions for a BPF ELF
 * object, one JSON object per line, one line per CO-RE relocation record in
 * the object's .BTF.ext.
 *
 *   core-oracle OBJ [--target-btf RAW_BTF_FILE[.gz]] [options]
 *
 * How it works (see README.md for the rationale):
 *   - It is linked statically against Debian's libbpf.a (libbpf 1.1.2) with
 *     the linker's --wrap for bpf_core_calc_relo_insn and bpf_core_patch_insn.
 *     Those two functions live in relo_core.o and are called from libbpf.o's
 *     bpf_object__relocate_core(), so every call libbpf makes while it applies
 *     CO-RE relocations goes through the wrappers below, which call the real
 *     function and record its inputs and results.  Nothing of libbpf's own
 *     driver (candidate search, the per-type candidate cache and its pruning,
 *     program lookup, skip rules, error handling) is re-implemented here.
 *   - bpf_object__load() is called normally (CO-RE runs inside it), with every
 *     map's autocreate turned off (no maps are created or pinned) and, unless
 *     --respect-autoload, every program's autoload turned on (so every
 *     relocation gets a decision).  Whatever fails after CO-RE (program load,
 *     verifier) is ignored.
 *   - The .BTF.ext core_relo records, the section names and the symbol table
 *     are also read directly from the ELF file (libelf), so that relocations
 *     libbpf never reached are reported too, with the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <linux/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>

#if LIBBPF_MAJOR_VERSION != 1 || LIBBPF_MINOR_VERSION != 1
#error "core-oracle mirrors libbpf 1.1's private relo_core.h; check the struct layouts below before building against another libbpf"
#endif

/* ---- private libbpf 1.1.2 declarations (src/relo_core.h, not installed) --- */
struct bpf_core_cand {
	const struct btf *btf;
	__u32 id;
};

struct bpf_core_cand_list {
	struct bpf_core_cand *cands;
	int len;
};

#define BPF_CORE_SPEC_MAX_LEN 64

struct bpf_core_accessor {
	__u32 type_id;
	__u32 idx;
	const char *name;
};

struct bpf_core_spec {
	const struct btf *btf;
	struct bpf_core_accessor spec[BPF_CORE_SPEC_MAX_LEN];
	__u32 root_type_id;
	enum bpf_core_relo_kind relo_kind;
	int len;
	int raw_spec[BPF_CORE_SPEC_MAX_LEN];
	int raw_len;
	__u32 bit_offset;
};

struct bpf_core_relo_res {
	__u64 orig_val;
	__u64 new_val;
	bool poison;
	bool validate;
	bool fail_memsz_adjust;
	__u32 orig_sz;
	__u32 orig_type_id;
	__u32 new_sz;
	__u32 new_type_id;
};

int __real_bpf_core_calc_relo_insn(const char *prog_name, const struct bpf_core_relo *relo,
				   int relo_idx, const struct btf *local_btf,
				   struct bpf_core_cand_list *cands,
				   struct bpf_core_spec *specs_scratch,
				   struct bpf_core_relo_res *targ_res);
int __real_bpf_core_patch_insn(const char *prog_name, struct bpf_insn *insn, int insn_idx,
			       const struct bpf_core_relo *relo, int relo_idx,
			       const struct bpf_core_relo_res *res);
/* exported by libbpf.a (hidden in libbpf.so) */
int bpf_core_format_spec(char *buf, size_t buf_sz, const struct bpf_core_spec *spec);
const char *btf_kind_str(const struct btf_type *t);

/* ---- small helpers --------------------------------------------------------- */
#define POISON_IMM 195896080 /* 0xbad2310, libbpf's bpf_core_poison_insn() */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "core-oracle: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		die("out of memory");
	return p;
}

struct strlist {
	char **v;
	int n, cap;
};

static void strlist_add(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die("out of memory");
	}
	l->v[l->n++] = xstrdup(s);
}

static void json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static const char *relo_kind_str(__u32 kind)
{
	/* the exact strings of libbpf 1.1's core_relo_kind_str() */
	switch (kind) {
	case BPF_CORE_FIELD_BYTE_OFFSET: return "byte_off";
	case BPF_CORE_FIELD_BYTE_SIZE: return "byte_sz";
	case BPF_CORE_FIELD_EXISTS: return "field_exists";
	case BPF_CORE_FIELD_SIGNED: return "signed";
	case BPF_CORE_FIELD_LSHIFT_U64: return "lshift_u64";
	case BPF_CORE_FIELD_RSHIFT_U64: return "rshift_u64";
	case BPF_CORE_TYPE_ID_LOCAL: return "local_type_id";
	case BPF_CORE_TYPE_ID_TARGET: return "target_type_id";
	case BPF_CORE_TYPE_EXISTS: return "type_exists";
	case BPF_CORE_TYPE_MATCHES: return "type_matches";
	case BPF_CORE_TYPE_SIZE: return "type_size";
	case BPF_CORE_ENUMVAL_EXISTS: return "enumval_exists";
	case BPF_CORE_ENUMVAL_VALUE: return "enumval_value";
	default: return "unknown";
	}
}

/* ---- instruction helpers ---------------------------------------------------- */
enum insn_kind { IK_ALU, IK_MEM, IK_LDIMM64, IK_OTHER };

static enum insn_kind insn_kind_of(const struct bpf_insn *insn)
{
	switch (BPF_CLASS(insn->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		return IK_ALU;
	case BPF_LDX:
	case BPF_ST:
	case BPF_STX:
		return IK_MEM;
	case BPF_LD:
		if (insn->code == (BPF_LD | BPF_IMM | BPF_DW))
			return IK_LDIMM64;
		return IK_OTHER;
	default:
		return IK_OTHER;
	}
}

static const char *insn_kind_str(enum insn_kind k)
{
	switch (k) {
	case IK_ALU: return "ALU/ALU64";
	case IK_MEM: return "LDX/ST/STX";
	case IK_LDIMM64: return "LDIMM64";
	default: return "other";
	}
}

static int mem_size_bytes(const struct bpf_insn *insn)
{
	switch (BPF_SIZE(insn->code)) {
	case BPF_DW: return 8;
	case BPF_W: return 4;
	case BPF_H: return 2;
	case BPF_B: return 1;
	default: return -1;
	}
}

/* The relocatable field of an instruction, as a signed number: imm (s32) for
 * ALU, off (s16) for LDX/ST/STX, the 64-bit immediate (s64) for LDIMM64. */
static long long insn_value(const struct bpf_insn *insn, enum insn_kind k)
{
	switch (k) {
	case IK_ALU: return (long long)insn->imm;
	case IK_MEM: return (long long)insn->off;
	case IK_LDIMM64:
		return (long long)(__s64)((__u64)(__u32)insn[0].imm | ((__u64)(__u32)insn[1].imm << 32));
	default: return (long long)insn->imm;
	}
}

static bool insn_is_poison(const struct bpf_insn *insn)
{
	return insn->code == (BPF_JMP | BPF_CALL) && insn->imm == POISON_IMM &&
	       insn->off == 0 && insn->src_reg == 0 && insn->dst_reg == 0;
}

/* ---- what the ELF file says ------------------------------------------------- */
struct func_sym {
	char *name;
	size_t shndx;
	__u64 value, size; /* bytes */
};

struct elf_sec {
	char *name;
	size_t shndx;
	const void *data; /* copy */
	size_t size;
};

enum rec_state {
	ST_NOT_REACHED = 0,
	ST_SKIPPED,
	ST_DONE,
	ST_ERROR,
};

struct rec {
	/* from the file */
	int sec_no;            /* index in the .BTF.ext core_relo section list */
	const char *sec_name;
	int idx;               /* i within the section: libbpf's "relo #i" */
	struct bpf_core_relo r;
	const char *sym_prog;  /* program (function symbol) containing insn_off */
	__u64 sym_prog_off;    /* its first insn's byte offset in the section */
	struct bpf_insn orig[2];
	bool have_orig;

	/* from libbpf */
	enum rec_state state;
	const char *skip_reason;
	char *prog;            /* prog name libbpf passed */
	int prog_insn;         /* libbpf's insn_idx (program-relative), -1 if unknown */
	bool calc_called, patch_called;
	int calc_err, patch_err;
	int cands_before;      /* cands->len handed to calc (-1: none, TYPE_ID_LOCAL) */
	int n_matched;
	__u32 *matched_ids;
	struct bpf_core_relo_res res;
	char *local_spec, *target_spec;
	__u32 target_id;       /* root type id of the first matching candidate, 0 if none */
	bool have_after;
	struct bpf_insn before[2], after[2];
	char *error;
	struct strlist log;
};

static struct {
	/* options */
	const char *obj_path;
	const char *target_btf;
	const char *kconfig_path;
	bool keep_going, respect_autoload, create_maps, with_log, verbose;

	/* the ELF view */
	struct elf_sec *secs;
	int nsecs;
	struct func_sym *funcs;
	int nfuncs;
	struct rec *recs;
	int nrecs;

	/* libbpf state */
	struct bpf_object *obj;
	const struct btf *local_btf;
	struct rec *cur;       /* record inside a wrapped call */
	int cursor;            /* next record libbpf may reach (it goes in order) */
	bool core_started;
	bool core_aborted;
	struct strlist all_log;
	struct strlist orphan_log; /* lines outside a wrapped call, for post-hoc attribution */
} g;

static const struct elf_sec *sec_by_name(const char *name)
{
	int i;

	for (i = 0; i < g.nsecs; i++)
		if (g.secs[i].name && strcmp(g.secs[i].name, name) == 0)
			return &g.secs[i];
	return NULL;
}

static void read_elf(const char *path)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx, n;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		die("libelf init failed");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		die("%s is not an ELF file", path);
	if (elf_getshdrstrndx(elf, &shstrndx))
		die("%s: no section header string table", path);
	if (elf_getshdrnum(elf, &n))
		die("%s: cannot count sections", path);
	g.secs = xcalloc(n, sizeof(*g.secs));
	g.nsecs = (int)n;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t idx = elf_ndxscn(scn);
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		g.secs[idx].name = xstrdup(name);
		g.secs[idx].shndx = idx;
		if (sh.sh_type == SHT_NOBITS)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && d->d_size) {
			void *copy = malloc(d->d_size);

			if (!copy)
				die("out of memory");
			memcpy(copy, d->d_buf, d->d_size);
			g.secs[idx].data = copy;
			g.secs[idx].size = d->d_size;
		}
		if (sh.sh_type == SHT_SYMTAB && d) {
			size_t i, nsyms = sh.sh_entsize ? d->d_size / sh.sh_entsize : 0;

			g.funcs = xcalloc(nsyms, sizeof(*g.funcs));
			for (i = 0; i < nsyms; i++) {
				GElf_Sym sym;

				if (!gelf_getsym(d, (int)i, &sym))
					continue;
				if (GELF_ST_TYPE(sym.st_info) != STT_FUNC)
					continue;
				g.funcs[g.nfuncs].name = xstrdup(elf_strptr(elf, sh.sh_link, sym.st_name));
				g.funcs[g.nfuncs].shndx = sym.st_shndx;
				g.funcs[g.nfuncs].value = sym.st_value;
				g.funcs[g.nfuncs].size = sym.st_size;
				g.nfuncs++;
			}
		}
	}
	elf_end(elf);
	close(fd);
}

/* Parse .BTF.ext's core_relo subsection (same rules as libbpf's btf_ext__new:
 * header, then u32 record size, then {sec_name_off, num_info, records}...). */
static void read_core_relos(void)
{
	const struct elf_sec *ext = sec_by_name(".BTF.ext");
	const __u8 *p, *end;
	__u32 hdr_len, off, len, rec_size;
	int sec_no = 0, cap = 0;

	if (!ext || !ext->data)
		return;
	p = ext->data;
	if (ext->size < 8 || *(const __u16 *)p != 0xeB9F)
		die(".BTF.ext: bad magic (only little-endian objects are supported)");
	hdr_len = *(const __u32 *)(p + 4);
	if (hdr_len < 32 || hdr_len > ext->size)
		return; /* header too old to carry core_relo info */
	off = *(const __u32 *)(p + 24);
	len = *(const __u32 *)(p + 28);
	if (!len)
		return;
	if ((__u64)hdr_len + off + len > ext->size || len < 4)
		die(".BTF.ext: core_relo subsection out of bounds");
	p = (const __u8 *)ext->data + hdr_len + off;
	end = p + len;
	rec_size = *(const __u32 *)p;
	p += 4;
	if (rec_size < sizeof(struct bpf_core_relo))
		die(".BTF.ext: core_relo record size %u too small", rec_size);
	while (p < end) {
		__u32 name_off, num, i;
		const char *sname;
		const struct elf_sec *es;

		if (end - p < 8)
			die(".BTF.ext: truncated core_relo section header");
		name_off = *(const __u32 *)p;
		num = *(const __u32 *)(p + 4);
		p += 8;
		if ((__u64)num * rec_size > (__u64)(end - p))
			die(".BTF.ext: truncated core_relo records");
		sname = btf__name_by_offset(g.local_btf, name_off);
		sname = xstrdup(sname ? sname : "");
		es = sec_by_name(sname);
		for (i = 0; i < num; i++, p += rec_size) {
			struct rec *r;
			int f;

			if (g.nrecs == cap) {
				cap = cap ? cap * 2 : 64;
				g.recs = realloc(g.recs, cap * sizeof(*g.recs));
				if (!g.recs)
					die("out of memory");
			}
			r = &g.recs[g.nrecs++];
			memset(r, 0, sizeof(*r));
			r->sec_no = sec_no;
			r->sec_name = sname;
			r->idx = (int)i;
			memcpy(&r->r, p, sizeof(r->r));
			r->prog_insn = -1;
			r->cands_before = -1;
			if (!es)
				continue;
			for (f = 0; f < g.nfuncs; f++) {
				const struct func_sym *fs = &g.funcs[f];

				if (fs->shndx == es->shndx && fs->value <= r->r.insn_off &&
				    r->r.insn_off < fs->value + fs->size) {
					r->sym_prog = fs->name;
					r->sym_prog_off = fs->value;
					break;
				}
			}
			if (es->data && (__u64)r->r.insn_off + sizeof(struct bpf_insn) <= es->size) {
				size_t n = es->size - r->r.insn_off >= 2 * sizeof(struct bpf_insn) ? 2 : 1;

				memcpy(r->orig, (const __u8 *)es->data + r->r.insn_off,
				       n * sizeof(struct bpf_insn));
				r->have_orig = true;
			}
		}
		sec_no++;
	}
}

/* ---- libbpf print callback ------------------------------------------------- */
/* stored lines carry their level as a first character: W, I or D */
static void add_log_line(char lvl, const char *text)
{
	char line[8200];

	/* libbpf prefixes its own messages with "libbpf: " */
	if (strncmp(text, "libbpf: ", 8) == 0)
		text += 8;
	snprintf(line, sizeof(line), "%c%s", lvl, text);
	strlist_add(&g.all_log, line);
	if (g.verbose)
		fprintf(stderr, "libbpf: %s\n", text);
	if (strncmp(text, "sec '", 5) == 0 && strstr(text, "CO-RE relocations"))
		g.core_started = true;
	if (strstr(text, "failed to perform CO-RE relocations"))
		g.core_aborted = true;
	if (g.cur)
		strlist_add(&g.cur->log, line);
	else
		strlist_add(&g.orphan_log, line);
}

static int print_cb(enum libbpf_print_level level, const char *fmt, va_list args)
{
	static char pending[8192];
	char buf[8192];
	char *s, *nl;
	char lvl = level == LIBBPF_WARN ? 'W' : level == LIBBPF_INFO ? 'I' : 'D';

	vsnprintf(buf, sizeof(buf), fmt, args);
	/* libbpf may emit a line in pieces; join until newline */
	strncat(pending, buf, sizeof(pending) - strlen(pending) - 1);
	s = pending;
	while ((nl = strchr(s, '\n'))) {
		*nl = '\0';
		add_log_line(lvl, s);
		s = nl + 1;
	}
	memmove(pending, s, strlen(s) + 1);
	return 0;
}

/* ---- matching libbpf's calls to the file's records ------------------------- */
static struct rec *match_record(const char *prog_name, const struct bpf_core_relo *relo,
				int relo_idx)
{
	int i;

	/* libbpf walks sections and records in file order, skipping some:
	 * the first not-yet-seen record with the same index and content is it.
	 * Prefer one whose containing function symbol has the same name. */
	for (i = g.cursor; i < g.nrecs; i++) {
		struct rec *r = &g.recs[i];

		if (r->idx == relo_idx && memcmp(&r->r, relo, sizeof(r->r)) == 0 &&
		    (!r->sym_prog || strcmp(r->sym_prog, prog_name) == 0)) {
			g.cursor = i + 1;
			return r;
		}
	}
	for (i = g.cursor; i < g.nrecs; i++) {
		struct rec *r = &g.recs[i];

		if (r->idx == relo_idx && memcmp(&r->r, relo, sizeof(r->r)) == 0) {
			g.cursor = i + 1;
			return r;
		}
	}
	return NULL;
}

static struct rec *synth_rec_unknown;

/* ---- the wrappers ----------------------------------------------------------- */
int __wrap_bpf_core_calc_relo_insn(const char *prog_name, const struct bpf_core_relo *relo,
				   int relo_idx, const struct btf *local_btf,
				   struct bpf_core_cand_list *cands,
				   struct bpf_core_spec *specs_scratch,
				   struct bpf_core_relo_res *targ_res)
{
	struct rec *r = match_record(prog_name, relo, relo_idx);
	char buf[1024];
	int err, k;

	if (!r) {
		fprintf(stderr, "core-oracle: internal: libbpf relocates prog '%s' relo #%d (insn_off %u) which is not in the file's .BTF.ext\n",
			prog_name, relo_idx, relo->insn_off);
		synth_rec_unknown = synth_rec_unknown ? synth_rec_unknown : xcalloc(1, sizeof(struct rec));
		r = synth_rec_unknown;
	}
	g.cur = r;
	free(r->prog);
	r->prog = xstrdup(prog_name);
	r->cands_before = cands ? cands->len : -1;

	err = __real_bpf_core_calc_relo_insn(prog_name, relo, relo_idx, local_btf, cands,
					     specs_scratch, targ_res);
	r->calc_called = true;
	r->calc_err = err;
	if (!err) {
		r->res = *targ_res;
		bpf_core_format_spec(buf, sizeof(buf), &specs_scratch[0]);
		r->local_spec = xstrdup(buf);
		/* specs_scratch is zeroed per relocation by bpf_core_resolve_relo():
		 * targ spec has a BTF only if some candidate matched (j > 0), and
		 * then cands->len == j and cands[0..j) are the matching ones. */
		if (specs_scratch[2].btf) {
			bpf_core_format_spec(buf, sizeof(buf), &specs_scratch[2]);
			r->target_spec = xstrdup(buf);
			r->target_id = specs_scratch[2].root_type_id;
			if (cands && cands->len > 0) {
				r->n_matched = cands->len;
				r->matched_ids = xcalloc(cands->len, sizeof(__u32));
				for (k = 0; k < cands->len; k++)
					r->matched_ids[k] = cands->cands[k].id;
			}
		}
	} else {
		r->state = ST_ERROR;
	}
	g.cur = NULL;
	if (err && g.keep_going)
		return 0; /* our patch wrapper then skips the instruction */
	return err;
}

int __wrap_bpf_core_patch_insn(const char *prog_name, struct bpf_insn *insn, int insn_idx,
			       const struct bpf_core_relo *relo, int relo_idx,
			       const struct bpf_core_relo_res *res)
{
	struct rec *r = NULL;
	int err;

	/* bpf_core_patch_insn() directly follows a successful
	 * bpf_core_calc_relo_insn() for the same record */
	if (g.cursor > 0 && g.recs[g.cursor - 1].idx == relo_idx &&
	    memcmp(&g.recs[g.cursor - 1].r, relo, sizeof(*relo)) == 0)
		r = &g.recs[g.cursor - 1];
	if (!r) {
		fprintf(stderr, "core-oracle: internal: patch for prog '%s' relo #%d without matching calc\n",
			prog_name, relo_idx);
		return __real_bpf_core_patch_insn(prog_name, insn, insn_idx, relo, relo_idx, res);
	}
	r->prog_insn = insn_idx;
	if (r->calc_err) /* --keep-going after a failed calc: leave the insn alone */
		return 0;

	g.cur = r;
	r->before[0] = insn[0];
	if (insn_kind_of(insn) == IK_LDIMM64)
		r->before[1] = insn[1];
	err = __real_bpf_core_patch_insn(prog_name, insn, insn_idx, relo, relo_idx, res);
	r->patch_called = true;
	r->patch_err = err;
	r->after[0] = insn[0];
	if (insn_kind_of(&r->before[0]) == IK_LDIMM64)
		r->after[1] = insn[1];
	r->have_after = true;
	r->state = err ? ST_ERROR : ST_DONE;
	g.cur = NULL;
	if (err && g.keep_going)
		return 0;
	return err;
}

/* ---- post-processing ------------------------------------------------------- */
static const char *rec_prog_name(const struct rec *r)
{
	return r->prog ? r->prog : r->sym_prog;
}

/* attribute log lines printed outside the wrappers ("prog 'p': relo #i: ..."
 * from bpf_object__relocate_core / bpf_core_resolve_relo, "sec 's': skipping
 * CO-RE relocation #i ...") to their records */
static void attribute_orphan_log(void)
{
	int i, j;

	for (i = 0; i < g.orphan_log.n; i++) {
		const char *line = g.orphan_log.v[i];
		const char *text = line + 1;
		char name[512];
		int idx, n = 0;

		if (sscanf(text, "prog '%511[^']': relo #%d: %n", name, &idx, &n) == 2 && n > 0) {
			struct rec *best = NULL;

			for (j = 0; j < g.nrecs; j++) {
				struct rec *r = &g.recs[j];
				const char *pn = rec_prog_name(r);

				if (r->idx != idx || !pn || strcmp(pn, name) != 0)
					continue;
				/* prefer a record libbpf reached */
				if (!best || (r->prog && !best->prog))
					best = r;
			}
			if (best)
				strlist_add(&best->log, line);
		} else if (sscanf(text, "sec '%511[^']': skipping CO-RE relocation #%d %n", name, &idx, &n) == 2 && n > 0) {
			for (j = 0; j < g.nrecs; j++) {
				struct rec *r = &g.recs[j];

				if (r->idx == idx && strcmp(r->sec_name, name) == 0 &&
				    r->state == ST_NOT_REACHED) {
					r->state = ST_SKIPPED;
					r->skip_reason = "belongs to an eliminated __weak subprogram";
					strlist_add(&r->log, line);
					break;
				}
			}
		}
	}
}

/* "prog 'p': relo #3: field offset ambiguity: ..." -> "field offset ambiguity: ..." */
static const char *strip_prefix(const char *text)
{
	const char *p = strstr(text, ": relo #");

	if (p) {
		p = strchr(p + 8, ':');
		if (p && p[1] == ' ')
			return p + 2;
	}
	return text;
}

static int trailing_err(const char *text)
{
	const char *p = strrchr(text, ':');

	return p ? atoi(p + 1) : 0;
}

static void finish_records(void)
{
	const char *first_warn = NULL;
	int i, j;

	attribute_orphan_log();
	/* the first warning libbpf printed: why a load failed before CO-RE */
	for (i = 0; i < g.all_log.n; i++) {
		if (g.all_log.v[i][0] == 'W') {
			first_warn = g.all_log.v[i] + 1;
			break;
		}
	}

	for (i = 0; i < g.nrecs; i++) {
		struct rec *r = &g.recs[i];
		char buf[1200];

		if (r->state == ST_DONE || r->state == ST_SKIPPED)
			continue;

		/* a failed calc/patch, or a failure inside bpf_core_resolve_relo()
		 * before calc (candidate search): libbpf printed why, as warnings */
		if (r->state == ST_ERROR || r->log.n > 0) {
			const char *why = NULL, *generic = NULL;
			int err = 0;

			if (r->calc_called && r->calc_err)
				err = r->calc_err;
			else if (r->patch_called && r->patch_err)
				err = r->patch_err;
			for (j = 0; j < r->log.n; j++) {
				const char *l = r->log.v[j];

				if (l[0] != 'W')
					continue;
				if (strstr(l, "failed to relocate: ") || strstr(l, "failed to patch insn")) {
					generic = l + 1;
					if (!err)
						err = trailing_err(l + 1);
				} else if (!why) {
					why = l + 1; /* the first specific warning */
				}
			}
			if (!why)
				why = generic;
			snprintf(buf, sizeof(buf), "%s%s(libbpf error %d%s)",
				 why ? strip_prefix(why) : "", why ? " " : "", err,
				 g.keep_going ? "" : "; libbpf aborts CO-RE relocation and the load here");
			r->error = xstrdup(buf);
			r->state = ST_ERROR;
			continue;
		}

		/* never reached */
		if (r->sym_prog && g.respect_autoload) {
			struct bpf_program *p = bpf_object__find_program_by_name(g.obj, r->sym_prog);

			if (p && !bpf_program__autoload(p)) {
				r->state = ST_SKIPPED;
				r->skip_reason = "program has autoload disabled (libbpf skips its CO-RE relocations)";
				continue;
			}
		}
		if (!r->sym_prog && g.core_started && !g.core_aborted) {
			r->state = ST_SKIPPED;
			r->skip_reason = "no program contains this instruction";
			continue;
		}
		if (g.core_started)
			snprintf(buf, sizeof(buf), "not reached: libbpf aborted CO-RE relocation at an earlier relocation");
		else
			snprintf(buf, sizeof(buf), "not reached: bpf_object__load failed before CO-RE relocation%s%s",
				 first_warn ? ": " : "", first_warn ? first_warn : "");
		r->error = xstrdup(buf);
	}
}

static void print_record(FILE *f, const struct rec *r)
{
	const struct btf_type *t = btf__type_by_id(g.local_btf, r->r.type_id);
	const char *tname = t ? btf__name_by_offset(g.local_btf, t->name_off) : NULL;
	const char *spec = btf__name_by_offset(g.local_btf, r->r.access_str_off);
	enum insn_kind ik = r->have_orig ? insn_kind_of(&r->orig[0]) : IK_OTHER;
	bool poisoned = false;
	char tbuf[600];
	int j;

	if (t)
		snprintf(tbuf, sizeof(tbuf), "%s %s", btf_kind_str(t),
			 tname && *tname ? tname : "<anon>");
	else
		snprintf(tbuf, sizeof(tbuf), "<bad type id %u>", r->r.type_id);

	if (r->state == ST_DONE && r->have_after)
		poisoned = insn_is_poison(&r->after[0]) && !insn_is_poison(&r->before[0]);

	fputs("{\"section\":", f);
	json_str(f, r->sec_name);
	fputs(",\"program\":", f);
	json_str(f, rec_prog_name(r));
	fprintf(f, ",\"relo\":%d,\"insn\":%u", r->idx, r->r.insn_off / 8);
	fputs(",\"kind\":", f);
	json_str(f, relo_kind_str(r->r.kind));
	fputs(",\"type\":", f);
	json_str(f, tbuf);
	fputs(",\"spec\":", f);
	json_str(f, spec);

	fputs(",\"old\":", f);
	if (r->have_orig)
		fprintf(f, "%lld", insn_value(r->orig, ik));
	else
		fputs("null", f);
	fputs(",\"new\":", f);
	if (r->state == ST_DONE && r->have_after && !poisoned)
		fprintf(f, "%lld", insn_value(r->after, ik));
	else
		fputs("null", f);
	fprintf(f, ",\"poisoned\":%s", poisoned ? "true" : "false");
	fputs(",\"error\":", f);
	json_str(f, r->error);

	/* extras */
	fprintf(f, ",\"status\":\"%s\"",
		r->state == ST_DONE ? (poisoned ? "poisoned" : "ok") :
		r->state == ST_SKIPPED ? "skipped" :
		r->state == ST_ERROR ? "error" : "not_reached");
	if (r->state == ST_SKIPPED) {
		fputs(",\"skip_reason\":", f);
		json_str(f, r->skip_reason);
	}
	fprintf(f, ",\"kind_id\":%u,\"type_id\":%u,\"type_name\":", r->r.kind, r->r.type_id);
	json_str(f, tname && *tname ? tname : "");
	fprintf(f, ",\"insn_class\":\"%s\"", insn_kind_str(ik));
	if (r->prog_insn >= 0)
		fprintf(f, ",\"prog_insn\":%d", r->prog_insn);
	else if (r->sym_prog)
		fprintf(f, ",\"prog_insn\":%llu",
			(unsigned long long)(r->r.insn_off - r->sym_prog_off) / 8);
	else
		fputs(",\"prog_insn\":null", f);
	if (ik == IK_MEM && r->have_orig) {
		fprintf(f, ",\"old_size\":%d,\"new_size\":", mem_size_bytes(&r->orig[0]));
		if (r->state == ST_DONE && r->have_after && !poisoned)
			fprintf(f, "%d", mem_size_bytes(&r->after[0]));
		else
			fputs("null", f);
	}
	if (r->calc_called && !r->calc_err) {
		fputs(",\"local_spec\":", f);
		json_str(f, r->local_spec);
		fputs(",\"target_spec\":", f);
		json_str(f, r->target_spec);
		if (r->target_spec)
			fprintf(f, ",\"target_type_id\":%u", r->target_id);
		else
			fputs(",\"target_type_id\":null", f);
		if (r->cands_before >= 0) {
			fprintf(f, ",\"candidates\":%d,\"matched\":[", r->cands_before);
			for (j = 0; j < r->n_matched; j++)
				fprintf(f, "%s%u", j ? "," : "", r->matched_ids[j]);
			fputc(']', f);
		}
		fprintf(f, ",\"res\":{\"orig_val\":%llu,\"new_val\":%llu,\"poison\":%s,\"validate\":%s,"
			   "\"fail_memsz_adjust\":%s,\"orig_sz\":%u,\"new_sz\":%u,\"orig_type_id\":%u,\"new_type_id\":%u}",
			(unsigned long long)r->res.orig_val, (unsigned long long)r->res.new_val,
			r->res.poison ? "true" : "false", r->res.validate ? "true" : "false",
			r->res.fail_memsz_adjust ? "true" : "false", r->res.orig_sz, r->res.new_sz,
			r->res.orig_type_id, r->res.new_type_id);
	}
	if (g.with_log) {
		fputs(",\"log\":[", f);
		for (j = 0; j < r->log.n; j++) {
			if (j)
				fputc(',', f);
			json_str(f, r->log.v[j] + 1);
		}
		fputc(']', f);
	}
	fputs("}\n", f);
}

/* ---- main -------------------------------------------------------------------- */
static char *gunzip_to_temp(const char *path)
{
	char tmpl[] = "/tmp/core-oracle-btf.XXXXXX";
	char buf[65536];
	gzFile in;
	int fd, n;

	in = gzopen(path, "rb");
	if (!in)
		die("cannot open %s", path);
	fd = mkstemp(tmpl);
	if (fd < 0)
		die("mkstemp: %s", strerror(errno));
	while ((n = gzread(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			die("write %s: %s", tmpl, strerror(errno));
	if (n < 0)
		die("%s: gzip read error", path);
	gzclose(in);
	close(fd);
	return xstrdup(tmpl);
}

/* read a whole text file, gzip-compressed or not (e.g. /proc/config.gz) */
static char *read_file(const char *path)
{
	gzFile in = gzopen(path, "rb");
	size_t len = 0, cap = 65536;
	char *buf;
	int n;

	if (!in)
		die("cannot open %s: %s", path, strerror(errno));
	buf = xcalloc(cap + 1, 1);
	while ((n = gzread(in, buf + len, (unsigned)(cap - len))) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				die("out of memory");
		}
	}
	if (n < 0)
		die("%s: read error", path);
	gzclose(in);
	buf[len] = '\0';
	return buf;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: core-oracle OBJ [--target-btf RAW_BTF_FILE[.gz]] [options]\n"
		"\n"
		"Prints libbpf %s's CO-RE relocation decisions for OBJ as JSON lines\n"
		"(one per .BTF.ext core_relo record, in file order).\n"
		"  --target-btf FILE    relocate against this raw BTF (or ELF with .BTF;\n"
		"                       *.gz is decompressed first) instead of the running\n"
		"                       kernel (/sys/kernel/btf/vmlinux + module BTFs)\n"
		"  --keep-going         after a relocation libbpf rejects, go on with the\n"
		"                       next ones (libbpf itself would abort the load)\n"
		"  --respect-autoload   keep programs' autoload as the object says (libbpf\n"
		"                       then skips relocations of SEC(\"?...\") programs);\n"
		"                       default: autoload every program\n"
		"  --create-maps        let libbpf create (and pin) maps as usual;\n"
		"                       default: autocreate off for every map\n"
		"  --kconfig FILE       kernel config (text or .gz) for __kconfig externs\n"
		"                       (opts.kconfig; default: libbpf reads the running\n"
		"                       kernel's /boot/config-$(uname -r) or /proc/config.gz)\n"
		"  --log                add each relocation's libbpf log lines (\"log\":[...])\n"
		"  -v, --verbose        echo libbpf's whole log to stderr\n"
		"Exit: 0 CO-RE ran (or OBJ has no CO-RE relocations); 3 bpf_object__load\n"
		"failed before CO-RE ran; 2 usage/open errors.\n",
		libbpf_version_string());
	exit(2);
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_program *prog;
	struct bpf_map *map;
	char *tmp_btf = NULL;
	const char *btf_path = NULL;
	int i, err;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--target-btf") && i + 1 < argc)
			g.target_btf = argv[++i];
		else if (!strncmp(a, "--target-btf=", 13))
			g.target_btf = a + 13;
		else if (!strcmp(a, "--kconfig") && i + 1 < argc)
			g.kconfig_path = argv[++i];
		else if (!strcmp(a, "--keep-going"))
			g.keep_going = true;
		else if (!strcmp(a, "--respect-autoload"))
			g.respect_autoload = true;
		else if (!strcmp(a, "--create-maps"))
			g.create_maps = true;
		else if (!strcmp(a, "--log"))
			g.with_log = true;
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			g.verbose = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage();
		else if (a[0] == '-' || g.obj_path)
			usage();
		else
			g.obj_path = a;
	}
	if (!g.obj_path)
		usage();

	read_elf(g.obj_path);

	if (g.target_btf) {
		size_t l = strlen(g.target_btf);

		if (access(g.target_btf, R_OK))
			die("cannot read %s: %s", g.target_btf, strerror(errno));
		if (l > 3 && !strcmp(g.target_btf + l - 3, ".gz"))
			btf_path = tmp_btf = gunzip_to_temp(g.target_btf);
		else
			btf_path = g.target_btf;
		opts.btf_custom_path = btf_path;
	}
	if (g.kconfig_path)
		opts.kconfig = read_file(g.kconfig_path);
	opts.kernel_log_level = 0;

	libbpf_set_print(print_cb);
	g.obj = bpf_object__open_file(g.obj_path, &opts);
	err = libbpf_get_error(g.obj);
	if (err) {
		int k;

		for (k = 0; k < g.all_log.n; k++)
			fprintf(stderr, "libbpf: %s\n", g.all_log.v[k] + 1);
		if (tmp_btf)
			unlink(tmp_btf);
		die("bpf_object__open_file(%s) failed: %d", g.obj_path, err);
	}
	g.local_btf = bpf_object__btf(g.obj);
	if (!g.local_btf) {
		if (tmp_btf)
			unlink(tmp_btf);
		return 0; /* no .BTF: no CO-RE relocations */
	}
	read_core_relos();

	if (!g.respect_autoload)
		bpf_object__for_each_program(prog, g.obj)
			bpf_program__set_autoload(prog, true);
	if (!g.create_maps)
		bpf_object__for_each_map(map, g.obj)
			bpf_map__set_autocreate(map, false);

	/* orphan lines from open are not about relocations */
	for (i = 0; i < g.orphan_log.n; i++)
		free(g.orphan_log.v[i]);
	g.orphan_log.n = 0;

	err = bpf_object__load(g.obj);
	if (g.verbose)
		fprintf(stderr, "core-oracle: bpf_object__load: %d (errors after CO-RE are expected and ignored)\n", err);

	finish_records();
	for (i = 0; i < g.nrecs; i++)
		print_record(stdout, &g.recs[i]);
	fflush(stdout);

	bpf_object__close(g.obj);
	if (tmp_btf)
		unlink(tmp_btf);

	if (g.nrecs > 0 && !g.core_started) {
		fprintf(stderr, "core-oracle: bpf_object__load failed before CO-RE relocation (%d); rerun with -v for libbpf's log\n", err);
		return 3;
	}
	return 0;
}
