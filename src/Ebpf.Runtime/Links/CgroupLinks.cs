using System;
using Ebpf.Kernel;

namespace Ebpf;

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

    public string Cgroup { get; }
    public BpfAttachType AttachType { get; }
    public CgroupAttachFlags Flags { get; }

    public override string Target => $"{CgroupLink.AttachTypeName(AttachType)} on cgroup {Cgroup} (BPF_PROG_ATTACH, {Flags})";

    /// <summary>Replaces the program in place (BPF_F_REPLACE, Linux 5.6; needs <see cref="CgroupAttachFlags.AllowMulti"/>).</summary>
    public override unsafe void Update(BpfProgram program)
    {
        if (program is null) throw new ArgumentNullException(nameof(program));
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
        SetProgram(program);
    }

    public override void Detach() => Dispose();

    protected override unsafe void Release()
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
