#!/bin/bash
# arm64-fetch.sh KERNELS_DIR [ROOTFS_DIR] - what `run-on-kernels.sh --arch arm64` boots, from Debian packages only.
#
# 1. Kernels: the newest linux-image-<ver>-arm64-unsigned of each series the machine's Debian suites offer
#    (bookworm: 6.1 and 6.12), `apt-get download`ed and unpacked with `dpkg -x` into KERNELS_DIR/<version>/.
#    The arm64 package lists come from a private apt state directory ($EBPF_RIG_CACHE/apt-arm64) that reads the
#    machine's own mirrors: nothing under /etc/apt changes and the machine's apt/dpkg architectures stay as they
#    are. Set EBPF_ARM64_KERNELS="PKG..." to name the packages instead.
# 2. Root filesystem (when ROOTFS_DIR is given and not made yet): `debootstrap --arch arm64 --foreign
#    --variant=minbase` with what the tests and the sample exec (bash, coreutils, iproute2, busybox-static for the
#    initramfs, libicu for .NET globalization, procps, bpftool), then the second stage chrooted into it through
#    qemu-user (qemu-aarch64-static, registered with binfmt_misc for that step only when it is not already).
#
# Needs: root, apt, dpkg, debootstrap, qemu-user-static, and the machine's Debian keyring
# (/usr/share/keyrings/debian-archive-keyring.gpg).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] && [ $# -le 2 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
KERNELS_DIR=$1 ROOTFS=${2:-}
CACHE=${EBPF_RIG_CACHE:-/tmp/rig/cache}
A=$CACHE/apt-arm64 DEBS=$CACHE/debs-arm64
SUITE=${EBPF_ARM64_SUITE:-bookworm}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
die() { echo "arm64-fetch: $*" >&2; exit 1; }
[ -f "$KEYRING" ] || die "$KEYRING missing (apt-get install debian-archive-keyring)"
mkdir -p "$KERNELS_DIR" "$DEBS" "$A/lists/partial" "$A/cache/archives/partial"

