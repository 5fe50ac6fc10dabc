#!/usr/bin/env bash
# Fuzzes one object-layer reader with AFL++ and SharpFuzz.
#
#   tests/Ebpf.Fuzz/fuzz.sh TARGET [LIMIT]
#
# TARGET: object | btf | btfext | core   (see Targets/ObjectFuzzTargets.cs)
# LIMIT:  N   stop after N seconds (default 60)
#         Nx  stop after N executions (e.g. 1000000x)
#
# Builds the harness, instruments the object layer with `sharpfuzz` (local dotnet tool), seeds the corpus from
# every object under bpf/ and tests/Ebpf.Objects.Tests/Core/Data (for btf/btfext: their .BTF/.BTF.ext sections,
# extracted with llvm-objcopy), runs afl-fuzz, and copies each crashing or hanging input into
# tests/Ebpf.Objects.Tests/Fuzz/Crashers/TARGET/, where a regression test replays it.
# Prints one line: "fuzz TARGET: N execs in S s (R/s), C crashes, H hangs, P paths".
#
# Needs: afl++ and llvm (Debian packages; installed here when missing), the .NET SDK.
# Environment: FUZZ_WORK (default /tmp/ebpf-fuzz) holds builds, corpora and findings; FUZZ_RESUME=1 continues a
# previous run's queue instead of starting from the seeds.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=${1:?usage: fuzz.sh object|btf|btfext|core [SECONDS|EXECSx]}
LIMIT=${2:-60}
WORK=${FUZZ_WORK:-/tmp/ebpf-fuzz}
CRASHERS="$ROOT/tests/Ebpf.Objects.Tests/Fuzz/Crashers/$TARGET"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 EBPF_REPO_ROOT="$ROOT"

log() { printf '[fuzz] %s\n' "$*" >&2; }

case "$TARGET" in object|btf|btfext|core) ;; *) log "unknown target '$TARGET'"; exit 2 ;; esac
case "$LIMIT" in
  *x) LIMIT_ARGS=(-E "${LIMIT%x}") ;;
  *[!0-9]*|'') log "LIMIT must be seconds (N) or executions (Nx)"; exit 2 ;;
  *) LIMIT_ARGS=(-V "$LIMIT") ;;
esac

# 1. Tools.
need=()
command -v afl-fuzz >/dev/null || need+=(afl++)
command -v llvm-objcopy >/dev/null || need+=(llvm)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null \
    || { log "cannot install ${need[*]}"; exit 1; }
fi

# 2. Build once per source state, then instrument the object layer (not the harness, not SharpFuzz).
BIN="$WORK/bin"
stamp=$(cd "$ROOT" && cat tests/Ebpf.Fuzz/Targets/*.cs tests/Ebpf.Fuzz/Harness/*.cs src/Ebpf.Objects/*/*.cs | sha1sum | cut -c1-16)
if [ "$(cat "$BIN/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$BIN"
  log "building the harness"
  dotnet publish "$HERE/Harness/Ebpf.Fuzz.csproj" -c Release -o "$BIN" -p:UseAppHost=false >"$WORK.build.log" 2>&1 \
    || { tail -30 "$WORK.build.log" >&2; log "build failed"; exit 1; }
  (cd "$HERE" && dotnet tool restore >/dev/null && dotnet tool run sharpfuzz "$BIN/Ebpf.Fuzz.Targets.dll" Ebpf) >/dev/null \
    || { log "sharpfuzz instrumentation failed"; exit 1; }
  echo "$stamp" >"$BIN/.stamp"
fi

# 3. Seeds.
SEEDS="$WORK/seeds/$TARGET"
rm -rf "$SEEDS"; mkdir -p "$SEEDS"
objects=$(cd "$ROOT" && ls bpf/*.o bpf/broken/*.o tests/Ebpf.Objects.Tests/Core/Data/*.o 2>/dev/null)
for o in $objects; do
  base=$(echo "$o" | tr '/' '_')
  case "$TARGET" in
    object|core) cp "$ROOT/$o" "$SEEDS/$base" ;;
    btf)    llvm-objcopy --dump-section ".BTF=$SEEDS/$base.btf" "$ROOT/$o" /dev/null 2>/dev/null || true ;;
    btfext) llvm-objcopy --dump-section ".BTF.ext=$SEEDS/$base.btfext" "$ROOT/$o" /dev/null 2>/dev/null || true ;;
  esac
done
# afl-fuzz refuses inputs over 1 MB; the kernel BTF files are larger and are covered by the mutation tests instead.
find "$SEEDS" -type f -size +1000k -delete
find "$SEEDS" -type f -empty -delete
log "$(ls "$SEEDS" | wc -l) seeds for $TARGET"

# 4. Fuzz.
OUT="$WORK/findings/$TARGET"
INPUT=(-i "$SEEDS")
if [ "${FUZZ_RESUME:-0}" = 1 ] && [ -d "$OUT/default/queue" ]; then INPUT=(-i -); else rm -rf "$OUT"; fi
mkdir -p "$OUT"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_TRY_AFFINITY=1 \
       AFL_NO_AFFINITY=1 AFL_AUTORESUME=1 AFL_FORKSRV_INIT_TMOUT=120000
log "afl-fuzz $TARGET (${LIMIT_ARGS[*]})"
afl-fuzz "${INPUT[@]}" -o "$OUT" -t 10000 -m none "${LIMIT_ARGS[@]}" -- dotnet "$BIN/Ebpf.Fuzz.dll" "$TARGET" >"$OUT.log" 2>&1
afl_status=$?

# 5. Crashers: AFL's crashes and hangs, and the input that killed the persistent process (stack overflow, timeout).
mkdir -p "$CRASHERS"
n_new=0
for f in "$OUT"/default/crashes/id:* "$OUT"/default/hangs/id:*; do
  [ -f "$f" ] || continue
  h=$(sha1sum "$f" | cut -c1-16)
  [ -f "$CRASHERS/$h.bin" ] || { cp "$f" "$CRASHERS/$h.bin"; n_new=$((n_new + 1)); }
done
if [ $afl_status -ne 0 ] && [ -s "$OUT/default/.cur_input" ] && [ -f "$OUT/default/fuzzer_stats" ]; then
  h=$(sha1sum "$OUT/default/.cur_input" | cut -c1-16)
  [ -f "$CRASHERS/$h.bin" ] || { cp "$OUT/default/.cur_input" "$CRASHERS/$h.bin"; n_new=$((n_new + 1)); }
  log "afl-fuzz stopped with status $afl_status (the harness process died?); last input kept as $h.bin; see $OUT.log"
fi
rmdir "$CRASHERS" 2>/dev/null || true

stat() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$OUT/default/fuzzer_stats" 2>/dev/null; }
execs=$(stat execs_done); secs=$(stat run_time); crashes=$(stat saved_crashes); hangs=$(stat saved_hangs); paths=$(stat corpus_count)
[ -n "$crashes" ] || crashes=$(stat unique_crashes)
[ -n "$hangs" ] || hangs=$(stat unique_hangs)
[ -n "$paths" ] || paths=$(stat paths_total)
rate=$([ "${secs:-0}" -gt 0 ] && echo $(( ${execs:-0} / secs )) || echo 0)
echo "fuzz $TARGET: ${execs:-0} execs in ${secs:-0} s (${rate}/s), ${crashes:-0} crashes, ${hangs:-0} hangs, ${paths:-0} paths, $n_new new crasher file(s)"
[ $afl_status -eq 0 ] && [ "${crashes:-0}" = 0 ] && [ "${hangs:-0}" = 0 ]
