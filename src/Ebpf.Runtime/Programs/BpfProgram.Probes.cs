using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using Ebpf.Kernel;

namespace Ebpf;

public partial class BpfProgram
{
    // ------------------------------------------------------------------ kprobes

    /// <summary>
    /// Attaches a kprobe (or kretprobe) program to kernel function <paramref name="function"/> at
    /// <paramref name="offset"/>: through the kprobe PMU, or without it through tracefs kprobe_events.
    /// </summary>
    internal KprobeLink AttachKprobe(string function, ulong offset, bool retprobe, ulong cookie, ProbeAttachMode mode)
    {
        RequireType("a kprobe", BpfProgramType.Kprobe);
        if (string.IsNullOrEmpty(function)) throw new ArgumentException("the kernel function name is empty", nameof(function));
        if (retprobe && offset != 0) throw new ArgumentException($"a kretprobe cannot have an offset (kretprobe {function}+0x{offset:x})", nameof(offset));
        string what = $"{(retprobe ? "kretprobe" : "kprobe")} {function}{(offset != 0 ? $"+0x{offset:x}" : string.Empty)}";

        int type = mode == ProbeAttachMode.Legacy ? -Errno.ENOENT : ProbeEvents.PmuType(Syscalls, "kprobe");
        if (type >= 0)
        {
            int bit = -1;
            if (retprobe)
            {
                bit = ProbeEvents.RetprobeBit(Syscalls, "kprobe");
                if (bit < 0)
                    throw new BpfEnvironmentException($"cannot attach {what}: {ProbeEvents.PmuRoot}/kprobe/format/retprobe cannot be read ({Errno.Name(-bit)})");
            }
            int fd = ProbeEvents.OpenPmuProbe(Syscalls, type, bit, function, offset, -1, 0);
            if (fd < 0)
                throw new BpfSyscallException("perf_event_open", null, -fd, $"creating {what} failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)}); {KprobeFailure(-fd, function, offset)}");
            var pe = new BpfHandle(fd, BpfHandleKind.PerfEvent, Syscalls);
            try
            {
                var link = AttachToPerfEvent(pe, what, cookie);
                return new KprobeLink(this, pe, link, function, offset, retprobe, null, null);
            }
            catch
            {
                pe.Dispose();
                throw;
            }
        }
        if (mode == ProbeAttachMode.Perf)
            throw BpfNotSupportedException.Configuration("the kprobe PMU", $"cannot attach {what}: this kernel has no kprobe PMU ({ProbeEvents.PmuRoot}/kprobe is missing: Linux 4.17 with CONFIG_KPROBE_EVENTS is needed)");

        string? root = Tracefs.TryRoot(Syscalls);
        if (root == null)
        {
            if (mode == ProbeAttachMode.Legacy)
                throw new BpfEnvironmentException($"cannot attach {what}: tracefs is not mounted, so kprobe_events cannot be used; mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");
            throw new BpfEnvironmentException($"cannot attach {what}: this kernel has no kprobe PMU ({ProbeEvents.PmuRoot}/kprobe is missing) and tracefs is not mounted, " +
                "so the kprobe_events fallback cannot be used either; mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");
        }
        if (!Syscalls.PathExists(root + "/kprobe_events"))
            throw BpfNotSupportedException.Configuration("kprobes",
                $"cannot attach {what}: this kernel has no kprobe PMU and no kprobe_events (CONFIG_KPROBE_EVENTS is not set; the kernel may have been built without CONFIG_KPROBES)");

        string ev = ProbeEvents.LegacyEventName(function, offset);
        string group = ProbeEvents.KprobeGroup(retprobe);
        string line = ProbeEvents.KprobeEventLine(retprobe, ev, function, offset);
        var legacyFd = ProbeEvents.OpenLegacy(Syscalls, root, "kprobe_events", group, ev, line, -1, what, out var cleanup);
        try
        {
            var link = AttachToPerfEvent(legacyFd, what, cookie);
            return new KprobeLink(this, legacyFd, link, function, offset, retprobe, $"{group}/{ev}", cleanup);
        }
        catch
        {
            legacyFd.Dispose();
            cleanup();
            throw;
        }
    }

