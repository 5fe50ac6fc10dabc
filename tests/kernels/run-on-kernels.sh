#!/bin/bash
# run-on-kernels.sh - run a host command, unchanged, under other Linux kernels (Debian's 5.10, 6.1 and 6.12) in
# qemu, to exercise what the host kernel lacks (kprobes, kprobe.multi, fentry/fexit/fmod_ret, BPF LSM) and what older
# kernels lack (memory-cgroup accounting of BPF memory, BPF cookies, perf-event links, syscall programs, ...).
#
#   run-on-kernels.sh [options] [-k KERNEL_DIR]... -- COMMAND [ARG...]
#   run-on-kernels.sh --arch arm64 [options] [-k KERNEL_DIR]... -- COMMAND [ARG...]
#
# Each KERNEL_DIR is a `dpkg -x linux-image-*.deb DIR` tree (boot/vmlinuz-*, lib/modules/<ver>/); without -k,
# every directory under $EBPF_KERNELS (default /tmp/rig/kernels) is used; --fetch downloads into it first the newest
# linux-image-<ver>-amd64-unsigned of each series apt knows (bookworm: 6.1 and 6.12) and bullseye's newest 5.10
# (through a private apt state with bullseye suites on the machine's own Debian mirrors; /etc/apt is not touched).
# The guest's RLIMIT_MEMLOCK is the kernel's default for init (64 KiB before 5.16, 8 MiB after), as for a service.
# The kernel boots in qemu (the decompressed ELF vmlinux through its PVH entry, or --bzimage) with a busybox
# initramfs built and cached from that tree (tests/kernels/guest-init.sh is its /init); the host's / is shared
# read-only over 9p under a tmpfs overlay (guest writes succeed and are discarded); tracefs, debugfs, bpffs
# and cgroup2 are mounted; the command runs chrooted as root with the caller's environment and working
# directory, stdout+stderr merged and printed here, one kernel after the other. The kernel command line gets
# lsm=lockdown,capability,yama,bpf so that BPF LSM programs can attach (change with --append).
#
# With --arch arm64, Debian's arm64 kernels boot in qemu-system-aarch64 (the "virt" board, TCG: no host
# acceleration for a foreign architecture) and the guest's / is an arm64 root filesystem made only from Debian
# packages (debootstrap; `--arch arm64 --fetch` makes it with tests/kernels/arm64-fetch.sh), under a tmpfs
# overlay. The host's / is not visible there: the caller's working directory and every --share DIR are shared at
# the same path (read-only under a tmpfs overlay), -w DIR read-write. The command must therefore be an arm64
# program (or a script) inside one of them or in the root filesystem: publish .NET code self-contained for
# linux-arm64.
#
# Options:
#   -k, --kernel DIR    a kernel tree (repeatable; default: every dir under $EBPF_KERNELS, or
#                       $EBPF_KERNELS_ARM64 with --arch arm64)
#       --fetch         apt-get download + dpkg -x the newest 6.x kernels and (x86_64) bullseye's 5.10 first (needs
#                       apt sources); with --arch arm64 also make the arm64 root filesystem when it is missing
#       --arch ARCH     x86_64 (default) or arm64 (also: amd64, aarch64)
#       --rootfs DIR    (arm64) the guest's root filesystem (default $EBPF_ROOTFS_ARM64, /tmp/rig/rootfs-arm64)
#   -s, --share DIR     (arm64) share host DIR at the same path, read-only under a tmpfs overlay (repeatable; the
#                       working directory is always shared)
#   -t, --timeout SECS  kill qemu after SECS (exit 124 for that kernel; default 900)
#   -m, --mem SIZE      guest memory (default 3G)
#   -c, --cpus N        guest vCPUs (default: host nproc)
#   -a, --accel MODE    auto|kvm|tcg (auto: kvm only with a real kvm_intel/kvm_amd and the host's architecture,
#                       else tcg)
#   -w, --rw DIR        share host DIR read-write at the same path (repeatable; results out of the guest)
#   -v, --verbose       stream the guest kernel console to stderr
#       --bzimage       boot vmlinuz as shipped (slower under TCG: the decompressor runs emulated)
#       --append ARGS   kernel command-line arguments (replace the default lsm=...)
# Env: EBPF_KERNELS (kernel trees, default /tmp/rig/kernels), EBPF_KERNELS_ARM64 (default
#      /tmp/rig/kernels-arm64), EBPF_ROOTFS_ARM64, EBPF_RIG_CACHE (vmlinux + initramfs cache, default
#      /tmp/rig/cache), EBPF_RIG_RUNS (run dirs, default /tmp/rig/runs)
# Exit: 0 when the command succeeded under every kernel; else the last failing code (124 timeout, 125 the
#       rig itself failed: boot, mounts; the console tail is printed).
#
# Example (the kprobe/fentry/lsm tests, from a Release build of the test project):
#   tests/kernels/run-on-kernels.sh -- tests/Ebpf.Runtime.Tests/bin/Release/net10.0/Ebpf.Runtime.Tests -noColor \
#       -class Ebpf.Runtime.Tests.Attach.KprobeAttachTests -class Ebpf.Runtime.Tests.Attach.TrampolineAttachTests
# The same on arm64 (tests/kernels/arm64-publish.sh publishes the test suite and the sample for linux-arm64):
#   tests/kernels/run-on-kernels.sh --arch arm64 -- tests/kernels/out/arm64/runtime-tests/Ebpf.Runtime.Tests \
#       -noColor -class Ebpf.Runtime.Tests.Attach.KprobeAttachTests
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${EBPF_RIG_CACHE:-/tmp/rig/cache}
RUNS=${EBPF_RIG_RUNS:-/tmp/rig/runs}
TIMEOUT=900 MEM=3G CPUS=$(nproc) ACCEL=auto VERBOSE=0 BZIMAGE=0 FETCH=0
APPEND="lsm=lockdown,capability,yama,bpf"
KDIRS=() RW=() SHARES=() ARCH=x86_64 ROOTFS=
usage() { sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 125; }
while [ $# -gt 0 ]; do
    case "$1" in
        -k|--kernel) KDIRS+=("$2"); shift 2 ;;
        --fetch) FETCH=1; shift ;;
        -t|--timeout) TIMEOUT=$2; shift 2 ;;
        -m|--mem) MEM=$2; shift 2 ;;
        -c|--cpus) CPUS=$2; shift 2 ;;
        -a|--accel) ACCEL=$2; shift 2 ;;
        -w|--rw) RW+=("$(realpath -m "$2")"); shift 2 ;;
        -s|--share) SHARES+=("$(realpath -m "$2")"); shift 2 ;;
        --arch) ARCH=$2; shift 2 ;;
        --rootfs) ROOTFS=$(realpath -m "$2"); shift 2 ;;
        -v|--verbose) VERBOSE=1; shift ;;
        --bzimage) BZIMAGE=1; shift ;;
        --append) APPEND=$2; shift 2 ;;
        -h|--help) usage ;;
        --) shift; break ;;
        *) echo "run-on-kernels: unknown argument $1" >&2; usage ;;
    esac
