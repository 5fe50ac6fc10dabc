#!/usr/bin/env bash
# End to end as a user: pack Ebpf.Skeletons, consume it from a local folder feed in fresh projects, build them, and
# run one on the real kernel: ExecSnoopSkeleton.Open/Load/Attach, then read ring-buffer events as the generated type.
#
#   tests/e2e/package-e2e.sh WORKDIR
#
# Steps (each prints "E2E: <step> ok" on success; the script stops at the first failure):
#   pack         dotnet pack of every package (Ebpf.Skeletons, Ebpf.Skeletons.Hosting, Ebpf.Cli, Ebpf.Templates) into
#                WORKDIR/feed, in one command (package version 0.1.0-e2e.<timestamp>, so assemblies are not rebuilt;
#                private package cache)
#   quality      each package has its readme, license expression, repository (git, commit) and, where it has code,
#                XML docs and its PDBs (a .snupkg; Ebpf.Runtime's are embedded in the assembly)
#   tool         dotnet tool install --tool-path from the feed gives dotnet-ebpf, and `dotnet ebpf` runs it (PATH)
#   template     dotnet new install of Ebpf.Templates (a private template hive), dotnet new ebpf-tracer -n MyTool:
#                tracer.bpf.c, vmlinux.h dumped by our CLI, MyTool.csproj with BpfSource and the package; it builds
#                (clang compiles the .bpf.c)
#   template-run (root only) MyTool attaches and prints the exec of a /bin/true this script runs, with its parent pid
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

# ---- pack: every package in one command (a solution filter), so that their shared projects build once
packages=(Ebpf.Skeletons Ebpf.Skeletons.Hosting Ebpf.Cli Ebpf.Templates)
{ printf '{ "solution": { "path": "%s", "projects": [' "$repo/Skeletons.sln"
  sep=; for p in "${packages[@]}"; do printf '%s "src/%s/%s.csproj"' "$sep" "$p" "$p"; sep=,; done
  printf ' ] } }\n'; } > "$work/packages.slnf"
dotnet pack "$work/packages.slnf" -c Release -p:PackageOutputPath="$feed" -p:PackageVersion="$version" -nologo -v q \
  > "$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail pack; }
for p in "${packages[@]}"; do [ -f "$feed/$p.$version.nupkg" ] || { ls "$feed"; fail "pack: no $p.$version.nupkg"; }; done
step pack

# ---- quality: what every package carries
for p in "${packages[@]}"; do
  nupkg=$feed/$p.$version.nupkg
  nuspec=$(unzip -p "$nupkg" "$p.nuspec")
  files=$(unzip -Z1 "$nupkg")
  grep -q '<license type="expression">MIT</license>' <<< "$nuspec" || fail "quality: $p has no license expression"
  grep -q "<readme>README.md</readme>" <<< "$nuspec" && grep -qx README.md <<< "$files" || fail "quality: $p has no readme"
  grep -q '<repository type="git"[^>]* commit="[0-9a-f]\{40\}"' <<< "$nuspec" || fail "quality: $p has no repository type and commit"
  grep -q '<description>..' <<< "$nuspec" || fail "quality: $p has no description"
  case $p in
    Ebpf.Templates) ;;   # content only: no assemblies, no symbols
    Ebpf.Cli)
      symbols=$(unzip -Z1 "$feed/$p.$version.snupkg")   # here-strings: grep -q closing a pipe fails it under pipefail
      grep -q '^tools/net10.0/any/dotnet-ebpf.pdb$' <<< "$symbols" || fail "quality: $p.snupkg has no dotnet-ebpf.pdb" ;;
    Ebpf.Skeletons)
      # Its code is Ebpf.Runtime, built with its PDB embedded (a portable PDB blob starts with "MPDB").
      for tfm in net8.0 net10.0; do
        grep -qx "lib/$tfm/Ebpf.Runtime.xml" <<< "$files" || fail "quality: $p has no XML docs for lib/$tfm/Ebpf.Runtime.dll"
        [ "$(unzip -p "$nupkg" "lib/$tfm/Ebpf.Runtime.dll" | grep -ac MPDB)" -gt 0 ] || fail "quality: lib/$tfm/Ebpf.Runtime.dll has no embedded PDB"
      done ;;
    *)
      lib=$(echo "$files" | grep '^lib/net10.0/.*\.dll$' | head -1)
      [ -n "$lib" ] || fail "quality: $p has no lib/net10.0 assembly"
      grep -qx "${lib%.dll}.xml" <<< "$files" || fail "quality: $p has no XML docs for $lib"
      symbols=$(unzip -Z1 "$feed/$p.$version.snupkg")
      grep -qx "${lib%.dll}.pdb" <<< "$symbols" || fail "quality: $p.snupkg has no ${lib%.dll}.pdb" ;;
  esac
  echo "E2E: package $p: $(echo "$files" | wc -l) files, $(stat -c %s "$nupkg") bytes"
done
step quality

# ---- tool: Ebpf.Cli as a .NET tool, from the feed, into a tool path of its own
tools=$work/tools
dotnet tool install Ebpf.Cli --version "$version" --tool-path "$tools" --add-source "$feed" > "$work/tool.log" 2>&1 \
  || { cat "$work/tool.log"; fail "tool: dotnet tool install"; }
