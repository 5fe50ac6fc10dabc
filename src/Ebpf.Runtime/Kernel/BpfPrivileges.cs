using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Ebpf.Kernel;

/// <summary>
/// What this process may do with bpf(2), as the kernel decides it: root, the effective capabilities (CAP_BPF, or
/// CAP_SYS_ADMIN before 5.8; CAP_PERFMON for tracing, CAP_NET_ADMIN for networking) and
/// kernel.unprivileged_bpf_disabled. Read from /proc when asked (capabilities can change during a process's life).
/// The loader's own check is a probe (<see cref="KernelFeatures.EnsureBpfPermitted"/>), which also sees seccomp
/// filters and LSMs; this says why it failed.
/// </summary>
public sealed class BpfPrivileges
{
    private const int CapNetAdmin = 12, CapSysAdmin = 21, CapPerfmon = 38, CapBpf = 39;

    private BpfPrivileges(bool root, ulong? effective, int? unprivilegedDisabled)
    {
        IsRoot = root;
        EffectiveCapabilities = effective;
        UnprivilegedBpfDisabled = unprivilegedDisabled;
    }

    /// <summary>The privileges of this process now.</summary>
    public static BpfPrivileges Current => new BpfPrivileges(Environment.IsPrivilegedProcess, ReadEffectiveCapabilities(), ReadUnprivilegedBpfDisabled());

    /// <summary>The effective user id is 0.</summary>
    public bool IsRoot { get; }

    /// <summary>CapEff of /proc/self/status; null when it cannot be read.</summary>
    public ulong? EffectiveCapabilities { get; }

    /// <summary>kernel.unprivileged_bpf_disabled: 0 (allowed), 1 (disabled until reboot), 2 (disabled, an admin may re-enable); null when it cannot be read.</summary>
    public int? UnprivilegedBpfDisabled { get; }

    /// <summary>Whether CAP_BPF (Linux 5.8) is in the effective set: maps and programs of most types, with CAP_PERFMON or CAP_NET_ADMIN for tracing or networking ones. False when the set cannot be read.</summary>
    public bool HasCapBpf => Has(CapBpf);
    /// <summary>Whether CAP_SYS_ADMIN is in the effective set: everything bpf(2) offers (the only capability that does before 5.8). False when the set cannot be read.</summary>
    public bool HasCapSysAdmin => Has(CapSysAdmin);
    /// <summary>Whether CAP_PERFMON (Linux 5.8) is in the effective set: with CAP_BPF, tracing programs (kprobes, tracepoints, perf events) and reading kernel memory. False when the set cannot be read.</summary>
    public bool HasCapPerfmon => Has(CapPerfmon);
    /// <summary>Whether CAP_NET_ADMIN is in the effective set: with CAP_BPF, networking programs (XDP, tc, cgroup socket hooks). False when the set cannot be read.</summary>
    public bool HasCapNetAdmin => Has(CapNetAdmin);

    /// <summary>
    /// Whether the kernel lets this process load maps and programs, as far as privileges tell: root, CAP_BPF or
    /// CAP_SYS_ADMIN, or unprivileged BPF enabled. True when it cannot be told (the kernel then decides).
    /// </summary>
    public bool MayUseBpf => IsRoot || HasCapBpf || HasCapSysAdmin || UnprivilegedBpfDisabled == 0 || (EffectiveCapabilities == null && UnprivilegedBpfDisabled == null);

    private bool Has(int cap) => EffectiveCapabilities is ulong caps && (caps & (1UL << cap)) != 0;

    /// <summary>What this process has, in a sentence ("not root; effective capabilities CAP_NET_ADMIN (0x1000); kernel.unprivileged_bpf_disabled = 2").</summary>
    public string Describe()
    {
        var caps = new List<string>();
        if (HasCapBpf) caps.Add("CAP_BPF");
        if (HasCapSysAdmin) caps.Add("CAP_SYS_ADMIN");
        if (HasCapPerfmon) caps.Add("CAP_PERFMON");
        if (HasCapNetAdmin) caps.Add("CAP_NET_ADMIN");
        string capText = EffectiveCapabilities is ulong e
            ? $"effective capabilities {(caps.Count == 0 ? "without CAP_BPF, CAP_SYS_ADMIN, CAP_PERFMON or CAP_NET_ADMIN" : string.Join(", ", caps))} (0x{e:x})"
            : "effective capabilities unknown";
        string sysctl = UnprivilegedBpfDisabled is int d ? $"kernel.unprivileged_bpf_disabled = {d.ToString(CultureInfo.InvariantCulture)}" : "kernel.unprivileged_bpf_disabled unknown";
        return $"{(IsRoot ? "root" : "not root")}; {capText}; {sysctl}";
    }

    /// <summary>What to do when bpf(2) is refused for lack of privileges.</summary>
    internal string Advice() =>
        MayUseBpf
            ? $"this process ({Describe()}) should be allowed, so something else refuses it: a seccomp profile (containers), an LSM, or kernel lockdown"
            : $"this process ({Describe()}) may not use bpf(2): run it as root (sudo), or grant CAP_BPF with CAP_PERFMON (tracing) or CAP_NET_ADMIN (networking)";

    private static ulong? ReadEffectiveCapabilities()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("CapEff:", StringComparison.Ordinal))
                    continue;
                return ulong.TryParse(line.Substring("CapEff:".Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong caps) ? caps : null;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    private static int? ReadUnprivilegedBpfDisabled()
    {
        try
        {
            return int.TryParse(File.ReadAllText("/proc/sys/kernel/unprivileged_bpf_disabled").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
