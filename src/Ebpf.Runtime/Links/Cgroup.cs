using System;
using System.Runtime.InteropServices;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

// cgroup hooks: a cgroup link (Linux 5.7) or the legacy BPF_PROG_ATTACH.

/// <summary>A cgroup program: SEC("cgroup_skb/..."), "cgroup/...", "sockops", "lsm_cgroup/...".</summary>
public sealed class CgroupProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a cgroup program (SEC("cgroup_skb/ingress"), SEC("cgroup/connect4"), SEC("sockops"), SEC("lsm_cgroup/hook"), ...), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public CgroupProgram(BpfProgram program)
        : base(program, ProgramKind.Cgroup, "a cgroup program (SEC(\"cgroup_skb/ingress\"), SEC(\"cgroup/connect4\"), SEC(\"sockops\"), SEC(\"lsm_cgroup/hook\"), ...)",
            "use CgroupProgram.Attach(cgroupPath)") { }

    /// <summary>
    /// Attaches to the cgroup v2 directory <paramref name="cgroupPath"/> with a cgroup link (Linux 5.7);
    /// <paramref name="attachType"/> null means the hook the section names.
    /// </summary>
    public CgroupLink Attach(string cgroupPath, BpfAttachType? attachType = null) =>
        Program.AttachCgroup(cgroupPath, Program.CgroupAttachType(attachType));

    /// <summary>Attaches to the cgroup open as <paramref name="cgroupDirectory"/> (the handle is not kept).</summary>
    public CgroupLink Attach(SafeHandle cgroupDirectory, BpfAttachType? attachType = null)
    {
        if (cgroupDirectory is null) throw new ArgumentNullException(nameof(cgroupDirectory));
        bool added = false;
        try
        {
            cgroupDirectory.DangerousAddRef(ref added);
            int fd = (int)cgroupDirectory.DangerousGetHandle();
            return Program.AttachCgroupFd(fd, $"fd {fd}", Program.CgroupAttachType(attachType));
        }
        finally
        {
            if (added) cgroupDirectory.DangerousRelease();
        }
    }

    /// <summary>
    /// Attaches with the legacy BPF_PROG_ATTACH (kernels before 5.7, or to mix with tools that use it); the
    /// attachment is removed with BPF_PROG_DETACH on dispose.
    /// </summary>
    public CgroupAttachment AttachLegacy(string cgroupPath, CgroupAttachFlags flags = CgroupAttachFlags.AllowMulti, BpfAttachType? attachType = null) =>
        Program.AttachCgroupLegacy(cgroupPath, Program.CgroupAttachType(attachType), flags);
}

/// <summary>Flags of the legacy BPF_PROG_ATTACH on a cgroup.</summary>
[Flags]
public enum CgroupAttachFlags : uint
{
    /// <summary>Exclusive: one program per cgroup and hook, which descendants cannot override.</summary>
    None = 0,
    /// <summary>BPF_F_ALLOW_OVERRIDE: a descendant cgroup's program replaces this one for its subtree.</summary>
    AllowOverride = 1,
    /// <summary>BPF_F_ALLOW_MULTI: several programs per hook, all of which run (what cgroup links always do).</summary>
    AllowMulti = 2,
}

/// <summary>A program attached to a cgroup v2 directory with a cgroup link (Linux 5.7).</summary>
public sealed class CgroupLink : FdLink
{
    internal CgroupLink(BpfProgram program, BpfHandle handle, string cgroup, BpfAttachType attachType)
        : base(program, handle, $"{AttachTypeName(attachType)} on cgroup {cgroup}")
    {
        Cgroup = cgroup;
        AttachType = attachType;
    }

    /// <summary>The cgroup's path (or "fd N" when attached through a descriptor).</summary>
    public string Cgroup { get; }
    /// <summary>The cgroup hook the program is attached to (BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET4_CONNECT, ...).</summary>
    public BpfAttachType AttachType { get; }

    /// <summary>The section spelling of an attach type ("cgroup_skb/ingress"), else the enum name.</summary>
    internal static string AttachTypeName(BpfAttachType t)
    {
        foreach (var d in SectionDefinitions.All)
            if (d.ExpectedAttachType == t && !d.IsPrefixMatch) return d.Pattern;
        return t.ToString();
    }
}

/// <summary>
/// A program attached to a cgroup with the legacy BPF_PROG_ATTACH (what kernels before 5.7 offer): not a kernel
/// object, it lasts until detached with BPF_PROG_DETACH, which Dispose does.
/// </summary>
public sealed class CgroupAttachment : BpfLink
{
    private readonly BpfHandle _cgroup;

    internal CgroupAttachment(BpfProgram program, BpfHandle cgroupFd, string cgroup, BpfAttachType attachType, CgroupAttachFlags flags)
        : base(program)
    {
        _cgroup = cgroupFd;
        Cgroup = cgroup;
        AttachType = attachType;
        Flags = flags;
    }

    /// <summary>The cgroup's path as given at attach.</summary>
    public string Cgroup { get; }
    /// <summary>The cgroup hook the program is attached to (BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET4_CONNECT, ...).</summary>
    public BpfAttachType AttachType { get; }
    /// <summary>The BPF_PROG_ATTACH flags the program was attached with; they decide how it combines with programs of parent and child cgroups.</summary>
    public CgroupAttachFlags Flags { get; }

