using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Ebpf.Kernel;
using Ebpf.Objects;

namespace Ebpf;

/// <summary>
/// A global-data section (.rodata, .data, .bss, .data.*, .rodata.*, .kconfig) and the array map behind it.
/// Before load its contents live in a managed buffer that seeds the map; after load, writable sections are the
/// map's memory itself (mmap), so a counter a program increments is visible here without a system call.
/// .rodata is writable only before load: the map is frozen afterwards.
/// </summary>
public sealed unsafe class BpfDataSection
{
    private byte[] _staging;
    private System.Buffers.MemoryManager<byte>? _mapping;
    private byte[]? _snapshot;

    internal BpfDataSection(BpfObject owner, BpfMap map, MapSpec spec)
    {
        Object = owner;
        Map = map;
        Spec = spec;
        _staging = new byte[spec.ValueSize];
        spec.InitialData?.Span.CopyTo(_staging);
    }

    /// <summary>The object the section belongs to.</summary>
    public BpfObject Object { get; }
    /// <summary>The single-entry array map that holds the section in the kernel (named after the object and the section, as libbpf names it).</summary>
    public BpfMap Map { get; }
    internal MapSpec Spec { get; }
    /// <summary>The ELF section: ".rodata", ".bss", ".data.custom", ".kconfig", ...</summary>
    public string SectionName => Spec.SectionName;
    /// <summary>Which kind of section this is (.rodata, .data, .bss, .kconfig, or a custom one); it decides whether it is writable after load.</summary>
    public MapOrigin Kind => Spec.Origin;
    /// <summary>The global variables in the section, from BTF: name, offset and size in bytes, type.</summary>
    public IReadOnlyList<VariableSpec> Variables => Spec.Variables;
    /// <summary>Size in bytes (after <see cref="Resize"/>, the new size).</summary>
    public int Size => _staging.Length;
    /// <summary>Whether the section's map exists in the kernel (the object is loaded and the map not disposed).</summary>
    public bool IsLoaded => Map.IsLoaded;
    /// <summary>.rodata and .kconfig: programs and (after load) user space can only read them.</summary>
    public bool IsReadOnly => Kind == MapOrigin.Rodata || Kind == MapOrigin.Kconfig;
    /// <summary>Whether the contents are the live map memory (after load, for mmap-able maps).</summary>
    public bool IsMapped => _mapping != null;

    /// <summary>Whether writes are allowed now: any section but .kconfig before load; after load, the non-read-only ones.</summary>
    public bool IsWritable => IsLoaded ? !IsReadOnly : Kind != MapOrigin.Kconfig;

    internal byte[] StagingBuffer => _staging;

    internal void AttachMapping(System.Buffers.MemoryManager<byte> mapping) => _mapping = mapping;

    internal void ReleaseMapping()
    {
        ((IDisposable?)_mapping)?.Dispose();
        _mapping = null;
    }

    /// <summary>
    /// Changes the section's size before load (libbpf's bpf_map__set_value_size): contents are kept, new bytes are
    /// zero. When the last variable is an array, its element count follows so that BTF still describes the section.
    /// </summary>
    public void Resize(int newSize)
    {
        Map.ThrowIfDisposed();
        if (IsLoaded)
            throw new InvalidOperationException($"section '{SectionName}' can only be resized before Load()");
        if (newSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(newSize), "size must be positive");
        Array.Resize(ref _staging, newSize);
        Map.SetValueSizeInternal((uint)newSize);
    }

    private void Check(int offset, int size)
    {
        Map.ThrowIfDisposed();
        if (offset < 0 || size < 0 || offset > Size - size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"section '{SectionName}': {size} bytes at offset {offset} lie outside its {Size} bytes");
    }

    private Exception ReadOnlyAfterLoad() =>
        new InvalidOperationException(Kind == MapOrigin.Kconfig
            ? $"section '{SectionName}' is filled by the loader from the kernel configuration and cannot be written"
            : $"section '{SectionName}' is read-only after Load() (the map is frozen); set .rodata values between Open() and Load()");

