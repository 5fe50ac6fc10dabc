#!/bin/sh
# Rebuilds the adversarial CO-RE test objects in this directory from src/, and
# records libbpf's decisions for them against the stored kernels in oracle/.
#
#   tests/Ebpf.Objects.Tests/Core/Data/build.sh
#
# Needs clang-14 and clang-19 (type_matches/enum64 need clang >= 15),
# llvm-objcopy, bpftool (to link the __weak test), python3; for oracle/ also
# tests/oracle/core-oracle (make -C tests/oracle) and root. The objects are
# compiled against bpf/vmlinux.h and stripped of DWARF (.BTF/.BTF.ext stay).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../../.." && pwd)
CLANG14=${CLANG14:-clang-14}
CLANG19=${CLANG19:-clang-19}
OBJCOPY=${OBJCOPY:-llvm-objcopy-19}
BPFTOOL=${BPFTOOL:-bpftool}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CFLAGS="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I$REPO/bpf"

build() { # compiler source output
	"$1" $CFLAGS -c "$HERE/src/$2.bpf.c" -o "$TMP/$3.o"
	"$OBJCOPY" --strip-debug "$TMP/$3.o" "$HERE/$3.bpf.o"
}

build "$CLANG14" adv_fields adv_fields_c14
build "$CLANG19" adv_fields adv_fields_c19
build "$CLANG19" adv_types adv_types_c19
build "$CLANG14" adv_ambig adv_ambig_c14
build "$CLANG19" adv_ambig adv_ambig_c19
build "$CLANG14" adv_anon adv_anon_c14

# A __weak subprogram replaced at link time: its CO-RE records stay in .BTF.ext
# but belong to no function (libbpf skips them).
"$CLANG14" $CFLAGS -c "$HERE/src/weak_a.bpf.c" -o "$TMP/weak_a.o"
"$CLANG14" $CFLAGS -c "$HERE/src/weak_b.bpf.c" -o "$TMP/weak_b.o"
"$BPFTOOL" gen object "$TMP/weak_linked.o" "$TMP/weak_a.o" "$TMP/weak_b.o"
"$OBJCOPY" --strip-debug "$TMP/weak_linked.o" "$HERE/adv_weak_linked.bpf.o"

# Hand-broken copies: wrong instruction values/forms, bad access strings, void.
(cd "$HERE" && python3 src/make_mutants.py)

ORACLE="$REPO/tests/oracle/core-oracle"
if [ -x "$ORACLE" ]; then
	mkdir -p "$HERE/oracle"
	for o in "$HERE"/*.bpf.o; do
		for k in "$REPO"/tests/data/btf/*.btf.gz; do
			out="$HERE/oracle/$(basename "$o" .bpf.o)@$(basename "$k" .btf.gz).jsonl"
			"$ORACLE" "$o" --keep-going --target-btf "$k" > "$out"
		done
	done
else
	echo "build.sh: $ORACLE not built; oracle/ not regenerated" >&2
fi
