#!/bin/bash
# arm64-publish.sh [OUT] - what the arm64 guest runs, cross-built on this x86-64 machine (run-on-kernels.sh
# --arch arm64; the guest has no .NET and no compiler):
#   OUT/execsnoop             the sample, Native AOT for linux-arm64 (clang + the aarch64 cross toolchain and
#                             sysroot from Debian's gcc-aarch64-linux-gnu / libc6-dev-arm64-cross)
#   tests/Ebpf.Runtime.Tests/bin/Release/net10.0/linux-arm64/publish/
#                             the runtime test suite, self-contained for linux-arm64 (inside the repository: the
#                             tests find bpf/ and tests/data above their own directory), with libuprobe_target.so
#                             (tests/Ebpf.Runtime.Tests/Attach/native/uprobe_target.c, aarch64-linux-gnu-gcc)
# OUT defaults to sample-app/bin/aot-linux-arm64. Prints the two paths.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/sample-app/bin/aot-linux-arm64}
CC=${EBPF_ARM64_CC:-aarch64-linux-gnu-gcc}
command -v "$CC" >/dev/null || { echo "arm64-publish: $CC missing (apt-get install gcc-aarch64-linux-gnu)" >&2; exit 1; }
cd "$ROOT"
dotnet publish sample-app -c Release -r linux-arm64 -o "$OUT" >&2
readelf -h "$OUT/execsnoop" | grep -q 'Machine: *AArch64' || { echo "arm64-publish: $OUT/execsnoop is not an arm64 binary" >&2; exit 1; }
TESTS=$ROOT/tests/Ebpf.Runtime.Tests/bin/Release/net10.0/linux-arm64/publish
dotnet publish tests/Ebpf.Runtime.Tests -c Release -r linux-arm64 --self-contained -o "$TESTS" >&2
"$CC" -O2 -g -fPIC -shared -o "$TESTS/libuprobe_target.so" tests/Ebpf.Runtime.Tests/Attach/native/uprobe_target.c
echo "$OUT/execsnoop"
echo "$TESTS/Ebpf.Runtime.Tests"
