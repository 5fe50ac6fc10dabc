#!/bin/sh
# sample-check.sh EXECSNOOP [CLI]: runs inside a guest kernel (see run-on-kernels.sh). Starts the Native AOT
# execsnoop, spawns 5 processes, and checks that it reported each one's exec and exit with this shell as parent
# (the parent pid is read with CO-RE from task_struct->real_parent->tgid, so a wrong offset shows up here).
# With CLI (the dotnet-ebpf dll), also prints where CO-RE placed task_struct fields on this kernel.
# It runs at the guest's default RLIMIT_MEMLOCK (64 KiB before 5.16; printed below): the sample must cope with it.
set -u
exe=$1
cli=${2:-}
out=/tmp/execsnoop.$$.json
# --duration is only a safety net: under TCG the sample can take most of a fixed window to attach, so the spawned
# processes are followed by SIGTERM (the sample then drains the ring buffer, detaches and exits 0).
"$exe" --json --duration 120 > "$out" 2> "$out.err" &
snoop=$!
i=0
while ! grep -q attached "$out.err" 2>/dev/null; do
    # stop as soon as the sample has exited (it failed to load or attach): no point waiting for "attached"
    if ! kill -0 $snoop 2>/dev/null; then
        wait $snoop; rc=$?
        echo "sample-check: execsnoop exited with $rc before it attached"; cat "$out.err"; exit 1
    fi
    i=$((i + 1)); [ $i -gt 600 ] && { echo "sample-check: execsnoop did not attach in 60 s"; kill $snoop 2>/dev/null; cat "$out.err"; exit 1; }
    sleep 0.1
done
echo "kernel $(uname -r): execsnoop attached (ulimit -l: $(ulimit -l))"
grep 'kernel BTF:' "$out.err"   # which BTF CO-RE used, when it was not the kernel's own (the sample logs it)
pids=""
for n in 1 2 3 4 5; do /bin/true & p=$!; wait $p; pids="$pids $p"; done
sleep 1
kill -TERM $snoop
wait $snoop || { echo "sample-check: execsnoop failed"; cat "$out.err"; exit 1; }
fail=0
for p in $pids; do
    if grep -q "\"event\":\"exec\",\"pid\":$p,\"ppid\":$$," "$out" && grep -q "\"event\":\"exit\",\"pid\":$p,\"ppid\":$$," "$out"; then
        echo "pid $p: exec and exit seen, ppid $$ (CO-RE task_struct->real_parent->tgid)"
    else
        echo "pid $p: MISSING"; fail=1
    fi
done
if [ -n "$cli" ]; then
    dotnet "$cli" core relocate bpf/exec_snoop.bpf.o --json --target-btf /sys/kernel/btf/vmlinux | grep byte_off | \
        sed 's/.*"program":"\([^"]*\)".*"spec":"\([^"]*\)","old":\([0-9]*\),"new":\([0-9]*\).*/  CO-RE \1 \2: \3 -> \4/'
fi
exit $fail
