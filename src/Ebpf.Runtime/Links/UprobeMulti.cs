using System;
using System.Collections.Generic;
using Ebpf.Kernel;

namespace Ebpf;

// uprobe.multi, uretprobe.multi and uprobe.session links (BPF_TRACE_UPROBE_MULTI / BPF_TRACE_UPROBE_SESSION).

/// <summary>A uprobe.multi / uretprobe.multi link: one program on many offsets of one binary (Linux 6.6).</summary>
public sealed class UprobeMultiLink : FdLink
{
    internal UprobeMultiLink(BpfProgram program, BpfHandle handle, string description, string binaryPath, IReadOnlyList<ulong> offsets, bool isReturn)
        : base(program, handle, description)
    {
        BinaryPath = binaryPath;
        Offsets = offsets;
        IsReturnProbe = isReturn;
    }

    /// <summary>The resolved path of the probed binary or library.</summary>
    public string BinaryPath { get; }
    /// <summary>The probed file offsets in the binary, one per function or site, in the order attached.</summary>
    public IReadOnlyList<ulong> Offsets { get; }
    /// <summary>Whether the program runs when the functions return (uretprobe.multi) rather than at their entry.</summary>
    public bool IsReturnProbe { get; }
}

public partial class BpfProgram
{
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