    private const int EADDRNOTAVAIL = 99;

    private string KprobeFailure(int errno, string function, ulong offset) => errno switch
    {
        Errno.ENOENT => $"kernel function '{function}' does not exist or is not traceable (inlined, static, notrace or on the kprobe blacklist; see available_filter_functions in tracefs)",
        Errno.EINVAL when offset != 0 => $"offset 0x{offset:x} is not an instruction boundary of '{function}' or lies outside it",
        Errno.EINVAL => $"the kernel refused to probe '{function}' (blacklisted, or not a function)",
        Errno.EACCES or Errno.EPERM => "kprobes need root or CAP_PERFMON (see /proc/sys/kernel/perf_event_paranoid), and are refused under kernel lockdown",
        EADDRNOTAVAIL => $"'{function}' is ambiguous (several functions with that name) or not probe-able at that address",
        _ => $"the kernel refused to probe '{function}'",
    };

    /// <summary>
    /// Attaches a kprobe to a system call's entry function: "__x64_sys_NAME" (or the architecture's prefix) when
    /// the kernel has syscall wrappers (4.17+), "sys_NAME" otherwise.
    /// </summary>
    internal KprobeLink AttachKsyscall(string syscall, bool retprobe, ulong cookie)
    {
        if (string.IsNullOrEmpty(syscall)) throw new ArgumentException("the syscall name is empty", nameof(syscall));
        return AttachKprobe(KernelSymbols.SyscallFunction(Syscalls, syscall), 0, retprobe, cookie, ProbeAttachMode.Default);
    }

    // ------------------------------------------------------------------ kprobe.multi

