#!/usr/bin/env bash
# End to end as a user: pack Ebpf.Skeletons, consume it from a local folder feed in fresh projects, build them, and
# run one on the real kernel: ExecSnoopSkeleton.Open/Load/Attach, then read ring-buffer events as the generated type.
#
#   tests/e2e/package-e2e.sh WORKDIR
#
# Steps (each prints "E2E: <step> ok" on success; the script stops at the first failure):
#   pack         dotnet pack src/Ebpf.Skeletons into WORKDIR/feed (package version 0.1.0-e2e.<timestamp>, so assemblies are not rebuilt; private package cache)
#   build        app with <BpfObject Include="exec_snoop.bpf.o" Types="event"/> builds
#   incremental  a second build leaves the base64 copy alone
#   run          (root only) the app loads, attaches, runs /bin/true and reads its exec and exit events from the ring buffer
#   embed        <BpfKernelBtf Embed="true"> over stored kernels (.btf.gz), the running kernel's BTF (raw) and BTFHub
#                archives (<distro>/<version>/<arch>/RELEASE.btf.tar.xz, made here with tar and xz) embeds one minimized
#                BTF per kernel, named ebpf/btf/[ARCH/]RELEASE.btf.gz (the C# test checks their content)
#   embed-incremental  a second build skips EbpfMinimizeKernelBtf and leaves the minimized files alone
#   embed-run    (root only) with /sys/kernel/btf/vmlinux hidden behind an empty file (a mount namespace), the app
#                takes the embedded BTF of this release and reads its child's events with the right parent pid
#   embed-none   (root only) the same with a kernel release nothing is embedded for: a clear error listing the releases
#   bpfsource    a <BpfSource> item is compiled with clang and gets a skeleton
#   noclang      a <BpfSource> item with BpfClang pointing nowhere fails with EBPF100
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:?usage: package-e2e.sh WORKDIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)
feed=$work/feed
export NUGET_PACKAGES=$work/packages
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
version=0.1.0-e2e.$(date +%s)
global_packages=${EBPF_E2E_FALLBACK_PACKAGES:-$HOME/.nuget/packages}

step() { echo "E2E: $1 ok"; }
fail() { echo "E2E: FAILED: $*" >&2; exit 1; }

# ---- pack
dotnet pack "$repo/src/Ebpf.Skeletons/Ebpf.Skeletons.csproj" -c Release -o "$feed" -p:PackageVersion="$version" -nologo -v q \
  > "$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail pack; }
step pack

new_project() {   # new_project DIR ITEMS_XML
  local dir=$1 items=$2
  mkdir -p "$dir"
  # The local feed is added to the sources of the machine's own NuGet configuration (no <clear/>): whatever
  # registry that names serves the package's dependencies; this file names none.
  cat > "$dir/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="e2e" value="$feed" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="global" value="$global_packages" />
  </fallbackPackageFolders>
</configuration>
XML
  # Stop MSBuild from importing anything above the test directory.
  echo '<Project></Project>' > "$dir/Directory.Build.props"
  echo '<Project></Project>' > "$dir/Directory.Build.targets"
  echo '<Project></Project>' > "$dir/Directory.Packages.props"
  cat > "$dir/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <RootNamespace>E2E</RootNamespace>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Ebpf.Skeletons" Version="$version" />
$items
  </ItemGroup>
</Project>
XML
}

# ---- build: BpfObject
app=$work/app
new_project "$app" '    <BpfObject Include="exec_snoop.bpf.o" Types="event" />'
cp "$repo/bpf/exec_snoop.bpf.o" "$app/"
cat > "$app/Program.cs" <<'CS'
using System.Diagnostics;
using Ebpf;
using E2E;

using var skel = ExecSnoopSkeleton.Open();
skel.Rodata.TargetPid = 0;          // rodata: writable before Load
skel.Load();
skel.Attach();
Console.WriteLine($"attached: handle_exec={skel.Links.HandleExec is not null} handle_exit={skel.Links.HandleExit is not null}");

