using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using Ebpf.Kernel;
using Ebpf.Objects;

namespace Ebpf;

/// <summary>
/// A struct_ops map of an object: one variable of <c>.struct_ops</c> or <c>.struct_ops.link</c>, an instance of a
/// kernel struct of callbacks (<c>tcp_congestion_ops</c>, <c>sched_ext_ops</c>, ...). Between Open and Load its
/// data members can be changed and its callbacks bound to other struct_ops programs of the object; Load maps the
/// value onto the running kernel's struct by member name and creates the map; <see cref="Attach"/> registers it
/// with the kernel (a map update, or a bpf_link for <c>.struct_ops.link</c>).
/// </summary>
public sealed class BpfStructOps
{
    private readonly byte[] _data;
    private readonly BpfProgram?[] _programs;
    private readonly bool[] _setByUser;
    private StructOpsLink? _link;

    internal BpfStructOps(BpfObject owner, BpfMap map, StructOpsSpec spec)
    {
        Object = owner;
        Map = map;
        Spec = spec;
        _data = spec.Data.ToArray();
        _programs = new BpfProgram?[spec.Members.Count];
        _setByUser = new bool[spec.Members.Count];
    }

    /// <summary>Binds the function members to the programs the object's initializer names (after the programs exist).</summary>
    internal void BindInitialPrograms()
    {
        foreach (var m in Spec.Members)
            if (m.ProgramName != null && Object.TryGetProgram(m.ProgramName, out var p))
                _programs[m.Index] = p;
    }

    /// <summary>The object the struct_ops map belongs to; its programs are the ones the callbacks can be bound to.</summary>
    public BpfObject Object { get; }
    /// <summary>The map (created at Load with the kernel's value type, BPF_F_LINK for <c>.struct_ops.link</c>).</summary>
    public BpfMap Map { get; }
    /// <summary>The struct_ops value as the object defines it.</summary>
    internal StructOpsSpec Spec { get; }
    /// <summary>The struct_ops map's name: the C variable's name in <c>.struct_ops</c> or <c>.struct_ops.link</c>.</summary>
    public string Name => Map.Name;
    /// <summary>The kernel struct this value implements, e.g. <c>tcp_congestion_ops</c>.</summary>
    public string TypeName => Spec.TypeName;
    /// <summary>True for <c>.struct_ops.link</c> maps, registered through a bpf_link (Linux 6.4).</summary>
    public bool IsLink => Spec.IsLink;
    /// <summary>The struct's members in the object's layout: data members (name, offset and size in bytes) and callbacks (function pointers bound to programs).</summary>
    public IReadOnlyList<StructOpsMemberSpec> Members => Spec.Members;

    /// <summary>Whether <see cref="BpfObject.Attach"/> registers this map (default true; libbpf's autoattach).</summary>
    public bool AutoAttach { get; set; } = true;

    /// <summary>The registration made by <see cref="Attach"/>, while it lasts.</summary>
    public StructOpsLink? Link => _link is { IsDisposed: false } l ? l : null;

    /// <summary>Whether the value is registered with the kernel now.</summary>
    public bool IsRegistered => Link != null;

    /// <summary>The value's bytes in the object's layout (function members are zero here: see <see cref="GetProgram"/>).</summary>
    public ReadOnlySpan<byte> Data => _data;

    // ------------------------------------------------------------------ the kernel's side, filled at Load

    /// <summary>The kernel value (struct bpf_struct_ops_&lt;type&gt;) built at Load, program descriptors included.</summary>
    internal byte[]? KernelValue { get; set; }

    /// <summary>Per member (object index): where its program descriptor goes in <see cref="KernelValue"/>, or -1.</summary>
    internal int[]? KernelFunctionOffsets { get; set; }

    /// <summary>The kernel whose BTF the value was laid out for, for messages ("Linux 6.1.0-57-amd64" or a module).</summary>
    internal string KernelLabel { get; set; } = string.Empty;

    internal bool IsSetByUser(int memberIndex) => _setByUser[memberIndex];

    // ------------------------------------------------------------------ members

