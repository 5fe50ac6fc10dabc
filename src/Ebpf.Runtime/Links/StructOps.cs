using System;
using System.Collections.Generic;
using Ebpf.Kernel;
using Ebpf.Objects;

namespace Ebpf;

// struct_ops (SEC(".struct_ops"), SEC(".struct_ops.link")): the programs are callbacks of a kernel struct; what is
// registered (attached) is the struct_ops map that points to them (BpfStructOps), by map update or a bpf_link.

/// <summary>
/// A SEC("struct_ops/...") or SEC("struct_ops.s/...") program: a callback of a kernel struct (tcp_congestion_ops,
/// sched_ext_ops, ...). It is not attached on its own: the kernel calls it once a struct_ops map pointing to it is
/// registered (<see cref="BpfStructOps.Attach"/>, or <see cref="BpfObject.Attach"/>).
/// </summary>
public sealed class StructOpsProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a struct_ops program (SEC("struct_ops/..."), SEC("struct_ops.s/...")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public StructOpsProgram(BpfProgram program)
        : base(program, ProgramKind.StructOps, "a struct_ops program (SEC(\"struct_ops/...\"))",
            "a struct_ops program runs when a struct_ops map that points to it is registered: attach that map (StructOpsProgram.Maps lists them; BpfStructOps.Attach(), or the skeleton's StructOps.<Map>.Attach())") { }

    /// <summary>The struct and member the object's struct_ops maps point the program to (null when none does).</summary>
    public StructOpsBinding? Binding => Program.Spec?.StructOps;

    /// <summary>The struct_ops maps of the program's object whose callbacks point to it now.</summary>
    public IReadOnlyList<BpfStructOps> Maps
    {
        get
        {
            var result = new List<BpfStructOps>();
            if (Program.Object is { } obj)
            {
                foreach (var ops in obj.StructOps)
                    foreach (var p in ops.Programs)
                        if (ReferenceEquals(p, Program)) { result.Add(ops); break; }
            }
            return result;
        }
    }
}

/// <summary>
/// A registered struct_ops value. For a <c>.struct_ops.link</c> map it is a kernel bpf_link (BPF_LINK_CREATE with
/// BPF_STRUCT_OPS, Linux 6.4): it can be pinned, moved to another struct_ops map of the same type with
/// <see cref="Update(BpfStructOps)"/>, and unregisters the value when detached or closed. For a <c>.struct_ops</c>
/// map the registration is the map update itself: disposing the link deletes the map's element, which unregisters
/// the value. <see cref="BpfLink.Program"/> is the first program the value points to.
/// </summary>
public sealed class StructOpsLink : BpfLink
{
    private BpfStructOps _ops;

    private StructOpsLink(BpfStructOps ops, BpfProgram first, BpfHandle? handle) : base(first)
    {
        _ops = ops;
        Handle = handle;
    }

    /// <summary>The struct_ops map the link registers (changes with <see cref="Update(BpfStructOps)"/>).</summary>
    public BpfStructOps StructOps => _ops;

    /// <summary>The bpf_link of a <c>.struct_ops.link</c> map; null for a <c>.struct_ops</c> registration.</summary>
    public BpfHandle? Handle { get; }

    /// <summary>Whether this is a kernel bpf_link (a <c>.struct_ops.link</c> map).</summary>
    public bool IsKernelLink => Handle != null;

    /// <inheritdoc/>
    public override string Target => $"struct_ops {_ops.TypeName} '{_ops.Name}'{(Handle == null ? " (registered by map update)" : string.Empty)}";

    /// <summary>Kernel id of the bpf_link (0 for a <c>.struct_ops</c> registration, which has none).</summary>
    public uint Id => Handle == null ? 0 : Info().Id;

    /// <summary>Kernel id of the map the registration holds, as the kernel reports it (bpf_link_info.struct_ops.map_id).</summary>
    public uint MapId => Handle == null ? _ops.Map.Id : (uint)Info().U0;

    private LinkInfo Info()
    {
        var info = new LinkInfo();
        BpfSys.GetInfo(_ops.Map.Syscalls, Handle!, ref info);
        return info;
    }

    internal static unsafe StructOpsLink Register(BpfStructOps ops)
    {
        BpfProgram? first = null;
        foreach (var p in ops.Programs)
            if (p != null && p.IsLoaded) { first = p; break; }
        if (first == null)
            throw new InvalidOperationException($"struct_ops map '{ops.Name}' ({ops.TypeName}): no function member points to a loaded program, so there is nothing to register");
        var sys = ops.Map.Syscalls;
        // A link map may have been updated by an earlier link (the kernel then says EBUSY): its value is already in place.
        ops.UpdateKernelValue(allowBusy: ops.IsLink);
        if (!ops.IsLink)
            return new StructOpsLink(ops, first, null);
        int fd;
        using (var map = ops.Map.EnterFd())
        {
            var a = new LinkCreateAttr { ProgFd = (uint)map.Fd, AttachType = (uint)BpfAttachType.StructOps };
            fd = BpfSys.Call(sys, BpfCommand.LinkCreate, ref a);
        }
        if (fd < 0)
            throw BpfSys.Error(BpfCommand.LinkCreate, -fd, $"(BPF_STRUCT_OPS) of struct_ops map '{ops.Name}' (struct {ops.TypeName})",
                -fd == Errno.EINVAL ? $"the kernel's struct_ops '{ops.TypeName}' refused the value (a required callback missing, or a name already registered)" :
                -fd == Errno.EEXIST ? $"a {ops.TypeName} with the same name is already registered" : null);
        return new StructOpsLink(ops, first, new BpfHandle(fd, BpfHandleKind.Link, sys));
    }

