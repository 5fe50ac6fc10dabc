#!/bin/bash
# extract-kernel-btf.sh SOURCE [OUT]
#
# Extract the raw kernel BTF (the bytes a running kernel exposes at
# /sys/kernel/btf/vmlinux) from a Debian kernel image, without booting it.
#
# SOURCE is one of:
#   linux-image-<ver>-amd64-unsigned[=<debversion>]
#                     a Debian package name: fetched with `apt-get download`
#                     (needs a prior `apt-get update`) into a temp dir
#   path/to/*.deb     an already downloaded kernel package
#   path/to/DIR       a `dpkg -x` tree containing boot/vmlinuz-*
#   path/to/vmlinuz-* a bzImage, or an arm64 Image (as Debian's arm64 packages ship it; gzip-compressed or not)
#   path/to/vmlinux   an uncompressed ELF kernel image
# OUT (default ./<kernel-version>.btf):
#   a file path; if it ends in .gz the BTF is written `gzip -9n` compressed
#   (deterministic: no name, no timestamp); if it is an existing directory,
#   <OUT>/<kernel-version>.btf is written.
#
# Steps: dpkg -x -> boot/vmlinuz-<ver> -> locate the compressed payload (from
# the x86 boot header: (setup_sects+1)*512 + payload_offset, payload_length;
# falling back to the kernel's scripts/extract-vmlinux approach: scan for
# gzip/xz/zstd/lzma/lz4/bzip2/lzop magics and try each offset) -> decompress
# -> ELF vmlinux -> `objcopy -O binary --only-section=.BTF` -> check the BTF
# header (magic 0xeB9F, sizes add up to the file size). An arm64 Image has no ELF section table: the
# .BTF section is found by its header (magic, version 1, 24-byte header, types at 0, strings right
# after them, a string table that starts and ends with NUL) and cut out with the sizes it states.
#
# Prints one line to stdout:
#   kver=<ver> package=<pkg> version=<debversion> size=<bytes> sha256=<raw BTF sha256> out=<OUT>
# (package/version are "-" when SOURCE was not a package or .deb).
#
# Needs: apt-get + dpkg (package/.deb input), binutils (objcopy, readelf),
# coreutils, grep, xz-utils, zstd, gzip, bzip2, lz4, lzop (only for such images).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
die() { echo "extract-kernel-btf: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
case "$1" in -h|--help) usage ;; esac

SRC=$1
OUT=${2:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/extract-kernel-btf.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"   # let apt's _apt user write the download

PKG=- PKGVER= DEB= VMLINUZ= VMLINUX=

# ---- 1. resolve SOURCE to a vmlinuz (or vmlinux) ---------------------------
if [ -d "$SRC" ]; then
    VMLINUZ=$(ls -1 "$SRC"/boot/vmlinuz-* 2>/dev/null | head -1 || true)
    [ -n "$VMLINUZ" ] || die "$SRC/boot/vmlinuz-* not found"
elif [ -f "$SRC" ] && [[ "$SRC" == *.deb ]]; then
    DEB=$SRC
elif [ -f "$SRC" ]; then
    if [ "$(head -c 4 "$SRC" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
        VMLINUX=$SRC
    else
        VMLINUZ=$SRC
    fi
elif [[ "$SRC" =~ ^linux-image-[A-Za-z0-9.+~_-]+(=[A-Za-z0-9.+~:_-]+)?$ ]]; then
    command -v apt-get >/dev/null || die "apt-get not found"
    (cd "$WORK" && apt-get download "$SRC" >&2) ||
        die "apt-get download $SRC failed (run 'apt-get update' first? list candidates with: apt-cache search --names-only '^linux-image-.*-amd64-unsigned\$')"
    DEB=$(ls -1 "$WORK"/*.deb | head -1)
else
    die "SOURCE '$SRC' is neither an existing file/directory nor a linux-image-* package name"
fi

if [ -n "$DEB" ]; then
    PKG=$(dpkg-deb -f "$DEB" Package)
    PKGVER=$(dpkg-deb -f "$DEB" Version)
    mkdir -p "$WORK/pkg"
    dpkg-deb -x "$DEB" "$WORK/pkg"
    VMLINUZ=$(ls -1 "$WORK"/pkg/boot/vmlinuz-* 2>/dev/null | head -1 || true)
    [ -n "$VMLINUZ" ] || die "$DEB contains no boot/vmlinuz-*"
fi

if [ -n "$VMLINUZ" ]; then
    KVER=${VMLINUZ##*/}; KVER=${KVER#vmlinuz-}
else
    KVER=${VMLINUX##*/}; KVER=${KVER#vmlinux-}
fi
[ -n "$KVER" ] || KVER=vmlinux

# ---- 2. decompress the bzImage ----------------------------------------------
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }
# u8/u32 little-endian readers
rd_u8()  { od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' \n'; }
rd_u32() { od -An -tu4 -j "$2" -N 4 --endian=little "$1" | tr -d ' \n'; }

decompress_at() {  # FILE OFFSET LENGTH(or empty) FORMAT OUT -> 0 if OUT is an ELF
    local f=$1 off=$2 len=$3 fmt=$4 out=$5 cmd
    case "$fmt" in
        gzip)  cmd=(gzip -dc) ;;
        xz)    cmd=(xz -dc --single-stream) ;;
        zstd)  cmd=(zstd -qdc) ;;
        lzma)  cmd=(xz -dc --format=lzma) ;;
        bzip2) cmd=(bzip2 -dc) ;;
        lz4)   cmd=(lz4 -dc) ;;
        lzop)  cmd=(lzop -dc) ;;
        *) return 1 ;;
    esac
    command -v "${cmd[0]}" >/dev/null || { echo "extract-kernel-btf: '${cmd[0]}' needed for a $fmt kernel" >&2; return 1; }
    # decompressors may complain about the 4-byte size trailer the kernel
    # build appends to the payload; only the output matters.
    if [ -n "$len" ]; then
        tail -c +$((off + 1)) "$f" | head -c "$len" | "${cmd[@]}" > "$out" 2>/dev/null || true
    else
        tail -c +$((off + 1)) "$f" | "${cmd[@]}" > "$out" 2>/dev/null || true
    fi
    is_elf "$out"
}

