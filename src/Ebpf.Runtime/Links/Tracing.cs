using System;
using System.Runtime.InteropServices;
using Ebpf.Kernel;
using Ebpf.Loader;

namespace Ebpf;

// BTF-attached programs (tp_btf, fentry, fexit, fmod_ret, fsession, freplace, lsm): tracing links.

/// <summary>A BTF-attached tracing program: SEC("tp_btf/..."), "fentry/", "fexit/", "fmod_ret/", "fsession/", "freplace/".</summary>
public sealed class TracingProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a tracing program (SEC("tp_btf/..."), SEC("fentry/..."), SEC("fexit/..."), SEC("fmod_ret/..."), SEC("freplace/...")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public TracingProgram(BpfProgram program)
        : base(program, ProgramKind.Tracing, "a tracing program (tp_btf, fentry, fexit, fmod_ret, fsession, freplace); iterators are IteratorProgram",
            "set AttachTarget before Load() and use TracingProgram.Attach()") { }

    /// <summary>Attaches to the function or tracepoint the program was loaded against (<see cref="BpfProgram.AttachTarget"/>).</summary>
    public TracingLink Attach(ulong cookie = 0) => Program.AttachTracing(cookie);

    internal override BpfLink AttachBySection()
    {
        SectionTarget();
        return Attach();
    }
}

/// <summary>A SEC("lsm/...") program (BPF LSM, Linux 5.7 with CONFIG_BPF_LSM and "bpf" in lsm=).</summary>
public sealed class LsmProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be an LSM program (SEC("lsm/hook"), SEC("lsm.s/hook")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public LsmProgram(BpfProgram program)
        : base(program, ProgramKind.Lsm, "an LSM program (SEC(\"lsm/hook\")); lsm_cgroup programs are CgroupProgram",
            "set AttachTarget before Load() and use LsmProgram.Attach()") { }

    /// <summary>Attaches to the LSM hook the program was loaded against (lsm_cgroup programs are <see cref="CgroupProgram"/>).</summary>
    public TracingLink Attach(ulong cookie = 0) => Program.AttachTracing(cookie);

    internal override BpfLink AttachBySection()
    {
        SectionTarget();
        return Attach();
    }
}

/// <summary>A BTF-attached program (tp_btf, fentry, fexit, fmod_ret, freplace, lsm) held by a tracing link.</summary>
public sealed class TracingLink : FdLink
{
    internal TracingLink(BpfProgram program, BpfHandle handle, string kind, string attachTarget)
        : base(program, handle, $"{kind} {attachTarget}")
    {
        Kind = kind;
        AttachTarget = attachTarget;
    }

    /// <summary>"fentry", "fexit", "tp_btf", "lsm", ...</summary>
    public string Kind { get; }
    /// <summary>The kernel function, BTF tracepoint or LSM hook.</summary>
    public string AttachTarget { get; }
}

public partial class BpfProgram
{
    /// <summary>
    /// Attaches a BTF-verified program (tp_btf, fentry, fexit, fmod_ret, freplace, lsm) to the target it was loaded against.
    /// </summary>
    public unsafe TracingLink AttachTracing(ulong cookie = 0)
    {
        string target = AttachTarget ?? SectionName;
        int fd;
        if (cookie == 0)
        {
            var a = new RawTracepointOpenAttr { ProgFd = (uint)Fd };
            fd = BpfSys.Call(Syscalls, BpfCommand.RawTracepointOpen, ref a);
        }
        else
        {
            var la = new LinkCreateAttr { ProgFd = (uint)Fd, AttachType = ExpectedAttachType.HasValue ? (uint)ExpectedAttachType.Value : 0, TracingCookie = cookie };
            fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref la);
        }
        if (fd < 0)
        {
            if ((-fd == Errno.ENOTSUPP || -fd == Errno.EOPNOTSUPP) && UsesKernelTrampoline)
                throw TrampolineNotSupported(target);
            throw BpfSys.Error(cookie == 0 ? BpfCommand.RawTracepointOpen : BpfCommand.LinkCreate, -fd, $"of {Type} program '{Name}' to '{target}'",
                -fd == Errno.EPERM || -fd == Errno.ENOTSUPP || -fd == Errno.EOPNOTSUPP
                    ? $"this kernel refuses {Type} attachment (fentry/fexit/fmod_ret need BPF trampolines, lsm needs CONFIG_BPF_LSM and \"bpf\" in the lsm= boot list)"
                    : -fd == Errno.EINVAL && cookie != 0 ? "BPF cookies on tracing links need Linux 5.19"
                    : null);
        }
        return new TracingLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), Section?.Definition.Prefix ?? Type.ToString(), target);
    }

    /// <summary>fentry, fexit, fmod_ret, fsession and lsm programs on a kernel function: the kernel puts a BPF trampoline there.</summary>
    internal bool UsesKernelTrampoline =>
        Type == BpfProgramType.Lsm && ExpectedAttachType == BpfAttachType.LsmMac
        || Type == BpfProgramType.Tracing && ExpectedAttachType is BpfAttachType.TraceFentry or BpfAttachType.TraceFexit or BpfAttachType.ModifyReturn or BpfAttachType.TraceFsession;

    /// <summary>
    /// ENOTSUPP from the attach of a trampoline program: the architecture cannot put a trampoline on a kernel function
    /// (arm64 before 6.4: no ftrace direct calls), or this kernel was built without what it needs.
    /// </summary>
    private BpfNotSupportedException TrampolineNotSupported(string target)
    {
        const string feature = KernelFeatures.TrampolineFeature;
        string what = $"cannot attach {Section?.Definition.Prefix ?? Type.ToString()} program '{Name}' to '{target}'";
        string min = KernelFeatures.TrampolineMinimumKernel;
        if (!KernelFeatures.KernelIsAtLeast(min))
            return new BpfNotSupportedException(feature, min, RuntimeInformation.ProcessArchitecture == Architecture.Arm64
                ? $"{what}: on arm64 a trampoline on a kernel function needs ftrace direct calls (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS), which arm64 kernels have since Linux 6.4"
                : what);
        return BpfNotSupportedException.Configuration(feature,
            $"{what}: this kernel ({KernelInfo.Release}, {KernelFeatures.ArchitectureName}) cannot put a BPF trampoline on a kernel function (ENOTSUPP); it was built without ftrace direct calls (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)");
    }
}
