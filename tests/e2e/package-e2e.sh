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