    /// <summary>
    /// Attaches a kprobe.multi program to every traceable kernel function matching <paramref name="pattern"/>
    /// (globs with * and ?, resolved through available_filter_functions), or to the given symbols or addresses.
    /// </summary>
    internal unsafe KprobeMultiLink AttachKprobeMulti(string? pattern, IReadOnlyList<string>? symbols, IReadOnlyList<ulong>? addresses, IReadOnlyList<ulong>? cookies, bool retprobe)
    {
        RequireType("a kprobe.multi link", BpfProgramType.Kprobe);
        int given = (pattern != null ? 1 : 0) + (symbols != null ? 1 : 0) + (addresses != null ? 1 : 0);
        if (given != 1) throw new ArgumentException("give exactly one of a pattern, a symbol list or an address list");
        var attachType = ExpectedAttachType is BpfAttachType.TraceKprobeMulti or BpfAttachType.TraceKprobeSession ? ExpectedAttachType.Value : BpfAttachType.TraceKprobeMulti;
        if (ExpectedAttachType != attachType)
            throw new InvalidOperationException($"program '{Name}' was not loaded for kprobe.multi links: set ExpectedAttachType = BpfAttachType.TraceKprobeMulti before Load(), or use SEC(\"kprobe.multi/...\")");
        string kind = attachType == BpfAttachType.TraceKprobeSession ? "kprobe.session" : retprobe ? "kretprobe.multi" : "kprobe.multi";
        string description;
        IReadOnlyList<string> names;
        if (pattern != null)
        {
            names = KernelSymbols.MatchTraceable(Syscalls, pattern, $"{kind} {pattern}");
            description = $"{kind} {pattern} ({names.Count} function{(names.Count == 1 ? "" : "s")})";
        }
        else if (symbols != null)
        {
            if (symbols.Count == 0) throw new ArgumentException("the symbol list is empty", nameof(symbols));
            names = symbols;
            description = $"{kind} {(symbols.Count <= 3 ? string.Join(",", symbols) : symbols[0] + ",... (" + symbols.Count + " functions)")}";
        }
        else
        {
            if (addresses!.Count == 0) throw new ArgumentException("the address list is empty", nameof(addresses));
            names = Array.Empty<string>();
            description = $"{kind} at {addresses.Count} address{(addresses.Count == 1 ? "" : "es")}";
        }
        int count = addresses?.Count ?? names.Count;
        if (cookies != null && cookies.Count != count)
            throw new ArgumentException($"{cookies.Count} cookies for {count} functions", nameof(cookies));

        // One block of unmanaged memory: the pointer array, the addresses, the cookies, then the NUL-terminated names.
        int namesBytes = 0;
        foreach (var n in names) namesBytes += Encoding.UTF8.GetByteCount(n) + 1;
        nuint total = (nuint)(count * 8 * 3 + namesBytes);
        byte* block = (byte*)NativeMemory.AllocZeroed(total);
        try
        {
            ulong* syms = (ulong*)block;
            ulong* addrs = syms + count;
            ulong* cks = addrs + count;
            byte* str = (byte*)(cks + count);
            for (int i = 0; i < names.Count; i++)
            {
                var n = names[i];
                int len = Encoding.UTF8.GetBytes(n, new Span<byte>(str, namesBytes));
                str[len] = 0;
                syms[i] = (ulong)str;
                str += len + 1;
                namesBytes -= len + 1;
            }
            if (addresses != null)
                for (int i = 0; i < count; i++) addrs[i] = addresses[i];
            if (cookies != null)
                for (int i = 0; i < count; i++) cks[i] = cookies[i];
            var a = new LinkCreateAttr
            {
                ProgFd = (uint)Fd,
                AttachType = (uint)attachType,
                KprobeMultiFlags = retprobe ? 1u : 0u, // BPF_F_KPROBE_MULTI_RETURN
                KprobeMultiCnt = (uint)count,
                KprobeMultiSyms = addresses == null ? (ulong)syms : 0,
                KprobeMultiAddrs = addresses != null ? (ulong)addrs : 0,
                KprobeMultiCookies = cookies != null ? (ulong)cks : 0,
            };
            int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
            if (fd < 0)
            {
                int e = -fd;
                if (e == Errno.EOPNOTSUPP || e == Errno.ENOTSUPP)
                    throw BpfNotSupportedException.Configuration("kprobe.multi links",
                        $"cannot attach {description}: this kernel has no kprobe.multi links (they need Linux 5.18 built with CONFIG_FPROBE)");
                if (e == Errno.EINVAL && !KernelFeatures.For(Syscalls).KprobeMultiLinks)
                    throw new BpfNotSupportedException("kprobe.multi links", attachType == BpfAttachType.TraceKprobeSession ? "6.10" : "5.18", $"cannot attach {description}");
                throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of program '{Name}' as {description}",
                    e == Errno.ESRCH || e == Errno.ENOENT ? "one of the functions does not exist or is not traceable (see available_filter_functions in tracefs)" :
                    e == Errno.EINVAL ? "the kernel refused the function list (duplicates, or a function it cannot trace)" : null);
            }
            return new KprobeMultiLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), description, names, retprobe);
        }
        finally
        {
            NativeMemory.Free(block);
        }
    }

    // ------------------------------------------------------------------ uprobes

    /// <summary>
    /// Attaches a uprobe (or uretprobe) program to <paramref name="function"/>+<paramref name="offset"/> in
    /// <paramref name="binary"/> (a path, a library name found through the process maps / ld.so.cache, or a command on
    /// PATH); <paramref name="function"/> null means <paramref name="offset"/> is a file offset. <paramref name="pid"/>
    /// -1 probes every process.
    /// </summary>
    internal UprobeLink AttachUprobe(string binary, string? function, ulong offset, int pid, bool retprobe, ulong cookie, ulong refCtrOffset, ProbeAttachMode mode)
    {
        RequireType("a uprobe", BpfProgramType.Kprobe);
        if (retprobe && offset != 0 && function != null)
            throw new ArgumentException($"a uretprobe cannot have an offset into a function ({function}+0x{offset:x})", nameof(offset));
        string path = BinaryResolver.Resolve(binary, pid);
        ulong fileOffset = offset;
        if (function != null)
        {
            var elf = ElfBinary.Open(path);
            try
            {
                fileOffset = elf.FindFunctionOffset(function) + offset;
            }
            finally
            {
                elf.Close();
            }
        }
        return AttachUprobeAt(path, function, fileOffset, pid, retprobe, cookie, refCtrOffset, mode);
    }

    internal UprobeLink AttachUprobeAt(string path, string? function, ulong fileOffset, int pid, bool retprobe, ulong cookie, ulong refCtrOffset, ProbeAttachMode mode)
    {
        string what = $"{(retprobe ? "uretprobe" : "uprobe")} {path}:{function ?? "0x" + fileOffset.ToString("x", System.Globalization.CultureInfo.InvariantCulture)}" +
            (function != null ? $" (file offset 0x{fileOffset:x})" : string.Empty) + (pid >= 0 ? $" for pid {pid}" : string.Empty);
        int type = mode == ProbeAttachMode.Legacy ? -Errno.ENOENT : ProbeEvents.PmuType(Syscalls, "uprobe");
        if (type >= 0)
        {
            int bit = -1;
            if (retprobe)
            {
                bit = ProbeEvents.RetprobeBit(Syscalls, "uprobe");
                if (bit < 0)
                    throw new BpfEnvironmentException($"cannot attach {what}: {ProbeEvents.PmuRoot}/uprobe/format/retprobe cannot be read ({Errno.Name(-bit)})");
            }
            int fd = ProbeEvents.OpenPmuProbe(Syscalls, type, bit, path, fileOffset, pid, refCtrOffset);
            if (fd < 0)
                throw new BpfSyscallException("perf_event_open", null, -fd, $"creating {what} failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)}); {UprobeFailure(-fd, path, pid)}");
            var pe = new BpfHandle(fd, BpfHandleKind.PerfEvent, Syscalls);
            try
            {
                var link = AttachToPerfEvent(pe, what, cookie);
                return new UprobeLink(this, pe, link, path, function, fileOffset, pid, retprobe, null, null);
            }
            catch
            {
                pe.Dispose();
                throw;
            }
        }
        if (mode == ProbeAttachMode.Perf)
            throw BpfNotSupportedException.Configuration("the uprobe PMU", $"cannot attach {what}: this kernel has no uprobe PMU ({ProbeEvents.PmuRoot}/uprobe is missing: Linux 4.17 with CONFIG_UPROBE_EVENTS is needed)");
        string? root = Tracefs.TryRoot(Syscalls);
        if (root == null)
            throw new BpfEnvironmentException($"cannot attach {what}: {(mode == ProbeAttachMode.Legacy ? "" : $"this kernel has no uprobe PMU ({ProbeEvents.PmuRoot}/uprobe is missing) and ")}tracefs is not mounted, " +
                "so uprobe_events cannot be used; mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");
        if (!Syscalls.PathExists(root + "/uprobe_events"))
            throw BpfNotSupportedException.Configuration("uprobes", $"cannot attach {what}: this kernel has no uprobe PMU and no uprobe_events (CONFIG_UPROBE_EVENTS is not set)");
        string ev = ProbeEvents.LegacyEventName(System.IO.Path.GetFileName(path) + "_" + (function ?? "off"), fileOffset);
        string group = ProbeEvents.UprobeGroup(retprobe);
        string line = ProbeEvents.UprobeEventLine(retprobe, ev, path, fileOffset, refCtrOffset);
        var legacyFd = ProbeEvents.OpenLegacy(Syscalls, root, "uprobe_events", group, ev, line, pid, what, out var cleanup);
        try
        {
            var link = AttachToPerfEvent(legacyFd, what, cookie);
            return new UprobeLink(this, legacyFd, link, path, function, fileOffset, pid, retprobe, $"{group}/{ev}", cleanup);
        }
        catch
        {
            legacyFd.Dispose();
            cleanup();
            throw;
        }
    }

    private static string UprobeFailure(int errno, string path, int pid) => errno switch
    {
        Errno.ENOENT => $"'{path}' does not exist (for the kernel)",
        Errno.EINVAL => "the offset is not inside an executable segment of the binary, or not an instruction boundary",
        Errno.ESRCH => $"process {pid} does not exist",
        Errno.EACCES or Errno.EPERM => "uprobes need root or CAP_PERFMON (see /proc/sys/kernel/perf_event_paranoid)",
        _ => "the kernel refused the probe",
    };

    // ------------------------------------------------------------------ uprobe.multi

    /// <summary>
    /// Attaches a uprobe.multi program (loaded with BPF_TRACE_UPROBE_MULTI) to every function of
    /// <paramref name="binary"/> matching <paramref name="pattern"/>, or to the given file offsets, in one link (Linux 6.6).
    /// </summary>
    internal unsafe UprobeMultiLink AttachUprobeMulti(string binary, string? pattern, IReadOnlyList<ulong>? offsets, IReadOnlyList<ulong>? cookies, int pid, bool retprobe)
    {
        RequireType("a uprobe.multi link", BpfProgramType.Kprobe);
        var attachType = ExpectedAttachType is BpfAttachType.TraceUprobeMulti or BpfAttachType.TraceUprobeSession ? ExpectedAttachType.Value : BpfAttachType.TraceUprobeMulti;
        if (ExpectedAttachType != attachType)
            throw new InvalidOperationException($"program '{Name}' was not loaded for uprobe.multi links: set ExpectedAttachType = BpfAttachType.TraceUprobeMulti before Load(), or use SEC(\"uprobe.multi/...\")");
        string path = BinaryResolver.Resolve(binary, pid);
        var offs = new List<ulong>();
        if (pattern != null)
        {
            var elf = ElfBinary.Open(path);
            try
            {
                var seen = new HashSet<ulong>();
                foreach (var s in elf.FindFunctions(n => Glob.Match(pattern, StripVersion(n))))
                    if (seen.Add(s.FileOffset)) offs.Add(s.FileOffset);
            }
            finally
            {
                elf.Close();
            }
            if (offs.Count == 0)
                throw new BpfException($"no function of '{path}' matches '{pattern}'");
        }
        else if (offsets != null)
        {
            offs.AddRange(offsets);
        }
        if (offs.Count == 0) throw new ArgumentException("no offsets to attach to");
        if (cookies != null && cookies.Count != offs.Count)
            throw new ArgumentException($"{cookies.Count} cookies for {offs.Count} offsets", nameof(cookies));
        string kind = attachType == BpfAttachType.TraceUprobeSession ? "uprobe.session" : retprobe ? "uretprobe.multi" : "uprobe.multi";
        string description = $"{kind} {path}:{pattern ?? $"{offs.Count} offsets"}{(pattern != null ? $" ({offs.Count} function{(offs.Count == 1 ? "" : "s")})" : "")}{(pid >= 0 ? $" for pid {pid}" : "")}";
        var pathBytes = BpfSys.PathBytes(path);
        var offArr = offs.ToArray();
        ulong[]? ckArr = null;
        if (cookies != null)
        {
            ckArr = new ulong[cookies.Count];
            for (int i = 0; i < ckArr.Length; i++) ckArr[i] = cookies[i];
        }
        fixed (byte* pp = pathBytes)
        fixed (ulong* po = offArr)
        fixed (ulong* pc = ckArr)
        {
            var a = new LinkCreateAttr
            {
                ProgFd = (uint)Fd,
                AttachType = (uint)attachType,
                UprobeMultiPath = (ulong)pp,
                UprobeMultiOffsets = (ulong)po,
                UprobeMultiCookies = (ulong)pc,
                UprobeMultiCnt = (uint)offArr.Length,
                UprobeMultiFlags = retprobe ? 1u : 0u, // BPF_F_UPROBE_MULTI_RETURN
                UprobeMultiPid = pid > 0 ? (uint)pid : 0,
            };
            int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
            if (fd < 0)
            {
                int e = -fd;
                if (e == Errno.EOPNOTSUPP || e == Errno.ENOTSUPP)
                    throw BpfNotSupportedException.Configuration("uprobe.multi links", $"cannot attach {description}: this kernel has no uprobe.multi links (Linux 6.6 with CONFIG_UPROBES)");
                if (e == Errno.EINVAL && !KernelFeatures.For(Syscalls).UprobeMultiLinks)
                    throw new BpfNotSupportedException("uprobe.multi links", "6.6", $"cannot attach {description}");
                throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of program '{Name}' as {description}", e == Errno.ESRCH ? $"process {pid} does not exist" : null);
            }
            return new UprobeMultiLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), description, path, offArr, retprobe);
        }
    }

    private static string StripVersion(string name)
    {
        int at = name.IndexOf('@');
        return at > 0 ? name.Substring(0, at) : name;
    }
}