done
[ $# -gt 0 ] || usage
die() { echo "run-on-kernels: $*" >&2; exit 125; }
HOST_ARCH=$(uname -m)
# Per architecture: the qemu binary (and its Debian package), the board, the kernel console, the command channel,
# the kernel trees and the root. FOREIGN: the guest cannot run the host's binaries, so its / is its own root
# filesystem (Debian packages) and only the working directory and --share/-w directories come from the host.
case "$ARCH" in
    x86_64|amd64)
        ARCH=x86_64 QEMU=qemu-system-x86_64 QEMU_PKG=qemu-system-x86 MACHINE=() CONSOLE=ttyS0 OUTDEV=ttyS1
        KERNELS_DIR=${EBPF_KERNELS:-/tmp/rig/kernels}
        EXTRA_MODULES= ;;
    arm64|aarch64)
        ARCH=arm64 QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm MACHINE=(-M virt) CONSOLE=ttyAMA0 OUTDEV=hvc0
        KERNELS_DIR=${EBPF_KERNELS_ARM64:-/tmp/rig/kernels-arm64}
        EXTRA_MODULES=virtio_console ;;   # the command channel is a virtio console: the board has one UART
    *) die "--arch must be x86_64 or arm64" ;;
esac
FOREIGN=0
case "$ARCH:$HOST_ARCH" in x86_64:x86_64|arm64:aarch64) ;; *) FOREIGN=1 ;; esac
[ -n "$ROOTFS" ] || { [ $FOREIGN = 1 ] && ROOTFS=${EBPF_ROOTFS_ARM64:-/tmp/rig/rootfs-arm64}; }
command -v $QEMU >/dev/null || die "$QEMU missing (apt-get install $QEMU_PKG)"
[ $FETCH = 1 ] && [ $ARCH = arm64 ] && { "$HERE/arm64-fetch.sh" "$KERNELS_DIR" $ROOTFS || die "arm64-fetch.sh failed"; FETCH=0; }
if [ -n "$ROOTFS" ]; then
    [ -d "$ROOTFS/usr/bin" ] || die "no root filesystem at $ROOTFS (make it with --arch $ARCH --fetch)"
    BUSYBOX=${EBPF_RIG_BUSYBOX:-$ROOTFS/bin/busybox}
    [ -f "$BUSYBOX" ] || die "$BUSYBOX missing (the root filesystem needs busybox-static)"
