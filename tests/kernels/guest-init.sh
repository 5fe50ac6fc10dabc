#!/bin/busybox sh
# /init of the guest's initramfs (busybox-static), put there by run-on-kernels.sh; not meant to run on the host.
#
# 1. mount proc/sys/devtmpfs, load the modules listed in /modules.list (virtio, 9p, overlay, ...)
# 2. mount the root (9p tag "hostroot", read-only: the host's /, or for a foreign architecture that
#    architecture's root filesystem) under a tmpfs-backed overlayfs: writes succeed and are thrown away (or,
#    without overlayfs, read-only with tmpfs on /tmp /run /var/tmp)
# 3. mount the run dir (9p tag "run", rw) at its host path, and the extra shares listed in <run>/shares
#    (lines "TAG PATH rw" or "TAG PATH ro": read-only under a tmpfs overlay, like the root)
# 4. mount what eBPF tests need (tracefs, debugfs, bpffs, cgroup2), chroot, run <run>/cmd.sh with
#    stdout+stderr piped to the command channel (ebpf.out=, default ttyS1) between nonce markers, write the
#    exit code to <run>/rc, power off
/bin/busybox mkdir -p /bin /sbin /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin:/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

RUN= NONCE= VERBOSE=0 OVERLAY=1 OUT=/dev/ttyS1
for w in $(cat /proc/cmdline); do
    case "$w" in
        ebpf.run=*)     RUN=${w#ebpf.run=} ;;
        ebpf.nonce=*)   NONCE=${w#ebpf.nonce=} ;;
        ebpf.verbose=*) VERBOSE=${w#ebpf.verbose=} ;;
        ebpf.out=*)     OUT=/dev/${w#ebpf.out=} ;;
        ebpf.nooverlay) OVERLAY=0 ;;
    esac
done
log() { echo "guest-init: $*" > /dev/console; }
die() {
    log "FATAL: $*"
    [ -c "$OUT" ] && echo "===EBPF-FAIL-$NONCE $*===" > "$OUT"
    sync; poweroff -f; sleep 5; echo o > /proc/sysrq-trigger
}

for m in $(cat /modules.list); do
    insmod "/modules/$m.ko" 2>/dev/console || log "insmod $m failed"
done
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null || log "cannot bring lo up"
hostname ebpf-guest
stty -F "$OUT" raw -echo 2>/dev/null || log "stty $OUT failed"

M9P="trans=virtio,version=9p2000.L,msize=1048576"
mkdir -p /lower /upper /newroot /run9p
mount -t 9p -o "$M9P,ro,cache=loose" hostroot /lower || die "cannot mount 9p hostroot"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/up /upper/work
if [ $OVERLAY = 1 ] && mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/up,workdir=/upper/work /newroot 2>/dev/console; then
    ROOTMODE=overlay
    mount -t tmpfs -o mode=0755 tmpfs /newroot/run
else
    log "overlayfs failed; read-only root with tmpfs /tmp /run /var/tmp"
    mount --bind /lower /newroot
    for d in /tmp /run /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "/newroot$d"; done
    ROOTMODE=ro
fi

R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm 2>/dev/null
mount -t devpts devpts $R/dev/pts 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm 2>/dev/null
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t securityfs securityfs $R/sys/kernel/security 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null

[ -n "$RUN" ] || die "no ebpf.run= on the kernel command line"
mount -t 9p -o "$M9P" run /run9p || die "cannot mount 9p run dir"
mkdir -p "$R$RUN" 2>/dev/null
mount --bind /run9p "$R$RUN" || die "cannot bind the run dir at $RUN"
if [ -f /run9p/shares ]; then
    while read -r tag path mode; do
        [ -n "$tag" ] || continue
        mkdir -p "$R$path" 2>/dev/null
        if [ "$mode" = ro ]; then   # read-only, under a tmpfs overlay (writes succeed and are thrown away)
            mkdir -p "/shares/$tag" "/upper/$tag/up" "/upper/$tag/work"
            mount -t 9p -o "$M9P,ro,cache=loose" "$tag" "/shares/$tag" &&
                { mount -t overlay overlay -o "lowerdir=/shares/$tag,upperdir=/upper/$tag/up,workdir=/upper/$tag/work" "$R$path" 2>/dev/console ||
                  mount --bind "/shares/$tag" "$R$path"; } || log "cannot mount share $tag at $path"
        else
            mount -t 9p -o "$M9P" "$tag" "$R$path" || log "cannot mount share $tag at $path"
        fi
    done < /run9p/shares
fi

[ "$VERBOSE" = 1 ] || echo 1 > /proc/sys/kernel/printk
read -r up0 _ < /proc/uptime
echo "===EBPF-BEGIN-$NONCE uptime=$up0 root=$ROOTMODE kernel=$(uname -r) arch=$(uname -m)===" > "$OUT"
{ chroot $R /bin/sh "$RUN/cmd.sh" < /dev/null 2>&1; echo $? > /rc; } | cat > "$OUT"
rc=$(cat /rc 2>/dev/null || echo 125)
read -r up1 _ < /proc/uptime
echo "$rc" > /run9p/rc
echo "$up0 $up1" > /run9p/uptime
echo "===EBPF-END-$NONCE rc=$rc uptime=$up1===" > "$OUT"
sync
poweroff -f
sleep 5
echo o > /proc/sysrq-trigger
