#!/usr/bin/env bash
# Soak: N load / attach / detach / dispose cycles of exec_snoop and globals in one process (default 10,000), then
# checks that the process has the BPF and perf descriptors it started with, that bpftool lists none of the
# programs, maps and links the cycles created, and that the managed heap and RSS stayed flat.
# Runs SoakTests from tests/Ebpf.Runtime.Tests with EBPF_SOAK_CYCLES; appends the summary to tests/soak/RESULTS.md.
#
#   sudo tests/soak/soak.sh [CYCLES]
#
# Needs root, tracefs and the .NET SDK (bpftool for the kernel-side check; .ci/run installs it).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CYCLES=${1:-10000}
REPORT=$(mktemp)
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 EBPF_SOAK_CYCLES="$CYCLES" EBPF_SOAK_REPORT="$REPORT"
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
dotnet test --project "$ROOT/tests/Ebpf.Runtime.Tests" -c Release -- \
  --filter-method "Ebpf.Runtime.Tests.Reliability.SoakTests.LoadAttachDetachDisposeCyclesLeaveNothingBehind" >"$REPORT.log" 2>&1
status=$?
summary=$(cat "$REPORT" 2>/dev/null)
[ -n "$summary" ] || summary="no summary (see the test output below)"
result=$([ $status -eq 0 ] && echo PASS || echo FAIL)
{
  echo
  echo "## $(date -u +%Y-%m-%d) — $result, kernel $(uname -r), $(nproc) CPUs"
  echo
  echo "$summary"
} >>"$HERE/RESULTS.md"
echo "soak $result: $summary"
[ $status -eq 0 ] || tail -40 "$REPORT.log"
rm -f "$REPORT" "$REPORT.log"
exit $status