magic_format() {  # FILE OFFSET -> prints the compression format found there
    local h
    h=$(od -An -tx1 -j "$2" -N 6 "$1" | tr -d ' \n')
    case "$h" in
        1f8b08*)       echo gzip ;;
        fd377a585a00*) echo xz ;;
        28b52ffd*)     echo zstd ;;
        5d000000*)     echo lzma ;;
        425a68*)       echo bzip2 ;;
        02214c18*)     echo lz4 ;;
        894c5a*)       echo lzop ;;
        *)             echo unknown ;;
    esac
}

# arm64: "ARM\x64" at offset 56 of the Image header (Documentation/arch/arm64/booting.rst)
is_arm64_image() { [ "$(od -An -tx1 -j 56 -N 4 "$1" 2>/dev/null | tr -d ' \n')" = 41524d64 ]; }
IMAGE=
if [ -z "$VMLINUX" ]; then
    if is_arm64_image "$VMLINUZ"; then
        IMAGE=$VMLINUZ
    elif [ "$(magic_format "$VMLINUZ" 0)" = gzip ] && gzip -dc "$VMLINUZ" > "$WORK/Image" 2>/dev/null && is_arm64_image "$WORK/Image"; then
        IMAGE=$WORK/Image
    fi
fi
if [ -z "$VMLINUX" ] && [ -z "$IMAGE" ]; then
    VMLINUX=$WORK/vmlinux
    if is_elf "$VMLINUZ"; then
        cp "$VMLINUZ" "$VMLINUX"
    else
        ok=0
        # (a) exact: the x86 boot protocol header (>= 2.08) names the payload
        if [ "$(head -c 518 "$VMLINUZ" | tail -c 4)" = HdrS ]; then
            ss=$(rd_u8 "$VMLINUZ" $((0x1f1))); [ "$ss" -ne 0 ] || ss=4
            poff=$(rd_u32 "$VMLINUZ" $((0x248)))
            plen=$(rd_u32 "$VMLINUZ" $((0x24c)))
            start=$(( (ss + 1) * 512 + poff ))
            fmt=$(magic_format "$VMLINUZ" "$start")
            if [ "$plen" -gt 0 ] && decompress_at "$VMLINUZ" "$start" "$plen" "$fmt" "$VMLINUX"; then
                ok=1
                echo "extract-kernel-btf: $fmt payload at offset $start ($plen bytes, from the boot header)" >&2
            fi
        fi
        # (b) fallback: scripts/extract-vmlinux style magic scan
        if [ $ok = 0 ]; then
            for m in 'gzip:\x1f\x8b\x08' 'xz:\xfd\x37\x7a\x58\x5a\x00' 'zstd:\x28\xb5\x2f\xfd' \
                     'lzma:\x5d\x00\x00\x00' 'bzip2:BZh' 'lz4:\x02\x21\x4c\x18' 'lzop:\x89\x4c\x5a'; do
                fmt=${m%%:*}; pat=${m#*:}
                for off in $(LC_ALL=C grep -obUaP "$pat" "$VMLINUZ" 2>/dev/null | cut -d: -f1 | head -20); do
                    if decompress_at "$VMLINUZ" "$off" "" "$fmt" "$VMLINUX"; then
                        ok=1
                        echo "extract-kernel-btf: $fmt payload at offset $off (magic scan)" >&2
                        break 2
                    fi
                done
            done
        fi
        [ $ok = 1 ] || die "could not decompress $VMLINUZ (no gzip/xz/zstd/lzma/bzip2/lz4/lzop payload yielded an ELF)"
    fi
fi

# ---- 3. extract .BTF ---------------------------------------------------------
RAW=$WORK/raw.btf
if [ -n "$IMAGE" ]; then
    found=
    for off in $(LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00' "$IMAGE" | cut -d: -f1); do
        type_off=$(rd_u32 "$IMAGE" $((off + 8))); type_len=$(rd_u32 "$IMAGE" $((off + 12)))
        str_off=$(rd_u32 "$IMAGE" $((off + 16))); str_len=$(rd_u32 "$IMAGE" $((off + 20)))
        total=$((24 + type_len + str_len))
        [ "$type_off" = 0 ] && [ "$str_off" = "$type_len" ] && [ "$str_len" -gt 1 ] &&
            [ $((off + total)) -le "$(stat -c %s "$IMAGE")" ] || continue
        [ "$(rd_u8 "$IMAGE" $((off + 24 + str_off)))" = 0 ] && [ "$(rd_u8 "$IMAGE" $((off + total - 1)))" = 0 ] || continue
        [ -z "$found" ] || die "two BTF headers in the arm64 Image (offsets $found and $off)"
        found=$off
        dd if="$IMAGE" of="$RAW" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$total" status=none
    done
    [ -n "$found" ] || die "no kernel BTF in the arm64 Image (kernel built without CONFIG_DEBUG_INFO_BTF?)"
    echo "extract-kernel-btf: BTF at offset $found of the arm64 Image" >&2
else
    readelf -S -W "$VMLINUX" 2>/dev/null | grep -q ' \.BTF ' ||
        die "no .BTF section in the kernel image (kernel built without CONFIG_DEBUG_INFO_BTF?)"
    objcopy -O binary --only-section=.BTF "$VMLINUX" "$RAW"
fi
SIZE=$(stat -c %s "$RAW")
[ "$SIZE" -gt 24 ] || die "extracted .BTF is empty"

# ---- 4. sanity-check the BTF header -----------------------------------------
magic=$(od -An -tx1 -N 2 "$RAW" | tr -d ' \n')
[ "$magic" = 9feb ] || die "extracted .BTF does not start with magic 0xeB9F (got bytes $magic)"
hdr_len=$(rd_u32 "$RAW" 4); type_off=$(rd_u32 "$RAW" 8); type_len=$(rd_u32 "$RAW" 12)
str_off=$(rd_u32 "$RAW" 16); str_len=$(rd_u32 "$RAW" 20)
end=$(( type_off + type_len )); [ $((str_off + str_len)) -le $end ] || end=$((str_off + str_len))
[ $((hdr_len + end)) -eq "$SIZE" ] ||
    die "BTF header sizes ($hdr_len + $end) do not match the section size $SIZE"
SHA=$(sha256sum "$RAW" | cut -d' ' -f1)

# ---- 5. write OUT ------------------------------------------------------------
[ -n "$OUT" ] || OUT=./$KVER.btf
[ -d "$OUT" ] && OUT=${OUT%/}/$KVER.btf
mkdir -p "$(dirname "$OUT")"
case "$OUT" in
    *.gz) gzip -9n -c "$RAW" > "$OUT.tmp.$$" ;;
    *)    cp "$RAW" "$OUT.tmp.$$" ;;
esac
chmod 644 "$OUT.tmp.$$"
mv -f "$OUT.tmp.$$" "$OUT"
echo "kver=$KVER package=$PKG version=${PKGVER:--} size=$SIZE sha256=$SHA out=$OUT"