else
    BUSYBOX=${EBPF_RIG_BUSYBOX:-/bin/busybox}   # static: it runs before any libc exists
    [ -x "$BUSYBOX" ] || die "static busybox missing (apt-get install busybox-static)"
fi
readelf -l "$BUSYBOX" 2>/dev/null | grep -q INTERP && die "$BUSYBOX is not static (apt-get install busybox-static)"

# ---- kernels ------------------------------------------------------------------------------------------------
fetch_kernels() {   # the newest linux-image-<ver>-amd64-unsigned of each series apt knows
    local debs=$CACHE/debs pkgs pkg deb tmp z kver
    mkdir -p "$KERNELS_DIR" "$debs"
    mapfile -t pkgs < <(apt-cache search --names-only '^linux-image-[0-9].*-amd64-unsigned$' | awk '{print $1}' |
        grep -v -- '-cloud-\|-rt-' | sort -V | awk '{v=$0; sub(/^linux-image-/, "", v); split(v, p, /[.-]/); last[p[1] "." p[2]] = $0}
        END {for (k in last) print last[k]}' | sort -V)
    [ ${#pkgs[@]} -gt 0 ] || die "apt knows no linux-image-*-amd64-unsigned (apt-get update?)"
    for pkg in "${pkgs[@]}"; do
        deb=$(ls -1 "$debs/${pkg}"_*.deb 2>/dev/null | tail -1)
        [ -n "$deb" ] || { (cd "$debs" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"; deb=$(ls -1 "$debs/${pkg}"_*.deb | tail -1); }
        tmp=$(mktemp -d "$KERNELS_DIR/.x.XXXXXX"); dpkg -x "$deb" "$tmp"
        z=$(ls -1 "$tmp"/boot/vmlinuz-* 2>/dev/null | head -1); [ -n "$z" ] || die "$deb has no boot/vmlinuz-*"
        kver=${z##*/vmlinuz-}; rm -rf "${KERNELS_DIR:?}/$kver"; mv "$tmp" "$KERNELS_DIR/$kver"
        echo "run-on-kernels: kernel $kver in $KERNELS_DIR/$kver" >&2
    done
}
# the mirror URIs of the machine's Debian apt sources (deb822 .sources and one-line .list files), main then security
apt_mirrors() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' "$f"; done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' "$f"; done
}

fetch_bullseye_510() {   # bullseye's newest linux-image-5.10.*-amd64-unsigned, with a private apt state
    local a=$CACHE/apt-bullseye debs=$CACHE/debs main sec pkg deb tmp z kver
    local opts=(-o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$a/lists"
                -o Dir::Cache="$a/cache" -o Dir::State::status=/dev/null)
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$debs" "$KERNELS_DIR"
    main=$(apt_mirrors | grep -v security | head -1); sec=$(apt_mirrors | grep security | head -1)
    [ -n "$main" ] || die "no Debian mirror in /etc/apt sources: cannot fetch bullseye's 5.10"
    {
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main bullseye main"
        [ -n "$sec" ] && echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $sec bullseye-security main"
    } > "$a/sources.list"
    apt-get "${opts[@]}" update -qq >&2 || die "apt-get update of the bullseye suites failed"
    pkg=$(apt-cache "${opts[@]}" search --names-only '^linux-image-5\.10\.0-[0-9]+-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1)
    [ -n "$pkg" ] || die "bullseye offers no linux-image-5.10.*-amd64-unsigned"
    deb=$(ls -1 "$debs/${pkg}"_*.deb 2>/dev/null | tail -1)
    [ -n "$deb" ] || { (cd "$debs" && apt-get "${opts[@]}" download "$pkg" >&2) || die "apt-get download $pkg failed"; deb=$(ls -1 "$debs/${pkg}"_*.deb | tail -1); }
    tmp=$(mktemp -d "$KERNELS_DIR/.x.XXXXXX"); dpkg -x "$deb" "$tmp"
    z=$(ls -1 "$tmp"/boot/vmlinuz-* 2>/dev/null | head -1); [ -n "$z" ] || die "$deb has no boot/vmlinuz-*"
    kver=${z##*/vmlinuz-}; rm -rf "${KERNELS_DIR:?}/$kver"; mv "$tmp" "$KERNELS_DIR/$kver"
    echo "run-on-kernels: kernel $kver in $KERNELS_DIR/$kver" >&2
}

[ $FETCH = 1 ] && { fetch_kernels; fetch_bullseye_510; }
if [ ${#KDIRS[@]} -eq 0 ]; then
    for d in "$KERNELS_DIR"/*/; do [ -d "$d/boot" ] && KDIRS+=("${d%/}"); done
    [ ${#KDIRS[@]} -gt 0 ] || die "no kernels under $KERNELS_DIR (use --fetch, or -k DIR)"
fi

# vmlinux_of VMLINUZ: the ELF vmlinux inside a bzImage, decompressed once into the cache (as the kernel's
# scripts/extract-vmlinux does: find a compressed stream by its magic, keep the first result that is ELF)
vmlinux_of() {
    local z=$1 kver out tmp magic cmd off
    kver=${z##*/vmlinuz-}; out=$CACHE/$kver/vmlinux
    if [ -s "$out" ] && [ "$out" -nt "$z" ]; then echo "$out"; return 0; fi
    mkdir -p "$CACHE/$kver"; tmp=$out.tmp.$$
    for magic in 'zstd:\x28\xb5\x2f\xfd' 'xz:\xfd\x37\x7a\x58\x5a\x00' 'gzip:\x1f\x8b\x08' 'lz4:\x02\x21\x4c\x18' 'bzip2:BZh' 'lzma:\x5d\x00\x00\x00'; do
        cmd=${magic%%:*}; magic=${magic#*:}
        for off in $(LC_ALL=C grep -obUaP "$magic" "$z" 2>/dev/null | cut -d: -f1 | head -5); do
            case "$cmd" in
                zstd) tail -c +$((off + 1)) "$z" | zstd -qdc 2>/dev/null > "$tmp" ;;
                xz) tail -c +$((off + 1)) "$z" | xz -dc 2>/dev/null > "$tmp" ;;
                gzip) tail -c +$((off + 1)) "$z" | gzip -dc 2>/dev/null > "$tmp" ;;
                lz4) tail -c +$((off + 1)) "$z" | lz4 -dc 2>/dev/null > "$tmp" ;;
                bzip2) tail -c +$((off + 1)) "$z" | bzip2 -dc 2>/dev/null > "$tmp" ;;
                lzma) tail -c +$((off + 1)) "$z" | xz -F lzma -dc 2>/dev/null > "$tmp" ;;
            esac
            if [ "$(head -c 4 "$tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then mv "$tmp" "$out"; echo "$out"; return 0; fi
        done
    done
    rm -f "$tmp"; return 1
}

# the modules the guest loads at boot (with their dependencies): its root over 9p + overlayfs, and what the
# network tests use (the guest cannot modprobe: its modules are not in the host's /lib/modules)
GUEST_MODULES="virtio_pci 9pnet_virtio 9p overlay veth sch_ingress cls_bpf $EXTRA_MODULES"

# initrd_of VMLINUZ MODDIR: busybox + guest-init.sh + $GUEST_MODULES with their dependencies, built once per kernel
# and script version into $CACHE/<kver>-ebpf-<key>/initrd.cpio.gz. Safe when several runs start at once: the entry's
# lock makes one build it while the others wait; it is staged in a private temporary directory and renamed into
# place only when complete, so no run ever sees (or caches) a half-built or partial initramfs. Complete means every
# module's .modinfo was read and every dependency it names is in the initramfs or built into the kernel: a module
# set that would not load fails the run instead of being cached. (An earlier version read .modinfo with
# `objcopy ... /dev/stdout`; objcopy replaces its output file, so whenever /dev/stdout was not a pipe it unlinked
# /dev/stdout and left a regular file there, from then on every read came back empty, and initramfs images without
# the dependencies - 9pnet, virtio, virtio_ring - were cached for good. readelf only prints.)
initrd_of() {
    local z=$1 moddir=$2 kver key dir st out
    kver=${z##*/vmlinuz-}
    key=$( { echo "$z"; stat -c %s.%Y "$z"; cat "$HERE/guest-init.sh" "${BASH_SOURCE[0]}"; stat -c %s "$BUSYBOX"; echo "$GUEST_MODULES"; } | sha1sum | cut -c1-12)
    dir=$CACHE/$kver-ebpf-$key; out=$dir/initrd.cpio.gz
    mkdir -p "$dir" || return 1
    exec 9> "$dir/.lock"; flock 9
    if [ ! -s "$out" ]; then
        st=$(mktemp -d "$dir/.stage.XXXXXX") || { exec 9>&-; return 1; }
        if build_initrd "$st" "$moddir" && (cd "$st/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$st/initrd.cpio.gz"; then
            mv -f "$st/initrd.cpio.gz" "$out"
        fi
        rm -rf "$st"
    fi
    exec 9>&-
    [ -s "$out" ] || { echo "run-on-kernels: no initramfs for $kver" >&2; return 1; }
    echo "$out"
}

# build_initrd STAGE MODDIR: the initramfs tree in STAGE/root; fails (saying why) unless the module set is complete
build_initrd() {
    local st=$1/root moddir=$2 f n
    mkdir -p "$st"/{bin,dev,proc,sys,modules}
    cp "$BUSYBOX" "$st/bin/busybox" && cp "$HERE/guest-init.sh" "$st/init" && chmod 755 "$st/init" || return 1
    mknod -m 600 "$st/dev/console" c 5 1 || return 1
    : > "$st/modules.list"
    [ -n "$moddir" ] || return 0
    declare -A file=() seen=()
    while IFS= read -r f; do n=${f##*/}; n=${n%%.ko*}; n=${n//-/_}; file[$n]=$f; done \
        < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')
    builtin_module() { grep -q "/${1//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null; }
    add() {   # add NAME: the module and, first, what it depends on (modules.list is in load order)
        local n=${1//-/_} src dst info deps d
        [ -n "${seen[$n]:-}" ] && return 0; seen[$n]=1
        src=${file[$n]:-}
        if [ -z "$src" ]; then
            builtin_module "$n" && return 0
            echo "run-on-kernels: module $n is neither built into $kver nor in $moddir" >&2; return 1
        fi
        dst=$st/modules/$n.ko
        case "$src" in *.xz) xz -dc "$src" > "$dst" ;; *.zst) zstd -qdc "$src" > "$dst" ;; *.gz) gzip -dc "$src" > "$dst" ;; *) cp "$src" "$dst" ;; esac ||
            { echo "run-on-kernels: cannot unpack $src" >&2; return 1; }
        # (readelf reads any architecture's ELF; the host's objcopy only its own.) modpost gives every module a
        # depends= entry, empty when it depends on nothing: without one, .modinfo was not read.
        info=$(readelf -p .modinfo "$dst" 2>&1) || { echo "run-on-kernels: readelf cannot read $src: $info" >&2; return 1; }
        deps=$(printf '%s\n' "$info" | sed -n 's/^ *\[ *[0-9a-f]*\] *depends=//p')
        printf '%s\n' "$info" | grep -q '^ *\[ *[0-9a-f]*\] *depends=' || { echo "run-on-kernels: no depends= in the .modinfo of $src" >&2; return 1; }
        for d in ${deps//,/ }; do add "$d" || return 1; done
        echo "$n" >> "$st/modules.list"
    }
    for n in $GUEST_MODULES; do add "$n" || return 1; done
    # complete: each module's dependencies are in the list before it, or built in
    local listed=" $(tr '\n' ' ' < "$st/modules.list")"
    for n in $(cat "$st/modules.list"); do
        for d in $(readelf -p .modinfo "$st/modules/$n.ko" | sed -n 's/^ *\[ *[0-9a-f]*\] *depends=//p' | tr ',' ' '); do
            d=${d//-/_}
            case "${listed%% $n *} " in *" $d "*) continue ;; esac
            builtin_module "$d" || { echo "run-on-kernels: $n needs $d, which comes after it or is missing" >&2; return 1; }
        done
    done
}

if [ "$ACCEL" = auto ]; then
    ACCEL=tcg
    if [ $FOREIGN = 0 ] && [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && [ ! -d /sys/module/kvm_pvm ]; then ACCEL=kvm; fi
fi
case "$ACCEL:$ARCH" in
    kvm:*) [ $FOREIGN = 0 ] || die "kvm cannot run a $ARCH guest on this $HOST_ARCH host"; ACCEL_ARGS=(-accel kvm -cpu host) ;;
    tcg:x86_64) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max) ;;
    # every arm64 feature qemu emulates (SVE, MTE, BTI, pointer authentication...) with pointer authentication's
    # cheap implementation-defined algorithm instead of QARMA, which dominates emulation time otherwise
    tcg:arm64) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max,pauth-impdef=on) ;;
    *) die "--accel must be auto, kvm or tcg" ;;