using var reader = skel.Maps.Rb.CreateReader();
using var child = Process.Start("/bin/true")!;
child.WaitForExit();
int childPid = child.Id;
bool sawExec = false, sawExit = false;
// The generated ExecSnoopSkeleton.Event is the ring buffer's record, read in place (ref readonly, no copy).
RingBufferEventHandler<ExecSnoopSkeleton.Event> onEvent = (ref readonly ExecSnoopSkeleton.Event e) =>
{
    if (e.Pid != childPid) return;
    if (e.ExitEvent) sawExit = true; else sawExec = true;
    Console.WriteLine($"EVENT {(e.ExitEvent ? "exit" : "exec")} pid={e.Pid} ppid={e.Ppid} comm={e.GetCommString()} file={e.GetFilenameString()} exit_code={e.ExitCode}");
};
var deadline = DateTime.UtcNow.AddSeconds(10);
while (!(sawExec && sawExit) && DateTime.UtcNow < deadline)
    reader.Poll(onEvent, timeoutMs: 100);
if (!(sawExec && sawExit))
{
    Console.Error.WriteLine($"no exec/exit events for pid {childPid}");
    return 1;
}
return 0;
CS
dotnet build "$app" -c Release -nologo -v q > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail build; }
b64=$(find "$app/obj" -name 'exec_snoop.bpf.o.b64' | head -1)
[ -n "$b64" ] || fail "build: no base64 copy of the object under obj/"
grep -rq "ExecSnoopSkeleton" "$app/obj" 2>/dev/null || true
step build

# ---- incremental: the encode target is skipped, the copy keeps its timestamp
before=$(stat -c %Y.%N "$b64")
sleep 1
dotnet build "$app" -c Release -nologo -v n > "$work/build2.log" 2>&1 || { cat "$work/build2.log"; fail incremental; }
after=$(stat -c %Y.%N "$b64")
[ "$before" = "$after" ] || fail "incremental: $b64 was rewritten by a no-op build"
grep -q 'Skipping target "EbpfEncodeObjects" because all output files are up-to-date' "$work/build2.log" \
  || fail "incremental: EbpfEncodeObjects was not skipped"
step incremental

# ---- run (needs root, tracefs)
if [ "$(id -u)" = "0" ] && [ -d /sys/kernel/tracing/events -o -d /sys/kernel/debug/tracing/events ]; then
  out=$(dotnet "$app/bin/Release/net10.0/App.dll" 2>&1) || { echo "$out"; fail run; }
  echo "$out"
  echo "$out" | grep -q '^EVENT exec pid=' || fail "run: no event read"
  step run
else
  echo "E2E: run skipped (needs root and tracefs)"
fi

# ---- embed: minimized kernel BTF per release (and architecture) in the assembly
emb=$work/app_btf
new_project "$emb" '    <BpfObject Include="exec_snoop.bpf.o" Types="event" />
    <BpfKernelBtf Include="kernels/*;btfhub/**/*.btf.tar.xz" Embed="true" />'
cp "$repo/bpf/exec_snoop.bpf.o" "$emb/"
mkdir -p "$emb/kernels" "$work/btf-raw"
running=$(uname -r)
expected=()
for k in 6.1.0-56-amd64 6.12.117+deb12-amd64; do
  [ "$k" = "$running" ] && continue
  cp "$repo/tests/data/btf/$k.btf.gz" "$emb/kernels/"; expected+=("ebpf/btf/x64/$k.btf.gz")
done
# The running kernel's own BTF, raw, named after its release (its architecture comes from the release, if it says).
embed_running=0
if [ -s /sys/kernel/btf/vmlinux ]; then
  cp /sys/kernel/btf/vmlinux "$emb/kernels/$running.btf"; embed_running=1
  case "$running" in
    *-amd64|*.x86_64) expected+=("ebpf/btf/x64/$running.btf.gz") ;;
    *-arm64|*.aarch64) expected+=("ebpf/btf/arm64/$running.btf.gz") ;;
    *) expected+=("ebpf/btf/$running.btf.gz") ;;
  esac
fi
# BTFHub's layout: <distro>/<version>/<arch>/RELEASE.btf.tar.xz, a tar holding RELEASE.btf, xz-compressed.
btfhub() {   # btfhub STORED_RELEASE DISTRO VERSION ARCH_DIR
  local rel=$1 dir=$emb/btfhub/$2/$3/$4
  mkdir -p "$dir"
  gzip -dc "$repo/tests/data/btf/$rel.btf.gz" > "$work/btf-raw/$rel.btf"
  tar -C "$work/btf-raw" -cf - "$rel.btf" | xz -1 > "$dir/$rel.btf.tar.xz"
}
if [ "$running" != 5.10.0-46-amd64 ]; then
  btfhub 5.10.0-46-amd64 debian 11 x86_64; expected+=("ebpf/btf/x64/5.10.0-46-amd64.btf.gz")
