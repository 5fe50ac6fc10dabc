#!/bin/bash
# arm64-suite.sh [options] [NAMESPACE...] - the runtime test suite in the arm64 guests (run-on-kernels.sh --arch
# arm64), one kernel after the other, and a summary per kernel: passed, failed, skipped and every skip's reason.
# Too slow for CI (aarch64 under TCG: Attach alone takes ~10-20 min per kernel on a busy 2-core host), so this is
# how the arm64 column of the README's proof table is made.
#
#   NAMESPACE   test namespaces, short or full (default: Loading Maps Attach Events; also: Reliability)
#   -k DIR      a kernel tree (repeatable; default every dir under $EBPF_KERNELS_ARM64, /tmp/rig/kernels-arm64)
#   -o DIR      where the logs and summary.txt go (default /tmp/rig/arm64-suite)
#   -t SECS     timeout per kernel (default 14400)
#   --no-publish  use the suite arm64-publish.sh published last instead of publishing it again
#   --passed    also list every test that passed in the summary (xunit's verbose reporter; the log gets longer)
#
# The suite is published self-contained for linux-arm64 (tests/kernels/arm64-publish.sh) and copied to a snapshot
# next to it (bin/Release/net10.0/linux-arm64/suite-PID/, removed at the end), so that a publish while the guests
# run cannot change what they run. Exit: 0 when every kernel passed (skips allowed).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=/tmp/rig/arm64-suite TIMEOUT=14400 PUBLISH=1 PASSED=0
KARGS=() SPACES=() REPORTER=()
while [ $# -gt 0 ]; do
    case "$1" in
        -k) KARGS+=(-k "$2"); shift 2 ;;
        -o) OUT=$2; shift 2 ;;
        -t) TIMEOUT=$2; shift 2 ;;
        --no-publish) PUBLISH=0; shift ;;
        --passed) PASSED=1 REPORTER=(-reporter verbose); shift ;;
        -h|--help) sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
        -*) echo "arm64-suite: unknown option $1" >&2; exit 2 ;;
        *) SPACES+=("$1"); shift ;;
    esac
done
[ ${#SPACES[@]} -gt 0 ] || SPACES=(Loading Maps Attach Events)
BIN=$ROOT/tests/Ebpf.Runtime.Tests/bin/Release/net10.0/linux-arm64
cd "$ROOT"
if [ $PUBLISH = 1 ]; then
    tests/kernels/arm64-publish.sh > /dev/null || { echo "arm64-suite: arm64-publish.sh failed" >&2; exit 1; }
fi
[ -x "$BIN/publish/Ebpf.Runtime.Tests" ] || { echo "arm64-suite: no published suite in $BIN/publish (run without --no-publish)" >&2; exit 1; }
SNAP=$BIN/suite-$$
rm -rf "$SNAP"; cp -a "$BIN/publish" "$SNAP"
trap 'rm -rf "$SNAP"' EXIT
FILTER=()
for s in "${SPACES[@]}"; do
    case "$s" in Ebpf.*) FILTER+=(-namespace "$s") ;; *) FILTER+=(-namespace "Ebpf.Runtime.Tests.$s") ;; esac
done
mkdir -p "$OUT"
KDIRS=()
if [ ${#KARGS[@]} -eq 0 ]; then
    for d in "${EBPF_KERNELS_ARM64:-/tmp/rig/kernels-arm64}"/*/; do [ -d "$d/boot" ] && KDIRS+=("${d%/}"); done
else
    for ((i = 1; i < ${#KARGS[@]}; i += 2)); do KDIRS+=("${KARGS[$i]}"); done
fi
[ ${#KDIRS[@]} -gt 0 ] || { echo "arm64-suite: no arm64 kernels (tests/kernels/run-on-kernels.sh --arch arm64 --fetch -- true)" >&2; exit 1; }
final=0
summary=$OUT/summary.txt
{ echo "arm64 runtime suite: ${SPACES[*]} ($(git -C "$ROOT" rev-parse --short HEAD), $(date -u +%FT%TZ))"; } > "$summary"
for k in "${KDIRS[@]}"; do
    name=$(basename "$k") log=$OUT/$name.log
    t0=$(date +%s)
    tests/kernels/run-on-kernels.sh --arch arm64 -k "$k" -t "$TIMEOUT" -- "$SNAP/Ebpf.Runtime.Tests" -noColor "${REPORTER[@]}" "${FILTER[@]}" > "$log" 2>&1
    rc=$?; t1=$(date +%s)
    [ $rc = 0 ] || final=$rc
    tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"   # the guest's console ends lines with CR LF
    {
        echo
        echo "== $name: rc $rc, $(( (t1 - t0) / 60 )) min"
        grep -E '^ +Ebpf.Runtime.Tests +Total:' "$log" | sed 's/^ *//'
        grep -E '\[FAIL\]$' "$log" | sed 's/^ */FAIL /; s/ \[FAIL\]$//'
        # each skip with the first line of its reason
        awk '/\[SKIP\]$/ { t = $0; sub(/^ +/, "", t); sub(/ \[SKIP\]$/, "", t); getline; sub(/^ +/, ""); print "SKIP " t ": " $0 }' "$log"
        # with --passed: each test that finished and neither failed nor skipped
        [ $PASSED = 1 ] && awk '{ t = $0; sub(/^ +/, "", t) }
            / \[(FAIL|SKIP)\]$/ { sub(/ \[(FAIL|SKIP)\]$/, "", t); bad[t] = 1 }
            / \[FINISHED\] Time: / { sub(/ \[FINISHED\] Time: .*$/, "", t); done[t] = 1 }
            END { for (t in done) if (!(t in bad)) print "PASS " t }' "$log" | sort
    } >> "$summary"
done
cat "$summary"
exit $final