[ -x "$tools/dotnet-ebpf" ] || fail "tool: no dotnet-ebpf in $tools"
out=$("$tools/dotnet-ebpf" object info "$repo/bpf/exec_snoop.bpf.o" 2>&1) || { echo "$out"; fail "tool: dotnet-ebpf object info"; }
grep -q 'handle_exec' <<< "$out" || { echo "$out"; fail "tool: dotnet-ebpf object info does not list handle_exec"; }
# `dotnet ebpf` finds dotnet-ebpf on PATH, as after `dotnet tool install -g`.
out=$(PATH="$tools:$PATH" dotnet ebpf btf dump "$repo/tests/data/btf/5.10.0-46-amd64.btf.gz" --format c 2>&1) \
  || { echo "$out" | tail -5; fail "tool: dotnet ebpf btf dump"; }
[ "$(echo "$out" | grep -c '^struct task_struct {')" = 1 ] || fail "tool: dotnet ebpf btf dump --format c has no struct task_struct"
step tool

nuget_config() {   # nuget_config DIR: DIR/NuGet.config adds the feed, and no Directory.* file above DIR is imported
  local dir=$1
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
}

new_project() {   # new_project DIR ITEMS_XML
  local dir=$1 items=$2
  mkdir -p "$dir"
  nuget_config "$dir"
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
    reader.Poll(onEvent, TimeSpan.FromMilliseconds(100));
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
        reader.Poll(onEvent, TimeSpan.FromMilliseconds(100));
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
# ---- template: dotnet new ebpf-tracer from the feed's Ebpf.Templates, in a template hive of its own
if command -v clang > /dev/null; then
  hive=$work/template-hive tpl=$work/tpl
  mkdir -p "$tpl"
  nuget_config "$tpl"
  dotnet new install "$feed/Ebpf.Templates.$version.nupkg" --debug:custom-hive "$hive" > "$work/template-install.log" 2>&1 \
    || { cat "$work/template-install.log"; fail "template: dotnet new install"; }
  (cd "$tpl" && dotnet new ebpf-tracer -n MyTool --debug:custom-hive "$hive") > "$work/template-new.log" 2>&1 \
    || { cat "$work/template-new.log"; fail "template: dotnet new ebpf-tracer"; }
  proj=$tpl/MyTool
  for f in MyTool.csproj Program.cs tracer.bpf.c vmlinux.h README.md; do [ -f "$proj/$f" ] || fail "template: no $f"; done
  grep -q '<BpfSource Include="tracer.bpf.c"' "$proj/MyTool.csproj" || fail "template: MyTool.csproj has no BpfSource"
  grep -q "<PackageReference Include=\"Ebpf.Skeletons\" Version=\"$version\"" "$proj/MyTool.csproj" || fail "template: MyTool.csproj does not reference Ebpf.Skeletons $version"
  grep -q 'BPF_CORE_READ' "$proj/tracer.bpf.c" && grep -q 'BPF_MAP_TYPE_RINGBUF' "$proj/tracer.bpf.c" || fail "template: tracer.bpf.c is not a CO-RE ring-buffer program"
  # vmlinux.h is the CLI's dump of the kernel BTF the package was made from, byte for byte.
  "$tools/dotnet-ebpf" btf dump "$repo/tests/data/btf/6.1.0-56-amd64.btf.gz" --format c > "$work/vmlinux.expected.h"
  cmp -s "$proj/vmlinux.h" "$work/vmlinux.expected.h" || fail "template: vmlinux.h is not dotnet ebpf btf dump --format c of 6.1.0-56-amd64"
  grep -q 'namespace MyTool\|using MyTool;' "$proj/Program.cs" || fail "template: Program.cs does not use the project's namespace"
  dotnet build "$proj" -c Release -nologo -v q > "$work/template-build.log" 2>&1 || { cat "$work/template-build.log"; fail "template: build"; }
  [ -f "$proj/bin/Release/net10.0/MyTool.dll" ] || fail "template: no MyTool.dll"
  step template

  if [ "$(id -u)" = "0" ] && [ -d /sys/kernel/tracing/events -o -d /sys/kernel/debug/tracing/events ]; then
    out=$work/mytool.out
    dotnet "$proj/bin/Release/net10.0/MyTool.dll" --duration 6 > "$out" 2>&1 &
    tool_pid=$!
    for _ in $(seq 300); do grep -q '^Tracing exec' "$out" && break; kill -0 $tool_pid 2>/dev/null || break; sleep 0.1; done
    grep -q '^Tracing exec' "$out" || { cat "$out"; fail "template-run: MyTool did not attach"; }
    for _ in 1 2 3; do /bin/true; done
    wait $tool_pid || { cat "$out"; fail "template-run: MyTool failed"; }
    # PID PPID COMM FILENAME: the parent (read with BPF_CORE_READ) is this script.
    grep -E "^[0-9]+ +$BASHPID +true +/bin/true\$" "$out" || { cat "$out"; fail "template-run: no exec of /bin/true with parent $BASHPID"; }
    step template-run
  else
    echo "E2E: template-run skipped (needs root and tracefs)"
  fi
else
  echo "E2E: template skipped (no clang)"
fi
echo "E2E: all ok"