fi
btfhub 6.1.0-57-arm64 debian 12 arm64; expected+=("ebpf/btf/arm64/6.1.0-57-arm64.btf.gz")
cat > "$emb/Program.cs" <<'CS'
using System.Diagnostics;
using Ebpf;
using E2E;
using Microsoft.Extensions.Logging;

if (args.Length > 0 && args[0] == "--resources")
{
    foreach (var name in typeof(ExecSnoopSkeleton).Assembly.GetManifestResourceNames().Order(StringComparer.Ordinal))
        Console.WriteLine(name);
    return 0;
}
try
{
    using var skel = ExecSnoopSkeleton.Open(new BpfObjectOptions { Logger = new StderrLogger() });
    skel.Load();
    skel.Attach();
    using var reader = skel.Maps.Rb.CreateReader();
    using var child = Process.Start("/bin/true")!;
    child.WaitForExit();
    int childPid = child.Id, self = Environment.ProcessId;
    bool sawExec = false, sawExit = false, wrongParent = false;
    RingBufferEventHandler<ExecSnoopSkeleton.Event> onEvent = (ref readonly ExecSnoopSkeleton.Event e) =>
    {
        if (e.Pid != childPid) return;
        if (e.ExitEvent) sawExit = true; else sawExec = true;
        // ppid is read with CO-RE (task_struct->real_parent->tgid): right only if the BTF it was relocated against is
        if (e.Ppid != self) wrongParent = true;
        Console.WriteLine($"EVENT {(e.ExitEvent ? "exit" : "exec")} pid={e.Pid} ppid={e.Ppid} self={self}");
    };
    var deadline = DateTime.UtcNow.AddSeconds(10);
    while (!(sawExec && sawExit) && DateTime.UtcNow < deadline)
        reader.Poll(onEvent, timeoutMs: 100);
    if (!(sawExec && sawExit) || wrongParent)
    {
        Console.Error.WriteLine($"events for pid {childPid}: exec {sawExec}, exit {sawExit}, wrong parent {wrongParent}");
        return 1;
    }
    return 0;
}
catch (BpfException e)
{
    Console.Error.WriteLine($"ERROR {e.GetType().Name}: {e.Message}");
    return 3;
}

sealed class StderrLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Console.Error.WriteLine("LOG " + formatter(state, exception));
}
CS
dotnet build "$emb" -c Release -nologo -v n > "$work/build-btf.log" 2>&1 || { cat "$work/build-btf.log"; fail embed; }
resources=$(dotnet "$emb/bin/Release/net10.0/App.dll" --resources) || fail "embed: the app cannot list its resources"
echo "$resources" | sed 's/^/E2E: resource /'
for r in "${expected[@]}"; do
  echo "$resources" | grep -qxF "$r" || fail "embed: no resource $r"
done
n=$(echo "$resources" | grep -c '^ebpf/btf/')
[ "$n" = "${#expected[@]}" ] || fail "embed: $n embedded kernel BTFs, expected ${#expected[@]}"
grep -q 'ebpf: kernel 6.1.0-57-arm64 (arm64): ' "$work/build-btf.log" || fail "embed: the arm64 archive was not minimized as arm64"
step embed

# ---- incremental: nothing to minimize again
minimized=$(find "$emb/obj" -path '*/ebpf/btf/*' -name '*.btf.gz' | sort)
[ -n "$minimized" ] || fail "embed-incremental: no minimized BTF under obj/"
before=$(for f in $minimized; do stat -c '%n %Y.%y' "$f"; done)
sleep 1
dotnet build "$emb" -c Release -nologo -v n > "$work/build-btf2.log" 2>&1 || { cat "$work/build-btf2.log"; fail embed-incremental; }
after=$(for f in $minimized; do stat -c '%n %Y.%y' "$f"; done)
[ "$before" = "$after" ] || fail "embed-incremental: a no-op build rewrote the minimized BTF"
grep -q 'Skipping target "EbpfMinimizeKernelBtf" because all output files are up-to-date' "$work/build-btf2.log" \
  || fail "embed-incremental: EbpfMinimizeKernelBtf was not skipped"