    /// <summary>The member named <paramref name="member"/> in the object's struct (its kind, offset and size in bytes).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="member"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The struct has no such member; the message lists the members it has.</exception>
    public StructOpsMemberSpec GetMember(string member)
    {
        if (member is null) throw new ArgumentNullException(nameof(member));
        return Spec.FindMember(member) ?? throw new KeyNotFoundException(
            $"struct_ops map '{Name}': struct {TypeName} has no member '{member}' (members: {string.Join(", ", MemberNames())})");
    }

    private IEnumerable<string> MemberNames()
    {
        foreach (var m in Spec.Members) yield return m.Name;
    }

    private StructOpsMemberSpec DataMember(string member, int size)
    {
        var m = GetMember(member);
        if (m.Kind != StructOpsMemberKind.Scalar)
            throw new InvalidOperationException($"struct_ops map '{Name}': {TypeName}.{member} is a {KindText(m.Kind)}, not a data member" +
                (m.Kind == StructOpsMemberKind.Function ? " (use GetProgram/SetProgram)" : string.Empty));
        if (size >= 0 && size != m.Size)
            throw new ArgumentException($"struct_ops map '{Name}': {TypeName}.{member} is {m.Size} bytes, the C# type is {size}");
        return m;
    }

    private static string KindText(StructOpsMemberKind k) => k switch
    {
        StructOpsMemberKind.Function => "function pointer",
        StructOpsMemberKind.Pointer => "pointer (it must stay NULL)",
        StructOpsMemberKind.Bitfield => "bitfield (struct_ops values cannot set bitfields)",
        _ => "data member",
    };

    private void EnsureNotLoaded(string what)
    {
        Map.ThrowIfDisposed();
        if (Map.IsLoaded || Object.IsLoaded)
            throw new InvalidOperationException($"struct_ops map '{Name}': {what} can only be changed before Load() (the kernel's copy is fixed at registration)");
    }

