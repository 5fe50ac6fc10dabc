#!/bin/bash
# btf-dump-raw.sh FILE
#
# The BTF text oracle: prints `bpftool btf dump file FILE format raw`, the
# reference the C# BTF reader's raw dump must equal byte for byte.
# FILE is a raw BTF blob (e.g. /sys/kernel/btf/vmlinux), an ELF object with a
# .BTF section (e.g. a *.bpf.o), or either of those gzip-compressed (*.gz,
# e.g. tests/data/btf/6.1.0-56-amd64.btf.gz), which is decompressed to a
# temporary file first.
# The reference is Debian 12's bpftool 7.1.0 (package bpftool
# 7.1.0+6.1.*, built with libbpf 1.1); set BPFTOOL to use another binary.
# Exit status is bpftool's (2 for usage errors).
set -euo pipefail
[ $# -eq 1 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BPFTOOL=${BPFTOOL:-bpftool}
command -v "$BPFTOOL" >/dev/null || { echo "btf-dump-raw: $BPFTOOL not found (apt-get install bpftool)" >&2; exit 2; }
f=$1
[ -r "$f" ] || { echo "btf-dump-raw: cannot read $f" >&2; exit 2; }
case "$f" in
    *.gz)
        tmp=$(mktemp "${TMPDIR:-/tmp}/btf-dump-raw.XXXXXX")
        trap 'rm -f "$tmp"' EXIT
        gzip -dc "$f" > "$tmp"
        f=$tmp
        ;;
esac
# not exec: the EXIT trap must remove the temporary file
"$BPFTOOL" btf dump file "$f" format raw
