#!/usr/bin/env bash
# One command for the side-by-side comparison with libbpf (see RESULTS.md):
#   tests/Ebpf.Benchmarks/run-compare.sh [--rounds N] [--metrics a,b] [--cold-runs N] [--samples-scale X] [--no-control]
#                                        [--storm-rounds N] [--storm-seconds S] [--storm-rates 1000,2000,4000,max]
# Builds everything in Release (the libbpf C twins against Debian's libbpf-dev, the comparison driver, the
# Native AOT sample app and a minimal Native AOT cold-start app, the exec storm's generator, and the generator
# benchmark), then runs our runtime and libbpf on bpf/bench.bpf.o in one run, alternating, runs the exec storm
# against the AOT sample and its libbpf twin, and prints the markdown tables (also written to
# tests/Ebpf.Benchmarks/out/compare.md; every timed sample to out/samples.csv). About 12 minutes with the defaults
# on a quiet 2-vCPU machine; --storm-rounds 0 skips the storm, --cold-runs 0 the cold starts.
# Needs root (bpf, perf_event_open), tracefs and /sys/kernel/btf/vmlinux. Set SKIP_GENERATOR=1 to skip the
# generator row (it runs BenchmarkDotNet, ~1 minute).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out"
mkdir -p "$OUT"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

log() { printf '[run-compare] %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { log "needs root (bpf(2), perf_event_open)"; exit 1; }
[ -r /sys/kernel/btf/vmlinux ] || { log "no /sys/kernel/btf/vmlinux: the kernel lacks BTF"; exit 1; }
if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
  mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || { log "tracefs is not mounted and cannot be"; exit 1; }
fi
for p in libbpf-dev gcc make; do
  dpkg -s "$p" >/dev/null 2>&1 || { log "missing Debian package $p (apt-get install libbpf-dev libelf-dev zlib1g-dev gcc make)"; exit 1; }
done

CPU_MODEL="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
log "machine: ${CPU_MODEL:-unknown CPU} ($(nproc) CPUs), Linux $(uname -r), .NET $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ {v=$2} END {print v}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "building the libbpf twins (libbpf $(dpkg-query -W -f='${Version}' libbpf-dev))"
make -s -C "$HERE/Compare" OUT="$OUT" >&2

log "building the driver (Release)"
dotnet build "$HERE/Ebpf.Benchmarks.csproj" -c Release -v q -nologo -clp:ErrorsOnly >&2

log "publishing the Native AOT cold-start app"
dotnet publish "$HERE/ColdStart/Ebpf.Benchmarks.ColdStart.csproj" -c Release -r linux-x64 -o "$OUT/coldstart" -v q -nologo -clp:ErrorsOnly >&2

SAMPLE_ARGS=()
if [ -f "$ROOT/sample-app/ExecSnoop.csproj" ]; then
  log "publishing the Native AOT sample app (sample-app, execsnoop)"
  dotnet publish "$ROOT/sample-app/ExecSnoop.csproj" -c Release -r linux-x64 -p:PublishAot=true -o "$OUT/sample" -v q -nologo -clp:ErrorsOnly >&2
  SAMPLE_ARGS=(--sample-ours "$OUT/sample/execsnoop" --sample-twin "$OUT/execsnoop_twin" --sample-object "$ROOT/bpf/exec_snoop.bpf.o"
               --storm-generator "$OUT/execstorm" --storm-child "$OUT/stormchild")
fi

GEN_ARGS=()
if [ "${SKIP_GENERATOR:-0}" != 1 ] && [ -f "$HERE/Generator/Ebpf.Benchmarks.Generator.csproj" ]; then
  log "generator benchmark (BenchmarkDotNet, bpf/large.bpf.o)"
  dotnet build "$HERE/Generator/Ebpf.Benchmarks.Generator.csproj" -c Release -v q -nologo -clp:ErrorsOnly >&2
  (cd "$OUT" && "$HERE/Generator/bin/Release/net10.0/Ebpf.Benchmarks.Generator" --summary "$OUT/generator.txt" >&2)
  GEN_ARGS=(--generator-summary "$OUT/generator.txt")
fi

log "comparing (ours in-process, libbpf_twin as a child; alternating)"
"$HERE/bin/Release/net10.0/Ebpf.Benchmarks" compare \
  --object "$ROOT/bpf/bench.bpf.o" \
  --twin "$OUT/libbpf_twin" \
  --cold-ours "$OUT/coldstart/ebpf-coldstart" \
  --cold-twin "$OUT/coldstart_twin" \
  --output "$OUT/compare.md" \
  --raw "$OUT/samples.csv" \
  "${SAMPLE_ARGS[@]}" "${GEN_ARGS[@]}" "$@"