step embed-incremental

# ---- run with the kernel's BTF hidden: a mount namespace where /sys/kernel/btf/vmlinux is an empty file
if [ "$(id -u)" = "0" ] && [ $embed_running = 1 ] && command -v unshare > /dev/null \
   && [ -d /sys/kernel/tracing/events -o -d /sys/kernel/debug/tracing/events ]; then
  : > "$work/empty"
  echo 0.0.0-e2e-none > "$work/osrelease"
  hidden() {   # hidden [OSRELEASE_FILE] -- runs the app with vmlinux hidden (and another release, if given)
    unshare -m /bin/sh -c 'mount --bind "$1" /sys/kernel/btf/vmlinux || exit 99
      [ -n "$2" ] && { mount --bind "$2" /proc/sys/kernel/osrelease || exit 99; }
      exec dotnet "$3"' _ "$work/empty" "${1:-}" "$emb/bin/Release/net10.0/App.dll"
  }
  out=$(hidden 2>&1) || { echo "$out"; fail "embed-run: the app failed with the kernel's BTF hidden"; }
  echo "$out" | grep '^EVENT\|^LOG kernel BTF'
  echo "$out" | grep -q "LOG kernel BTF: embedded ebpf/btf/\(x64/\|arm64/\)\?$running.btf.gz of App" \
    || fail "embed-run: the log does not say the embedded BTF of $running was used"
  echo "$out" | grep -q '^EVENT exec pid=' || fail "embed-run: no event read"
  step embed-run

  rc=0; out=$(hidden "$work/osrelease" 2>&1) || rc=$?
  echo "$out" | grep -v '^LOG feature probe'

  [ $rc = 3 ] || fail "embed-none: expected the app's load error (exit 3), got $rc"
  echo "$out" | grep -q 'this kernel (0.0.0-e2e-none.*) has no BTF: /sys/kernel/btf/vmlinux is empty' \
    || fail "embed-none: the error does not name the release and the empty vmlinux"
  echo "$out" | grep -q 'embedded in App: .*6.1.0-56-amd64\|embedded in App: .*5.10.0-46-amd64' \
    || fail "embed-none: the error does not list the embedded releases"
  step embed-none
else
  echo "E2E: embed-run skipped (needs root, unshare, tracefs and this kernel's BTF)"
fi

# ---- BpfSource compiled with clang
if command -v clang > /dev/null; then
  src=$work/app_src
  new_project "$src" "    <BpfSource Include=\"counter.bpf.c\" IncludeDirectories=\"$repo/bpf;$repo/bpf/include\" Defines=\"COUNTER_STEP=2\" />"
  cat > "$src/counter.bpf.c" <<'C'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");
__u64 calls = 0;
SEC("tp/syscalls/sys_enter_getpid")
int count(void *ctx)
{
	calls += COUNTER_STEP;
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
C
  cat > "$src/Program.cs" <<'CS'
using E2E;
Console.WriteLine(typeof(CounterSkeleton).FullName + " " + CounterSkeleton.ObjectName);
CS
  dotnet build "$src" -c Release -nologo -v q > "$work/build-src.log" 2>&1 || { cat "$work/build-src.log"; fail bpfsource; }
  out=$(dotnet "$src/bin/Release/net10.0/App.dll")
  [ "$out" = "E2E.CounterSkeleton counter" ] || fail "bpfsource: unexpected output '$out'"
  step bpfsource

  # ---- clang missing: EBPF100
  cp -r "$src" "$work/app_noclang"
  rm -rf "$work/app_noclang/obj" "$work/app_noclang/bin"
  if dotnet build "$work/app_noclang" -c Release -nologo -v q -p:BpfClang=/nonexistent/clang > "$work/build-noclang.log" 2>&1; then
    fail "noclang: the build succeeded without clang"
  fi
  grep -q 'error EBPF100: clang was not found' "$work/build-noclang.log" || { cat "$work/build-noclang.log"; fail "noclang: no EBPF100"; }
  step noclang
else
  echo "E2E: bpfsource skipped (no clang)"
fi
echo "E2E: all ok"
