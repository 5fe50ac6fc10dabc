#!/bin/bash
# make-usdt-fixtures.sh - rebuilds usdt_args.x86_64.so and usdt_args.arm64.so from usdt_args.c (committed; the
# tests only read their .note.stapsdt). Needs gcc, gcc-aarch64-linux-gnu and systemtap-sdt-dev (<sys/sdt.h>, which
# Debian installs in the host's multiarch include directory: it is copied aside for the cross compiler).
set -euo pipefail
cd "$(dirname "$0")"
sdt=$(dpkg -L systemtap-sdt-dev 2>/dev/null | grep '/sys/sdt\.h$' | head -1)
[ -n "$sdt" ] || { echo "make-usdt-fixtures: <sys/sdt.h> missing (apt-get install systemtap-sdt-dev)" >&2; exit 1; }
inc=$(mktemp -d); trap 'rm -rf "$inc"' EXIT
mkdir -p "$inc/sys"; cp "$(dirname "$sdt")"/sdt*.h "$inc/sys/"
build() {   # build CC OUT
    local cc=$1 out=$2
    "$cc" -O2 -fPIC -I "$inc" -fno-asynchronous-unwind-tables -c usdt_args.c -o "$inc/a.o"
    "$cc" -O2 -fPIC -I "$inc" -fno-asynchronous-unwind-tables -DUSDT_MEMORY -DSTAP_SDT_ARG_CONSTRAINT=o -c usdt_args.c -o "$inc/b.o"
    "$cc" -shared -s -Wl,--build-id=none -Wl,-z,max-page-size=4096 -o "$out" "$inc/a.o" "$inc/b.o"
}
build gcc usdt_args.x86_64.so
build aarch64-linux-gnu-gcc usdt_args.arm64.so
readelf -n usdt_args.x86_64.so usdt_args.arm64.so | grep -E '^File|Name:|Arguments:'
