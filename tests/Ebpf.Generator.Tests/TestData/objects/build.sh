#!/bin/sh
# Rebuilds the generator tests' own objects (committed next to their sources), like bpf/Makefile does.
set -e
cd "$(dirname "$0")"
B=../../../../bpf
for f in untyped_map collide; do
  clang -g -O2 -D__TARGET_ARCH_x86 -I "$B" -I "$B/include" -Wall -Werror -fdebug-prefix-map="$PWD"=. -target bpf -c $f.bpf.c -o $f.bpf.o
done
