#!/bin/sh
# no-btf-check.sh EXECSNOOP [--expect-missing]: runs inside a guest kernel (see run-on-kernels.sh) as a kernel
# without BTF: /sys/kernel/btf/vmlinux is hidden behind an empty file (a bind mount, in a private mount namespace),
# so the sample must take the minimized BTF embedded for this release (<BpfKernelBtf Embed="true">).
#   default           sample-check.sh runs: every spawned process reported with this shell as parent (CO-RE read
#                     of task_struct->real_parent->tgid against the embedded BTF), and the log names that BTF
#   --expect-missing  the sample carries no BTF for this release: it must fail with an error that names the release
#                     and lists the ones it has, and leave no BPF program, map or link behind
set -u
exe=$1
mode=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${EBPF_NO_BTF_INNER:-}" ]; then
    # a private mount namespace, so that the bind mount goes away with this script
    EBPF_NO_BTF_INNER=1 exec unshare -m "$0" "$@"
fi
empty=$(mktemp /tmp/empty-vmlinux.XXXXXX)
mount --bind "$empty" /sys/kernel/btf/vmlinux || { echo "no-btf-check: cannot hide /sys/kernel/btf/vmlinux"; exit 1; }
[ -s /sys/kernel/btf/vmlinux ] && { echo "no-btf-check: /sys/kernel/btf/vmlinux is still there"; exit 1; }
echo "kernel $(uname -r): /sys/kernel/btf/vmlinux hidden (size $(stat -c %s /sys/kernel/btf/vmlinux))"
ids() { { bpftool prog show; bpftool map show; bpftool link show; } 2>/dev/null | grep -c '^[0-9]*: '; }
if [ "$mode" = --expect-missing ]; then
    before=$(ids)
    "$exe" --duration 2 > /tmp/no-btf.out 2> /tmp/no-btf.err; rc=$?
    after=$(ids)
    cat /tmp/no-btf.err
    fail=0
    [ $rc != 0 ] || { echo "no-btf-check: execsnoop succeeded without BTF for $(uname -r)"; fail=1; }
    grep -q "this kernel ($(uname -r)[,)].* has no BTF: /sys/kernel/btf/vmlinux is empty" /tmp/no-btf.err ||
        { echo "no-btf-check: the error does not name the release and the hidden vmlinux"; fail=1; }
    grep -q "embedded in execsnoop: [0-9]" /tmp/no-btf.err || { echo "no-btf-check: the error does not list the embedded releases"; fail=1; }
    [ "$before" = "$after" ] || { echo "no-btf-check: BPF objects before $before, after $after"; fail=1; }
    echo "exit code $rc; BPF programs+maps+links before $before, after $after"
    exit $fail
fi
out=$("$here/sample-check.sh" "$exe" 2>&1); rc=$?
echo "$out"
[ $rc = 0 ] || exit $rc
echo "$out" | grep -q "kernel BTF: embedded ebpf/btf/\(x64/\|arm64/\)\?$(uname -r).btf.gz" ||
    { echo "no-btf-check: the sample did not say it took the embedded BTF of $(uname -r)"; exit 1; }
