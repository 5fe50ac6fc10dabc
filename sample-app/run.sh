#!/usr/bin/env bash
# Runs execsnoop from a clean clone: mounts tracefs if the machine has not, builds (no clang needed: the compiled
# BPF object is committed) and runs it with your arguments, e.g. `bash sample-app/run.sh --duration 10`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != "0" ]; then
  echo "execsnoop loads BPF programs: run it as root (or with CAP_BPF and CAP_PERFMON)" >&2
  exit 1
fi
if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
  mount -t tracefs tracefs /sys/kernel/tracing
fi
dotnet build "$here/ExecSnoop.csproj" -c Release -nologo -v q >&2
exec dotnet "$here/bin/Release/net10.0/execsnoop.dll" "$@"