esac
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
shq() { local q="'\\''"; printf "'%s'" "${1//\'/$q}"; }

# run_one KERNEL_DIR COMMAND...: boots, runs, prints the output; returns the command's exit code
run_one() {
    local kdir vmlinuz kver bootimg moddir initrd run nonce rc t0 t1 qpid tailpid timed_out=0 d i mode
    kdir=$(realpath "$1"); shift
    vmlinuz=$(ls -1 "$kdir"/boot/vmlinuz-* 2>/dev/null | head -1); [ -n "$vmlinuz" ] || { echo "run-on-kernels: $kdir/boot/vmlinuz-* not found" >&2; return 125; }
    kver=${vmlinuz##*/vmlinuz-}
    bootimg=$vmlinuz   # arm64: an Image (gzip-compressed or not), which qemu boots as it is
    if [ $BZIMAGE = 0 ] && [ $ARCH = x86_64 ]; then
        bootimg=$(flock "$CACHE/.lock" bash -c "$(declare -f vmlinux_of); CACHE=$(shq "$CACHE"); vmlinux_of \"\$1\"" _ "$vmlinuz") &&
            readelf -n "$bootimg" 2>/dev/null | grep -q 'Xen.*(0x00000012)' || bootimg=$vmlinuz   # no PVH entry: boot the bzImage
    fi
    moddir=
    for d in "$kdir/lib/modules/$kver" "$kdir/usr/lib/modules/$kver"; do [ -d "$d" ] && moddir=$d; done
    initrd=$(initrd_of "$vmlinuz" "$moddir") || { echo "run-on-kernels: initramfs build failed for $kver" >&2; return 125; }

    mkdir -p "$RUNS"; run=$(realpath "$(mktemp -d "$RUNS/run.XXXXXX")")
    nonce=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
    {
        echo '#!/bin/sh'
        while IFS= read -r -d '' kv; do
            name=${kv%%=*}
            [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
            case "$name" in SHLVL|PWD|OLDPWD|_) continue ;; esac
            printf 'export %s=%s\n' "$name" "$(shq "${kv#*=}")"
        done < <(env -0)
        printf 'export EBPF_GUEST_KERNEL=%s\n' "$(shq "$kver")"
        # .NET's JIT keeps two views of its code (W^X: writable and executable mappings of one memfd). In an arm64
        # guest under TCG the process then dies of SIGSEGV within seconds of JIT-heavy work (xunit's discovery);
        # the same binary runs with W^X under qemu-user. So arm64 TCG guests run .NET with W^X off.
        [ $ARCH = arm64 ] && [ "$ACCEL" = tcg ] && [ -z "${DOTNET_EnableWriteXorExecute+x}" ] && printf 'export DOTNET_EnableWriteXorExecute=0\n'
        # The guest's / is the host's: give it this kernel's own config (for .kconfig externs), as an installed
        # Debian kernel would have it in /boot (the overlay makes /boot writable).
        printf '[ -e /boot/config-%s ] || cp %s /boot/ 2>/dev/null\n' "$kver" "$(shq "$run/config-$kver")"
        printf 'cd %s 2>/dev/null || { echo "run-on-kernels: no %s in the guest; cwd is /" >&2; cd /; }\n' "$(shq "$PWD")" "$(shq "$PWD")"
        printf 'exec'; for a in "$@"; do printf ' %s' "$(shq "$a")"; done; printf '\n'
    } > "$run/cmd.sh"
    cp "$kdir/boot/config-$kver" "$run/" 2>/dev/null
    local virtfs=(-virtfs "local,path=${ROOTFS:-/},mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
                  -virtfs "local,path=$run,mount_tag=run,security_model=none,multidevs=remap")
    local shares=()
    # a foreign guest sees the host's working directory (and --share DIRs) read-only, -w DIRs read-write
    [ -n "$ROOTFS" ] && [ "$PWD" != / ] && shares+=("ro $PWD")
    for d in "${SHARES[@]}"; do shares+=("ro $d"); done
    for d in "${RW[@]}"; do mkdir -p "$d"; shares+=("rw $d"); done
    : > "$run/shares"; i=0
    for d in "${shares[@]}"; do
        mode=${d%% *}; d=${d#* }
        case "$d" in *[[:space:]]*) echo "run-on-kernels: cannot share a path with whitespace: $d" >&2; return 125 ;; esac
        virtfs+=(-virtfs "local,path=$d,mount_tag=share$i,security_model=none,$([ $mode = ro ] && echo readonly=on,)multidevs=remap")
        echo "share$i $d $mode" >> "$run/shares"; i=$((i + 1))
    done
    local chan=(-chardev "file,id=out,path=$run/out.log")
    case "$OUTDEV" in
        ttyS1) chan+=(-serial chardev:out) ;;
        hvc0) chan+=(-device virtio-serial-pci -device virtconsole,chardev=out) ;;
    esac
    : > "$run/out.log"; : > "$run/console.log"
    t0=$(now_ms)
    $QEMU -nodefaults -no-user-config -display none -no-reboot "${MACHINE[@]}" \
        "${ACCEL_ARGS[@]}" -smp "$CPUS" -m "$MEM" \
        -kernel "$bootimg" -initrd "$initrd" \
        -append "console=$CONSOLE panic=-1 loglevel=$([ $VERBOSE = 1 ] && echo 7 || echo 4) rdinit=/init ebpf.run=$run ebpf.nonce=$nonce ebpf.verbose=$VERBOSE ebpf.out=$OUTDEV $APPEND" \
        -chardev "file,id=con,path=$run/console.log" -serial chardev:con \
        "${chan[@]}" "${virtfs[@]}" < /dev/null > "$run/qemu.log" 2>&1 &
    qpid=$!
    [ $VERBOSE = 1 ] && { tail -n +1 -s 0.2 -f --pid=$qpid "$run/console.log" >&2 & }
    tail -n +1 -s 0.2 -f --pid=$qpid "$run/out.log" | awk -v n="$nonce" '
        !on && index($0, "===EBPF-BEGIN-" n) == 1 { on = 1; next }
        on && (i = index($0, "===EBPF-END-" n)) { if (i > 1) printf "%s", substr($0, 1, i - 1); on = 0; fflush(); next }
        on { print; fflush() }' &
    tailpid=$!
    trap 'kill $qpid 2>/dev/null; echo "run-on-kernels: interrupted; run dir $run" >&2; exit 130' INT TERM
    while kill -0 $qpid 2>/dev/null; do
        if [ $(( $(now_ms) - t0 )) -gt $((TIMEOUT * 1000)) ]; then
            timed_out=1; kill $qpid 2>/dev/null; sleep 1; kill -9 $qpid 2>/dev/null; break
        fi
        sleep 0.2
    done
    wait $qpid 2>/dev/null; wait $tailpid 2>/dev/null
    trap - INT TERM
    t1=$(now_ms)
    rc=
    if [ -s "$run/rc" ]; then rc=$(cat "$run/rc")
    else rc=$(sed -n "s/^===EBPF-END-$nonce rc=\([0-9]*\) .*/\1/p" "$run/out.log" | tail -1); fi
    if [ $timed_out = 1 ]; then
        echo "run-on-kernels: $kver timed out after ${TIMEOUT}s; run dir kept: $run" >&2; return 124
    elif [ -z "$rc" ]; then
        echo "run-on-kernels: no result from the $kver guest; console tail ($run):" >&2
        grep -h "EBPF-FAIL-$nonce" "$run/out.log" >&2; tail -n 40 "$run/console.log" "$run/qemu.log" >&2
        return 125
    fi
    echo "run-on-kernels: kernel $kver ($ARCH, $ACCEL): rc $rc, $(( (t1 - t0) / 1000 ))s" >&2
    rm -rf "$run"
    return "$rc"
}

mkdir -p "$CACHE"
final=0
summary=()
for k in "${KDIRS[@]}"; do
    echo "===== $(basename "$k")" >&2
    run_one "$k" "$@"; rc=$?
    summary+=("$(basename "$k"): rc $rc")
    [ $rc = 0 ] || final=$rc
done
printf 'run-on-kernels: %s\n' "${summary[@]}" >&2
exit $final