    /// <inheritdoc/>
    public override string Target => $"{CgroupLink.AttachTypeName(AttachType)} on cgroup {Cgroup} (BPF_PROG_ATTACH, {Flags})";

    /// <summary>Replaces the program in place (BPF_F_REPLACE, Linux 5.6; needs <see cref="CgroupAttachFlags.AllowMulti"/>).</summary>
    private protected override unsafe void UpdateCore(BpfProgram program)
    {
        var a = new ProgAttachAttr
        {
            TargetFd = (uint)_cgroup.Fd,
            AttachBpfFd = (uint)program.Fd,
            AttachType = (uint)AttachType,
            AttachFlags = (uint)Flags | 4u /* BPF_F_REPLACE */,
            ReplaceBpfFd = (uint)Program.Fd,
        };
        int r = BpfSys.Call(Program.Syscalls, BpfCommand.ProgAttach, ref a);
        if (r < 0)
            throw BpfSys.Error(BpfCommand.ProgAttach, -r, $"replacing '{Program.Name}' with '{program.Name}' on {Target}",
                -r == Errno.EINVAL ? "replacing needs an attachment made with AllowMulti, and a program of the same type and attach type" : null);
    }

    private protected override unsafe void Release()
    {
        try
        {
            var a = new ProgAttachAttr { TargetFd = (uint)_cgroup.Fd, AttachBpfFd = Program.IsLoaded ? (uint)Program.Fd : 0, AttachType = (uint)AttachType };
            int r = BpfSys.Call(Program.Syscalls, BpfCommand.ProgDetach, ref a);
            if (r < 0 && -r != Errno.ENOENT)
                throw BpfSys.Error(BpfCommand.ProgDetach, -r, $"of program '{Program.Name}' from {Target}");
        }
        finally
        {
            _cgroup.Dispose();
        }
    }
}

public partial class BpfProgram
{
    private BpfHandle OpenDirectory(string path, string what)
    {
        if (string.IsNullOrEmpty(path)) throw new ArgumentException($"the {what} path is empty", nameof(path));
        int fd = Syscalls.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY);
        if (fd < 0)
            throw new BpfEnvironmentException($"cannot open {what} '{path}': {Errno.Name(-fd)} ({Errno.Describe(-fd)})" +
                (-fd == Errno.ENOENT ? $"; the {what} does not exist" : -fd == Errno.ENOTDIR ? " (not a directory)" : string.Empty));
        return new BpfHandle(fd, BpfHandleKind.Other, Syscalls);
    }

    internal BpfAttachType CgroupAttachType(BpfAttachType? asked)
    {
        if (asked.HasValue) return asked.Value;
        return ExpectedAttachType ?? throw new ArgumentException($"program '{Name}' (SEC(\"{SectionName}\")) does not name a cgroup hook; pass the attach type");
    }

    internal unsafe CgroupLink AttachCgroup(string cgroupPath, BpfAttachType attachType)
    {
        using var cg = OpenDirectory(cgroupPath, "cgroup");
        return AttachCgroupFd(cg.Fd, cgroupPath, attachType);
    }

    internal unsafe CgroupLink AttachCgroupFd(int cgroupFd, string description, BpfAttachType attachType)
    {
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)cgroupFd, AttachType = (uint)attachType };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
        {
            int e = -fd;
            throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of {Type} program '{Name}' to cgroup {description} ({CgroupLink.AttachTypeName(attachType)})", e switch
            {
                Errno.EBADF => $"'{description}' is not a cgroup v2 directory (BPF attaches to the unified hierarchy; mount it with `mount -t cgroup2 none /sys/fs/cgroup`)",
                Errno.EINVAL => $"the kernel refused: cgroup links need Linux 5.7, and a {Type} program loaded for {CgroupLink.AttachTypeName(attachType)}; CgroupProgram.AttachLegacy() works on older kernels",
                Errno.EPERM => "attaching to a cgroup needs CAP_NET_ADMIN (or CAP_SYS_ADMIN) and BPF rights",
                _ => null,
            });
        }
        return new CgroupLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), description, attachType);
    }

    internal unsafe CgroupAttachment AttachCgroupLegacy(string cgroupPath, BpfAttachType attachType, CgroupAttachFlags flags)
    {
        var cg = OpenDirectory(cgroupPath, "cgroup");
        try
        {
            var a = new ProgAttachAttr { TargetFd = (uint)cg.Fd, AttachBpfFd = (uint)Fd, AttachType = (uint)attachType, AttachFlags = (uint)flags };
            int r = BpfSys.Call(Syscalls, BpfCommand.ProgAttach, ref a);
            if (r < 0)
                throw BpfSys.Error(BpfCommand.ProgAttach, -r, $"of {Type} program '{Name}' to cgroup {cgroupPath} ({CgroupLink.AttachTypeName(attachType)})",
                    -r == Errno.EEXIST ? "another program is attached exclusively to this hook (attach with AllowMulti, or detach it first)" :
                    -r == Errno.EPERM ? "a program attached with different flags is in the way (exclusive or override attachments do not mix with multi)" : null);
            return new CgroupAttachment(this, cg, cgroupPath, attachType, flags);
        }
        catch
        {
            cg.Dispose();
            throw;
        }
    }
}
