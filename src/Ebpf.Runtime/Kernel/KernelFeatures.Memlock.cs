using System.Globalization;
using Ebpf.Interop;
using Microsoft.Extensions.Logging;

namespace Ebpf.Kernel;

// RLIMIT_MEMLOCK on kernels that charge BPF memory to it (before 5.11), the way libbpf's bump_rlimit_memlock() does
// it: decided once per seam (per process for the real kernel) before the first map, program or BTF object.
public sealed partial class KernelFeatures
{
    private readonly object _memlockSync = new object();
    private MemlockOutcome? _memlock;

    /// <summary>
    /// The limit this seam raises RLIMIT_MEMLOCK to; null: <see cref="BpfMemlock.Limit"/>. Lets tests with a scripted
    /// seam choose a limit without touching the process-wide setting.
    /// </summary>
    internal ulong? MemlockLimitOverride { get; set; }

    /// <summary>What happened to RLIMIT_MEMLOCK; null before the first load.</summary>
    internal MemlockOutcome? Memlock => _memlock;

    /// <summary>
    /// On a kernel without memory-cgroup accounting of BPF memory, raises RLIMIT_MEMLOCK (soft and hard) to
    /// <see cref="BpfMemlock.Limit"/> once. Never throws for a refused raise: a small object may fit under the current
    /// limit, and when one does not, the EPERM of its map or program names the limit and the fix
    /// (<see cref="PermissionAdvice"/>).
    /// </summary>
    internal unsafe MemlockOutcome EnsureMemlock()
    {
        var done = _memlock;
        if (done != null) return done;
        lock (_memlockSync)
        {
            if (_memlock != null) return _memlock;
            MemlockOutcome outcome;
            if (MemcgAccounting)
            {
                outcome = new MemlockOutcome(charged: false, 0, 0, 0, 0, 0, 0);
            }
            else
            {
                ulong target = MemlockLimitOverride ?? BpfMemlock.Limit;
                Libc.RLimit64 old;
                int r = _sys.Prlimit(Libc.RLIMIT_MEMLOCK, null, &old);
                if (r < 0)
                {
                    outcome = new MemlockOutcome(true, target, 0, 0, 0, 0, -r);
                }
                else if (target == 0 || (old.Current >= target && old.Maximum >= target))
                {
                    outcome = new MemlockOutcome(true, target, old.Current, old.Maximum, old.Current, old.Maximum, 0);
                }
                else
                {
                    // Raise, never lower: a hard limit already above the target stays where it is.
                    var want = new Libc.RLimit64 { Current = target, Maximum = old.Maximum >= target ? old.Maximum : target };
                    r = _sys.Prlimit(Libc.RLIMIT_MEMLOCK, &want, null);
                    if (r == 0)
                    {
                        outcome = new MemlockOutcome(true, target, old.Current, old.Maximum, want.Current, want.Maximum, 0);
                    }
                    else
                    {
                        // Raising the hard limit needs CAP_SYS_RESOURCE; the soft limit can still go up to the hard one.
                        ulong cur = old.Current, max = old.Maximum;
                        if (old.Maximum > old.Current)
                        {
                            var soft = new Libc.RLimit64 { Current = old.Maximum, Maximum = old.Maximum };
                            if (_sys.Prlimit(Libc.RLIMIT_MEMLOCK, &soft, null) == 0) cur = old.Maximum;
                        }
                        outcome = new MemlockOutcome(true, target, old.Current, old.Maximum, cur, max, -r);
                    }
                }
            }
            _memlock = outcome;
            if (outcome.Charged)
                Logger?.LogDebug("RLIMIT_MEMLOCK: this kernel charges BPF memory to it; {Outcome}", outcome.Describe());
            return outcome;
        }
    }