    /// <summary>A data member's value (as the object or C# set it; the kernel's copy does not change after registration).</summary>
    public T Get<T>(string member) where T : unmanaged
    {
        var m = DataMember(member, System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return MemoryMarshal.Read<T>(_data.AsSpan(m.Offset, m.Size));
    }

    /// <summary>Sets a data member before Load.</summary>
    public void Set<T>(string member, T value) where T : unmanaged
    {
        var m = DataMember(member, System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        EnsureNotLoaded($"{TypeName}.{member}");
        MemoryMarshal.Write(_data.AsSpan(m.Offset, m.Size), in value);
        _setByUser[m.Index] = true;
    }

    /// <summary>A char-array member (<c>name</c> in <c>tcp_congestion_ops</c>) as text, up to its first NUL.</summary>
    public string GetString(string member)
    {
        var m = DataMember(member, -1);
        var span = _data.AsSpan(m.Offset, m.Size);
        int n = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(n < 0 ? span.ToArray() : span.Slice(0, n).ToArray());
    }

    /// <summary>Sets a char-array member before Load (UTF-8, NUL-terminated, so at most its size - 1 bytes).</summary>
    public void SetString(string member, string value)
    {
        if (value is null) throw new ArgumentNullException(nameof(value));
        var m = DataMember(member, -1);
        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length >= m.Size)
            throw new ArgumentException($"struct_ops map '{Name}': {TypeName}.{member} holds at most {m.Size - 1} bytes and a NUL; '{value}' is {bytes.Length} bytes", nameof(value));
        EnsureNotLoaded($"{TypeName}.{member}");
        var span = _data.AsSpan(m.Offset, m.Size);
        span.Clear();
        bytes.CopyTo(span);
        _setByUser[m.Index] = true;
    }

    /// <summary>The program a function member points to, or null.</summary>
    public BpfProgram? GetProgram(string member)
    {
        var m = GetMember(member);
        if (m.Kind != StructOpsMemberKind.Function)
            throw new InvalidOperationException($"struct_ops map '{Name}': {TypeName}.{member} is a {KindText(m.Kind)}, not a function pointer");
        return _programs[m.Index];
    }

    /// <summary>
    /// Points a function member to another struct_ops program of the same object (or to null) before Load. A
    /// program no struct_ops map points to any more is not loaded, as in libbpf.
    /// </summary>
    public void SetProgram(string member, BpfProgram? program)
    {
        var m = GetMember(member);
        if (m.Kind != StructOpsMemberKind.Function)
            throw new InvalidOperationException($"struct_ops map '{Name}': {TypeName}.{member} is a {KindText(m.Kind)}, not a function pointer");
        if (program != null)
        {
            if (!ReferenceEquals(program.Object, Object))
                throw new ArgumentException($"struct_ops map '{Name}': program '{program.Name}' belongs to another object; {TypeName}.{member} can only point to a program of object '{Object.Name}'", nameof(program));
            if (program.Type != BpfProgramType.StructOps)
                throw new ArgumentException($"struct_ops map '{Name}': program '{program.Name}' is a {program.Type} program (SEC(\"{program.SectionName}\")), not a struct_ops program", nameof(program));
        }
        EnsureNotLoaded($"{TypeName}.{member}");
        _programs[m.Index] = program;
        _setByUser[m.Index] = true;
    }

    /// <summary>The programs the function members point to now, by member index (null where unset).</summary>
    internal IReadOnlyList<BpfProgram?> Programs => _programs;

    // ------------------------------------------------------------------ registration

    /// <summary>
    /// Registers the value with the kernel: a <c>.struct_ops</c> map by its update (disposing the link deletes the
    /// element, which unregisters it), a <c>.struct_ops.link</c> map by BPF_LINK_CREATE (disposing the link closes
    /// it). The map must be loaded.
    /// </summary>
    public StructOpsLink Attach()
    {
        Map.ThrowIfDisposed();
        if (!Map.IsLoaded)
            throw new InvalidOperationException($"struct_ops map '{Name}' is not created: call Load() on its object first" + (!Map.AutoCreate ? " (its AutoCreate is false)" : string.Empty));
        if (Link != null)
            throw new InvalidOperationException($"struct_ops map '{Name}' ({TypeName}) is already registered");
        var link = StructOpsLink.Register(this);
        _link = link;
        return link;
    }

    /// <summary>BPF_MAP_UPDATE_ELEM of the kernel value; EBUSY is accepted for link maps (a link already used the value).</summary>
    internal unsafe void UpdateKernelValue(bool allowBusy)
    {
        var value = KernelValue ?? throw new InvalidOperationException($"struct_ops map '{Name}' has no kernel value: it was not prepared by Load()");
        int key = 0;
        int r;
        fixed (byte* v = value)
            r = Map.UpdateRaw(&key, v, 0);
        if (r == 0 || (allowBusy && r == -Errno.EBUSY))
            return;
        throw BpfSys.Error(BpfCommand.MapUpdateElem, -r, $"of struct_ops map '{Name}' (struct {TypeName}{(IsLink ? string.Empty : ", registering it")})", RegistrationAdvice(-r));
    }

    private string? RegistrationAdvice(int errno) => errno switch
    {
        Errno.EINVAL => $"the kernel's struct_ops '{TypeName}' refused the value: it checks the members it needs (for TCP congestion control: ssthresh, undo_cwnd, and cong_avoid or cong_control) and a name that is not empty",
        Errno.EEXIST => $"a {TypeName} with the same name is already registered (change the value's name member)",
        Errno.EBUSY => "the map was registered before: a .struct_ops map can be registered once (open and load the object again)",
        Errno.EOPNOTSUPP or Errno.ENOTSUPP => $"the kernel does not register {TypeName} values this way{(IsLink ? string.Empty : " (some struct_ops types, e.g. bpf_dummy_ops, only run under BPF_PROG_TEST_RUN; others only as .struct_ops.link)")}",
        _ => null,
    };

    /// <summary>The kernel value with program descriptors in place (called after the programs are loaded).</summary>
    internal void WriteProgramDescriptors()
    {
        var value = KernelValue;
        var offsets = KernelFunctionOffsets;
        if (value == null || offsets == null) return;
        for (int i = 0; i < _programs.Length; i++)
        {
            if (offsets[i] < 0) continue;
            var p = _programs[i];
            ulong fd = p != null && p.IsLoaded ? (ulong)p.Fd : 0;
            MemoryMarshal.Write(value.AsSpan(offsets[i], 8), in fd);
        }
    }

    /// <summary>The map's name, the kernel struct, and whether it is a link map and is registered.</summary>
    public override string ToString() => $"struct_ops '{Name}' (struct {TypeName}{(IsLink ? ", link" : string.Empty)}{(IsRegistered ? ", registered" : string.Empty)})";
}