# ---- a private apt state for arm64 over the machine's own mirrors ----------------------------------------------
main_uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources /dev/null 2>/dev/null || true)
sec_uri=$(awk '/^URIs:/ && $2 ~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources /dev/null 2>/dev/null || true)
[ -n "$main_uri" ] || main_uri=$(awk '$1 == "deb" && $2 !~ /security/ && $2 !~ /^\[/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$main_uri" ] || die "no Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
{
    echo "deb [arch=arm64 signed-by=$KEYRING] $main_uri $SUITE main"
    echo "deb [arch=arm64 signed-by=$KEYRING] $main_uri $SUITE-updates main"
    [ -z "$sec_uri" ] || echo "deb [arch=arm64 signed-by=$KEYRING] $sec_uri $SUITE-security main"
} > "$A/sources.list"
APTO=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$A/lists"
      -o Dir::Cache="$A/cache" -o Dir::State::status=/dev/null -o APT::Architecture=arm64 -o APT::Architectures::=arm64
      -o APT::Sandbox::User=root)
apt-get "${APTO[@]}" update -qq || die "apt-get update of the arm64 lists failed"

# download PKG: prints the .deb's path (downloaded once into $DEBS)
download() {
    local deb
    deb=$(ls -1 "$DEBS/${1}"_*.deb 2>/dev/null | tail -1 || true)
    [ -n "$deb" ] || { (cd "$DEBS" && apt-get "${APTO[@]}" download "$1" >&2) || die "apt-get download $1 failed"
                       deb=$(ls -1 "$DEBS/${1}"_*.deb | tail -1); }
    echo "$deb"
}

# ---- 1. kernels -------------------------------------------------------------------------------------------------
if [ -n "${EBPF_ARM64_KERNELS:-}" ]; then
    read -r -a pkgs <<< "$EBPF_ARM64_KERNELS"
else
    mapfile -t pkgs < <(apt-cache "${APTO[@]}" search --names-only '^linux-image-[0-9].*-arm64-unsigned$' | awk '{print $1}' |
        grep -v -- '-cloud-\|-rt-\|-16k-' | sort -V | awk '{v=$0; sub(/^linux-image-/, "", v); split(v, p, /[.-]/); last[p[1] "." p[2]] = $0}
        END {for (k in last) print last[k]}' | sort -V)
fi
[ ${#pkgs[@]} -gt 0 ] || die "the $SUITE arm64 lists have no linux-image-*-arm64-unsigned"
for pkg in "${pkgs[@]}"; do
    deb=$(download "$pkg")
    tmp=$(mktemp -d "$KERNELS_DIR/.x.XXXXXX"); dpkg -x "$deb" "$tmp"
    z=$(ls -1 "$tmp"/boot/vmlinuz-* 2>/dev/null | head -1); [ -n "$z" ] || die "$deb has no boot/vmlinuz-*"
    kver=${z##*/vmlinuz-}; rm -rf "${KERNELS_DIR:?}/$kver"; mv "$tmp" "$KERNELS_DIR/$kver"
    echo "arm64-fetch: kernel $kver in $KERNELS_DIR/$kver ($(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version))" >&2
done

# ---- 2. root filesystem -----------------------------------------------------------------------------------------
[ -n "$ROOTFS" ] || exit 0
if [ -x "$ROOTFS/usr/bin/bash" ] && [ ! -e "$ROOTFS/debootstrap" ] && [ -f "$ROOTFS/bin/busybox" ]; then
    echo "arm64-fetch: root filesystem $ROOTFS is already made" >&2
    exit 0
fi
command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
QEMU_USER=$(command -v qemu-aarch64-static || true)
[ -n "$QEMU_USER" ] || die "qemu-aarch64-static missing (apt-get install qemu-user-static)"
INCLUDE=iproute2,busybox-static,libicu72,procps,bpftool
rm -rf "${ROOTFS:?}"; mkdir -p "$ROOTFS"
echo "arm64-fetch: debootstrap first stage ($SUITE arm64, minbase + $INCLUDE) into $ROOTFS" >&2
debootstrap --arch=arm64 --foreign --variant=minbase --include="$INCLUDE" --keyring="$KEYRING" \
    "$SUITE" "$ROOTFS" "$main_uri" >&2 || die "debootstrap --foreign failed (see $ROOTFS/debootstrap/debootstrap.log)"

# The second stage runs the packages' arm64 maintainer scripts: through qemu-user, which the kernel starts for arm64
# ELF files once binfmt_misc knows it. When no qemu-aarch64 entry is registered, one is registered for this step
# only (flag F: the interpreter is opened now, so it works inside the chroot) and removed again afterwards; this is
# the only change to the machine's state, and it does not outlive the script.
BINFMT=/proc/sys/fs/binfmt_misc
mountpoint -q "$BINFMT" || mount -t binfmt_misc binfmt_misc "$BINFMT" || die "cannot mount binfmt_misc on $BINFMT"
ENTRY=
if ! grep -qs '^enabled' "$BINFMT"/qemu-aarch64 "$BINFMT"/ebpf-qemu-aarch64; then
    ENTRY=$BINFMT/ebpf-qemu-aarch64
    printf '%s' ':ebpf-qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$QEMU_USER"':F' \
        > "$BINFMT/register" || die "cannot register qemu-aarch64-static with binfmt_misc"
    trap '[ -e "$ENTRY" ] && echo -1 > "$ENTRY"' EXIT
fi
echo "arm64-fetch: debootstrap second stage (qemu-user; a few minutes)" >&2
# The root filesystem's /dev stays empty: the guest mounts a devtmpfs there.
container=lxc chroot "$ROOTFS" /debootstrap/debootstrap --second-stage >&2 ||
    die "the second stage failed (see $ROOTFS/debootstrap/debootstrap.log)"
[ -n "$ENTRY" ] && { echo -1 > "$ENTRY"; trap - EXIT; }
rm -rf "${ROOTFS:?}/var/cache/apt/archives/"*.deb "$ROOTFS/var/lib/apt/lists/"*_Packages
[ -x "$ROOTFS/usr/bin/bash" ] && [ -f "$ROOTFS/bin/busybox" ] || die "the root filesystem is incomplete"
echo "arm64-fetch: root filesystem ready: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1))" >&2