    /// <summary>
    /// Advice for an EPERM (or EACCES) from BPF_MAP_CREATE, BPF_PROG_LOAD or BPF_BTF_LOAD: the memlock limit and how
    /// to lift it when this kernel charges BPF memory to a limit that is not unlimited; otherwise the privileges.
    /// </summary>
    internal string PermissionAdvice(BpfCommand cmd, int errno)
    {
        string privileges = BpfSys.Advice(cmd, errno);
        if (errno != Errno.EPERM || cmd is not (BpfCommand.MapCreate or BpfCommand.ProgLoad or BpfCommand.BtfLoad))
            return privileges;
        var m = _memlock;
        if (m == null || !m.Charged || m.Current == Libc.RLIM_INFINITY)
            return privileges;
        return m.Advice() + "; otherwise: " + privileges;
    }
}

/// <summary>What the runtime found and did about RLIMIT_MEMLOCK.</summary>
internal sealed class MemlockOutcome
{
    public MemlockOutcome(bool charged, ulong target, ulong before, ulong beforeMax, ulong current, ulong currentMax, int errno)
    {
        Charged = charged;
        Target = target;
        Before = before;
        BeforeMax = beforeMax;
        Current = current;
        CurrentMax = currentMax;
        Errno = errno;
    }

    /// <summary>The kernel charges BPF memory to RLIMIT_MEMLOCK (no memory-cgroup accounting: before Linux 5.11).</summary>
    public bool Charged { get; }
    /// <summary>The limit asked for (<see cref="BpfMemlock.Limit"/>); 0 when raising is turned off.</summary>
    public ulong Target { get; }
    public ulong Before { get; }
    public ulong BeforeMax { get; }
    /// <summary>The soft limit now.</summary>
    public ulong Current { get; }
    public ulong CurrentMax { get; }
    /// <summary>Why prlimit failed (EPERM: the hard limit can only be raised with CAP_SYS_RESOURCE); 0 if it did not.</summary>
    public int Errno { get; }

    /// <summary>Whether the runtime changed the limit.</summary>
    public bool Raised => Charged && Errno == 0 && Current != Before;

    public static string Size(ulong bytes)
    {
        if (bytes == Libc.RLIM_INFINITY) return "unlimited";
        if (bytes >= 1UL << 30 && bytes % (1UL << 30) == 0) return (bytes >> 30).ToString(CultureInfo.InvariantCulture) + " GiB";
        if (bytes >= 1UL << 20 && bytes % (1UL << 20) == 0) return (bytes >> 20).ToString(CultureInfo.InvariantCulture) + " MiB";
        if (bytes >= 1UL << 10 && bytes % (1UL << 10) == 0) return (bytes >> 10).ToString(CultureInfo.InvariantCulture) + " KiB";
        return bytes.ToString(CultureInfo.InvariantCulture) + " bytes";
    }

    public string Describe()
    {
        if (!Charged) return "not charged (memory-cgroup accounting)";
        if (Target == 0) return $"left at {Size(Current)} (raising is turned off: BpfMemlock.Limit = 0)";
        if (Errno != 0) return $"raising it from {Size(Before)} (hard {Size(BeforeMax)}) to {Size(Target)} failed with {Ebpf.Errno.Name(Errno)}; it is {Size(Current)}";
        return Raised ? $"raised from {Size(Before)} to {Size(Current)}" : $"already {Size(Current)}";
    }

    /// <summary>The sentence for an EPERM that the memlock limit may have caused.</summary>
    public string Advice()
    {
        string head = $"this kernel charges BPF maps and programs to RLIMIT_MEMLOCK (memory-cgroup accounting of BPF memory came in Linux 5.11), which is {Size(Current)} in this process";
        string fix = "start the process with a higher limit (ulimit -l unlimited; LimitMEMLOCK=infinity in a systemd unit; --ulimit memlock=-1:-1 for a container)";
        if (Target == 0)
            return head + $": raising it is turned off (BpfMemlock.Limit = 0), so {fix} or set BpfMemlock.Limit";
        if (Errno != 0)
            return head + $": raising it to {Size(Target)} was refused ({Ebpf.Errno.Name(Errno)}: raising the hard limit needs CAP_SYS_RESOURCE), so {fix} or grant CAP_SYS_RESOURCE";
        return head + $" (BpfMemlock.Limit) and these objects need more: set a higher BpfMemlock.Limit (BpfMemlock.Unlimited) before the first load";
    }
}