    /// <summary>
    /// Moves the registration to another struct_ops map of the same kernel type (BPF_LINK_UPDATE with the new map,
    /// libbpf's bpf_link__update_map): the kernel switches users of the old value to the new one. Only for
    /// <c>.struct_ops.link</c> maps, both loaded.
    /// </summary>
    public unsafe void Update(BpfStructOps replacement)
    {
        if (replacement is null) throw new ArgumentNullException(nameof(replacement));
        ThrowIfDisposed();
        if (Handle == null)
            throw new NotSupportedException($"{Target}: a .struct_ops registration has no bpf_link to update; unregister it (Dispose) and Attach() the other map, or declare both in SEC(\".struct_ops.link\")");
        if (!replacement.IsLink)
            throw new ArgumentException($"struct_ops map '{replacement.Name}' is in .struct_ops, not .struct_ops.link: only link maps can replace a link's value", nameof(replacement));
        if (!replacement.Map.IsLoaded)
            throw new InvalidOperationException($"struct_ops map '{replacement.Name}' is not created: load its object first");
        replacement.UpdateKernelValue(allowBusy: true);
        int r;
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            using var map = replacement.Map.EnterFd();
            var a = new LinkUpdateAttr { LinkFd = (uint)Handle.Fd, NewProgFd = (uint)map.Fd };
            r = BpfSys.Call(replacement.Map.Syscalls, BpfCommand.LinkUpdate, ref a);
        }
        finally
        {
            if (added) Handle.DangerousRelease();
        }
        if (r < 0)
            throw BpfSys.Error(BpfCommand.LinkUpdate, -r, $"of {Target} to map '{replacement.Name}'",
                -r == Errno.EINVAL ? $"the new map must be a .struct_ops.link map of the same struct ({_ops.TypeName}) whose value passes the kernel's checks" +
                    (_ops.TypeName == "tcp_congestion_ops" ? "; a congestion control is replaced only by one of the same name" : string.Empty) :
                -r == Errno.EOPNOTSUPP || -r == Errno.ENOTSUPP ? "this kernel cannot update struct_ops links (Linux 6.4)" : null);
        _ops = replacement;
        foreach (var p in replacement.Programs)
            if (p != null && p.IsLoaded) { SetProgram(p); break; }
    }

    /// <summary>Not for struct_ops: a struct_ops link holds a map of programs; use <see cref="Update(BpfStructOps)"/>.</summary>
    private protected override void UpdateCore(BpfProgram program) =>
        throw new NotSupportedException($"{Target}: a struct_ops link holds a map, not one program; call Update(BpfStructOps) with another struct_ops map");

    private protected override void PinCore(string path)
    {
        if (Handle == null)
            throw new NotSupportedException($"{Target}: a .struct_ops registration has no bpf_link to pin (the value stays registered while the map lives; declare it in SEC(\".struct_ops.link\") to get a link)");
        BpfSys.ObjPin(_ops.Map.Syscalls, Handle, path);
    }

    /// <summary>Unregisters the value now (BPF_LINK_DETACH, or the element's deletion for a .struct_ops map).</summary>
    private protected override unsafe void DetachCore()
    {
        if (Handle == null)
        {
            Dispose();
            return;
        }
        if (Handle.IsClosed) return;
        var a = new LinkDetachAttr { LinkFd = (uint)Handle.Fd };
        int r = BpfSys.Call(_ops.Map.Syscalls, BpfCommand.LinkDetach, ref a);
        if (r >= 0) return;
        if (-r != Errno.EOPNOTSUPP && -r != Errno.ENOTSUPP && -r != Errno.EINVAL)
            throw BpfSys.Error(BpfCommand.LinkDetach, -r, $"of {Target}");
        // Kernels before 6.10 cannot detach a struct_ops link: closing the last reference unregisters it.
        if (PinPath != null)
            throw BpfSys.Error(BpfCommand.LinkDetach, -r, $"of {Target}", $"this kernel cannot detach struct_ops links while they are pinned at '{PinPath}'; Unpin() it, then Dispose()");
        Dispose();
    }

    private protected override unsafe void Release()
    {
        if (Handle != null)
        {
            Handle.Dispose();
            return;
        }
        if (!_ops.Map.IsLoaded)
            return;
        // A registered .struct_ops value is held by the kernel, not by our descriptor: if the deletion fails, the
        // value stays registered after the map is closed. Transient failures get two more tries.
        int key = 0;
        int r = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            r = _ops.Map.DeleteRaw(&key);
            if (r == 0 || r == -Errno.ENOENT)
                return;
        }
        throw BpfSys.Error(BpfCommand.MapDeleteElem, -r, $"of struct_ops map '{_ops.Name}' (unregistering struct {_ops.TypeName})",
            $"the value stays registered until it is deleted: `bpftool struct_ops unregister id {_ops.Map.Id}`");
    }
}