    /// <summary>The section's bytes for writing (before load; after load only for writable, mapped sections).</summary>
    public Span<byte> AsSpan()
    {
        Map.ThrowIfDisposed();
        if (!IsWritable) throw ReadOnlyAfterLoad();
        if (!IsLoaded) return _staging;
        if (_mapping != null) return _mapping.GetSpan();
        throw new InvalidOperationException($"section '{SectionName}' is not memory-mapped (the kernel lacks mmap-able arrays, Linux 5.5); use Read/Write");
    }

    /// <summary>The section's bytes for reading. For a section that is not mapped after load, a fresh copy read from the map.</summary>
    public ReadOnlySpan<byte> AsReadOnlySpan()
    {
        Map.ThrowIfDisposed();
        if (!IsLoaded) return _staging;
        if (_mapping != null) return _mapping.GetSpan();
        return Snapshot();
    }

    private byte[] Snapshot()
    {
        var buf = _snapshot ??= new byte[Size];
        int key = 0;
        fixed (byte* v = buf)
        {
            int r = Map.LookupRaw(&key, v, 0);
            if (r < 0) throw Map.ElementError(BpfCommand.MapLookupElem, -r);
        }
        return buf;
    }

    /// <summary>A writable reference to a <typeparamref name="T"/> at <paramref name="offset"/> (before load, or live after load).</summary>
    public ref T Ref<T>(int offset) where T : unmanaged
    {
        Check(offset, sizeof(T));
        var span = AsSpan();
        return ref Unsafe.As<byte, T>(ref span[offset]);
    }

    /// <summary>A read-only reference to a <typeparamref name="T"/> at <paramref name="offset"/>.</summary>
    public ref readonly T RefReadOnly<T>(int offset) where T : unmanaged
    {
        Check(offset, sizeof(T));
        var span = AsReadOnlySpan();
        return ref Unsafe.As<byte, T>(ref Unsafe.AsRef(in span[offset]));
    }

    /// <summary>
    /// Reads a <typeparamref name="T"/> at byte <paramref name="offset"/>: before load from the staged contents, after
    /// load from the map's memory (or, where the map cannot be mapped, with a lookup of the whole value).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value does not lie inside the section.</exception>
    /// <exception cref="ObjectDisposedException">The section's map was disposed.</exception>
    /// <exception cref="BpfSyscallException">The lookup of an unmapped section failed.</exception>
    public T Read<T>(int offset) where T : unmanaged
    {
        Check(offset, sizeof(T));
        return Unsafe.ReadUnaligned<T>(ref Unsafe.AsRef(in AsReadOnlySpan()[offset]));
    }

    /// <summary>
    /// Writes <paramref name="value"/> at byte <paramref name="offset"/>: before load into the contents the map is
    /// created with, after load into the map's memory (or, where the map cannot be mapped, by updating the whole value,
    /// which is not atomic with respect to programs that write the section at the same time).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value does not lie inside the section.</exception>
    /// <exception cref="InvalidOperationException">The section is .rodata after load (frozen) or .kconfig (filled by the loader).</exception>
    /// <exception cref="ObjectDisposedException">The section's map was disposed.</exception>
    /// <exception cref="BpfSyscallException">The update of an unmapped section failed.</exception>
    public void Write<T>(int offset, T value) where T : unmanaged
    {
        Check(offset, sizeof(T));
        if (!IsWritable) throw ReadOnlyAfterLoad();
        if (IsLoaded && _mapping == null)
        {
            // Not mapped (old kernel): read-modify-write the whole value.
            var copy = Snapshot();
            Unsafe.WriteUnaligned(ref copy[offset], value);
            int key = 0;
            fixed (byte* v = copy)
            {
                int r = Map.UpdateRaw(&key, v, 0);
                if (r < 0) throw Map.ElementError(BpfCommand.MapUpdateElem, -r);
            }
            return;
        }
        Unsafe.WriteUnaligned(ref AsSpan()[offset], value);
    }

    /// <summary>The variable named <paramref name="name"/>, or null.</summary>
    public VariableSpec? FindVariable(string name)
    {
        foreach (var v in Spec.Variables)
            if (v.Name == name) return v;
        return null;
    }

    /// <summary>The section's name, size in bytes, and state: staged (before load), mapped or loaded.</summary>
    public override string ToString() => $"section '{SectionName}' ({Size} bytes, {(IsLoaded ? IsMapped ? "mapped" : "loaded" : "staged")})";
}
