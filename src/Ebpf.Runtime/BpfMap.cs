using System;
using System.Runtime.CompilerServices;
using Ebpf.Kernel;
using Ebpf.Objects;

namespace Ebpf;

/// <summary>Flags of BPF_MAP_UPDATE_ELEM.</summary>
[Flags]
public enum BpfMapUpdateFlags : ulong
{
    /// <summary>Create a new element or update an existing one.</summary>
    Any = 0,
    /// <summary>Create only: fail if the key exists.</summary>
    NoExist = 1,
    /// <summary>Update only: fail if the key does not exist.</summary>
    Exist = 2,
    /// <summary>Take the value's bpf_spin_lock while updating.</summary>
    Lock = 4,
}

/// <summary>
/// A BPF map: before load, its definition (resizable); after load, a kernel object reached by its descriptor.
/// This class offers untyped byte-span access; the typed wrappers (<see cref="BpfHashMap{TKey, TValue}"/> and
/// friends) add zero-copy access for unmanaged key and value types.
/// </summary>
public class BpfMap : IDisposable
{
    private BpfHandle? _handle;
    private bool _disposed;
    private uint _keySize, _valueSize, _maxEntries, _numaNode;
    private BpfMapFlags _flags;
    private ulong _mapExtra;
    private string? _pinPath;

    internal BpfMap(BpfObject? owner, MapSpec? spec, string name, BpfMapType type, Syscalls sys)
    {
        Object = owner;
        Spec = spec;
        Name = name;
        Type = type;
        Syscalls = sys;
        if (spec != null)
        {
            _keySize = spec.KeySize;
            _valueSize = spec.ValueSize;
            _maxEntries = spec.MaxEntries;
            _flags = spec.Flags;
            _numaNode = spec.NumaNode;
            _mapExtra = spec.MapExtra;
            _autoCreate = spec.Autocreate;
        }
    }

    /// <summary>A map the caller already holds a descriptor for (pinned, by id, an inner map).</summary>
    internal BpfMap(BpfHandle handle, in MapInfo info, string name, Syscalls sys)
        : this(null, null, name, (BpfMapType)info.Type, sys)
    {
        _handle = handle;
        _keySize = info.KeySize;
        _valueSize = info.ValueSize;
        _maxEntries = info.MaxEntries;
        _flags = (BpfMapFlags)info.MapFlags;
        _mapExtra = info.MapExtra;
        Id = info.Id;
    }

    internal Syscalls Syscalls { get; }

    /// <summary>The object this map belongs to (null for maps opened from a pin or an id).</summary>
    public BpfObject? Object { get; }
    /// <summary>The definition from the object file (null for maps opened from a pin or an id).</summary>
    internal MapSpec? Spec { get; }
    /// <summary>The map's name: the C variable's name, or the data section's (".rodata", ".bss", ...); the kernel keeps the first 15 bytes.</summary>
    public string Name { get; }
    /// <summary>The kernel map type (BPF_MAP_TYPE_*), fixed by the object file or by the map that was opened.</summary>
    public BpfMapType Type { get; }
    /// <summary>Kernel id of the map, once created.</summary>
    public uint Id { get; internal set; }
    /// <summary>Whether the map exists in the kernel and its descriptor is open: created or reused by a load, or opened from a pin or an id; false after Dispose.</summary>
    public bool IsLoaded => _handle != null && !_handle.IsClosed;

    /// <summary>Size of a key, in bytes (0 for maps without keys: ring buffers, queues, stacks); can be changed before load.</summary>
    /// <exception cref="InvalidOperationException">Set after the map was created.</exception>
    /// <exception cref="ObjectDisposedException">Set after the map was disposed.</exception>
    public uint KeySize
    {
        get => _keySize;
        set { EnsureNotLoaded(nameof(KeySize)); _keySize = value; }
    }

    /// <summary>Size of one value (for per-CPU maps, of one CPU's value).</summary>
    public uint ValueSize
    {
        get => _valueSize;
        set
        {
            EnsureNotLoaded(nameof(ValueSize));
            if (Spec != null && Spec.IsInternal)
                throw new InvalidOperationException($"map '{Name}': resize a data section through BpfDataSection.Resize, which keeps its contents");
            _valueSize = value;
        }
    }

    internal void SetValueSizeInternal(uint size) => _valueSize = size;

    /// <summary>After creation: the max_entries the kernel actually uses (perf event arrays sized to the CPUs, ring buffers rounded up).</summary>
    internal void SetMaxEntriesInternal(uint maxEntries) => _maxEntries = maxEntries;

    /// <summary>For a struct_ops map: its value, members and registration; null for other maps.</summary>
    public BpfStructOps? StructOps { get; internal set; }

    /// <summary>Create the map without BTF key/value types (set when a resize made the BTF description wrong).</summary>
    internal bool DropBtf { get; set; }

    /// <summary>
    /// The maximum number of entries (for a ring buffer: its size in bytes, a power-of-two multiple of the page size);
    /// can be changed before load, as libbpf's bpf_map__set_max_entries. After creation, the value the kernel uses
    /// (a perf event array sized to the CPUs, a ring buffer rounded up).
    /// </summary>
    /// <exception cref="InvalidOperationException">Set after the map was created.</exception>
    /// <exception cref="ObjectDisposedException">Set after the map was disposed.</exception>
    public uint MaxEntries
    {
        get => _maxEntries;
        set { EnsureNotLoaded(nameof(MaxEntries)); _maxEntries = value; }
    }

    /// <summary>The map's <c>BPF_F_*</c> flags; can be changed before load.</summary>
    public BpfMapFlags Flags
    {
        get => _flags;
        set { EnsureNotLoaded(nameof(Flags)); _flags = value; }
    }

    /// <summary>The NUMA node to allocate the map's memory on, used when <see cref="Flags"/> has BPF_F_NUMA_NODE; can be changed before load.</summary>
    /// <exception cref="InvalidOperationException">Set after the map was created.</exception>
    /// <exception cref="ObjectDisposedException">Set after the map was disposed.</exception>
    public uint NumaNode
    {
        get => _numaNode;
        set { EnsureNotLoaded(nameof(NumaNode)); _numaNode = value; }
    }

    /// <summary>
    /// The map_extra attribute, whose meaning depends on the type: a bloom filter's number of hash functions (low 4 bits),
    /// an arena's user-space start address; 0 for most maps. Can be changed before load.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set after the map was created.</exception>
    /// <exception cref="ObjectDisposedException">Set after the map was disposed.</exception>
    public ulong MapExtra
    {
        get => _mapExtra;
        set { EnsureNotLoaded(nameof(MapExtra)); _mapExtra = value; }
    }

    /// <summary>Whether the object creates this map at load (default true; false to create it yourself and <see cref="ReuseHandle"/>).</summary>
    public bool AutoCreate
    {
        get => _autoCreate;
        set { EnsureNotLoaded(nameof(AutoCreate)); _autoCreate = value; }
    }

    private bool _autoCreate = true;

    /// <summary>Where the map is pinned, or null.</summary>
    public string? PinPath => _pinPath;
    /// <summary>Whether the map is pinned on a bpf filesystem (<see cref="PinPath"/> is set).</summary>
    public bool IsPinned => _pinPath != null;

    /// <summary>True for per-CPU maps, whose values hold one slot per possible CPU.</summary>
    public bool IsPerCpu => Type is BpfMapType.PercpuHash or BpfMapType.PercpuArray or BpfMapType.LruPercpuHash or BpfMapType.PercpuCgroupStorage;

    /// <summary>Number of per-CPU slots in a per-CPU value (the number of possible CPUs).</summary>
    public static int PossibleCpuCount => KernelInfo.PossibleCpus;

    /// <summary>Bytes a lookup writes: the value size, or for per-CPU maps the 8-byte-aligned value size times the possible CPUs.</summary>
    public int ValueBufferSize => IsPerCpu ? (int)(((_valueSize + 7) & ~7u) * (uint)KernelInfo.PossibleCpus) : (int)_valueSize;

    /// <summary>The map's descriptor; throws before load.</summary>
    public BpfHandle Handle => _handle is { IsClosed: false } h ? h : throw NotLoaded();

    /// <summary>The descriptor number (valid while the map is open).</summary>
    public int Fd => Handle.Fd;

    internal void SetHandle(BpfHandle handle, uint id)
    {
        _handle = handle;
        Id = id;
    }

    internal void SetPinPath(string? path) => _pinPath = path;

    /// <summary>Uses an existing map instead of creating one at load (libbpf's bpf_map__reuse_fd). The handle is owned by this map afterwards.</summary>
    public void ReuseHandle(BpfHandle handle)
    {
        EnsureNotLoaded(nameof(ReuseHandle));
        var info = new MapInfo();
        BpfSys.GetInfo(Syscalls, handle, ref info);
        _handle = handle;
        Id = info.Id;
        _keySize = info.KeySize;
        _valueSize = info.ValueSize;
        _maxEntries = info.MaxEntries;
        _flags = (BpfMapFlags)info.MapFlags;
        _autoCreate = false;
    }

    /// <summary>
    /// Before load: <see cref="InvalidOperationException"/>; after <see cref="Dispose"/> (of the map or of its object):
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Exception NotLoaded() =>
        _disposed || _handle != null
            ? new ObjectDisposedException(nameof(BpfMap), $"map '{Name}' is closed: it or its object was disposed")
            : new InvalidOperationException($"map '{Name}' is not created yet: call Load() on its object first");

    /// <summary>Whether <see cref="Dispose"/> was called (directly or by the map's object).</summary>
    internal bool IsDisposed => _disposed;

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the map (or its object) was disposed.</summary>
    internal void ThrowIfDisposed()
    {
        if (_disposed) throw NotLoaded();
    }

    private void EnsureNotLoaded(string what)
    {
        ThrowIfDisposed();
        if (_handle != null)
            throw new InvalidOperationException($"map '{Name}': {what} can only be changed before the map is created (before Load())");
    }

    // ------------------------------------------------------------------ descriptor scope

    /// <summary>
    /// Keeps the descriptor from being closed by a concurrent Dispose for the duration of one call, without atomics
    /// (<see cref="CallEpoch"/>): enter, then check the handle is open; the handle stays reachable until Dispose.
    /// </summary>
    internal readonly ref struct FdScope
    {
        private readonly BpfHandle _h;
        private readonly CallEpoch.Slot _slot;
        public readonly int Fd;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public FdScope(BpfHandle h, CallEpoch.Slot slot)
        {
            _h = h;
            _slot = slot;
            Fd = (int)h.DangerousGetHandle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dispose()
        {
            CallEpoch.Exit(_slot);
            GC.KeepAlive(_h);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal FdScope EnterFd()
    {
        var h = _handle;
        if (h == null) throw NotLoaded();
        var slot = CallEpoch.Current;
        CallEpoch.Enter(slot);
        if (h.IsClosed)
        {
            CallEpoch.Exit(slot);
            throw NotLoaded();
        }
        return new FdScope(h, slot);
    }

    // ------------------------------------------------------------------ raw element access (used by typed wrappers)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe int LookupRaw(void* key, void* value, ulong flags)
    {
        using var fd = EnterFd();
        return BpfSys.MapLookup(Syscalls, fd.Fd, key, value, flags);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe int UpdateRaw(void* key, void* value, ulong flags)
    {
        using var fd = EnterFd();
        return BpfSys.MapUpdate(Syscalls, fd.Fd, key, value, flags);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe int DeleteRaw(void* key, ulong flags = 0)
    {
        using var fd = EnterFd();
        return BpfSys.MapDelete(Syscalls, fd.Fd, key, flags);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe int GetNextKeyRaw(void* key, void* nextKey)
    {
        using var fd = EnterFd();
        return BpfSys.MapGetNextKey(Syscalls, fd.Fd, key, nextKey);
    }

    internal unsafe int LookupAndDeleteRaw(void* key, void* value, ulong flags = 0)
    {
        using var fd = EnterFd();
        return BpfSys.MapLookupAndDelete(Syscalls, fd.Fd, key, value, flags);
    }

    internal unsafe int BatchRaw(BpfCommand cmd, void* inBatch, void* outBatch, void* keys, void* values, ref uint count, ulong elemFlags)
    {
        using var fd = EnterFd();
        return BpfSys.MapBatch(Syscalls, cmd, fd.Fd, inBatch, outBatch, keys, values, ref count, elemFlags);
    }

    /// <summary>The exception for a failed element operation, with advice specific to maps.</summary>
    internal Exception ElementError(BpfCommand cmd, int errno)
    {
        string? hint = (cmd, errno) switch
        {
            (BpfCommand.MapUpdateElem, Errno.E2BIG) => $"the map is full (max_entries {MaxEntries})",
            (BpfCommand.MapUpdateElem, Errno.EEXIST) => "the key already exists and NoExist was requested",
            (BpfCommand.MapUpdateElem, Errno.ENOENT) => "the key does not exist and Exist was requested",
            (BpfCommand.MapUpdateElem, Errno.EINVAL) => Type is BpfMapType.Array or BpfMapType.PercpuArray ? $"array maps cannot be updated with NoExist, and the index must be below {MaxEntries}" : null,
            (BpfCommand.MapUpdateElem, Errno.EPERM) => "the map is frozen or read-only for user space (.rodata after load)",
            (BpfCommand.MapDeleteElem, Errno.EINVAL) => Type is BpfMapType.Array or BpfMapType.PercpuArray ? "elements of array maps cannot be deleted" : null,
            (_, Errno.ENOENT) => "no such element",
            (_, Errno.EOPNOTSUPP) or (_, Errno.ENOTSUPP) => $"{Type} maps do not support this operation",
            _ => null,
        };
        return BpfSys.Error(cmd, errno, $"on map '{Name}'", hint).About(objectName: Object?.Name, mapName: Name);
    }

    private void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != (int)_keySize)
            throw new ArgumentException($"map '{Name}': key is {key.Length} bytes, the map's key size is {_keySize}", nameof(key));
    }

    private void CheckValue(int length, string param)
    {
        if (length != ValueBufferSize)
            throw new ArgumentException($"map '{Name}': value buffer is {length} bytes, expected {ValueBufferSize}" + (IsPerCpu ? $" ({PossibleCpuCount} CPUs × {(_valueSize + 7) & ~7u} bytes)" : string.Empty), param);
    }

    // ------------------------------------------------------------------ untyped API

    /// <summary>Looks up <paramref name="key"/>; false when absent. <see cref="BpfMapLookupFlags.Lock"/> copies the value under its bpf_spin_lock.</summary>
    public unsafe bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value, BpfMapLookupFlags flags = BpfMapLookupFlags.None)
    {
        CheckKey(key);
        CheckValue(value.Length, nameof(value));
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            int r = LookupRaw(k, v, (ulong)flags);
            if (r == 0) return true;
            if (r == -Errno.ENOENT) return false;
            throw ElementError(BpfCommand.MapLookupElem, -r);
        }
    }

    /// <summary>Creates or updates the element at <paramref name="key"/>.</summary>
    public unsafe void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        CheckKey(key);
        CheckValue(value.Length, nameof(value));
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            int r = UpdateRaw(k, v, (ulong)flags);
            if (r < 0) throw ElementError(BpfCommand.MapUpdateElem, -r);
        }
    }

    /// <summary>Deletes the element at <paramref name="key"/>; false when it was absent.</summary>
    public unsafe bool Delete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        fixed (byte* k = key)
        {
            int r = DeleteRaw(k);
            if (r == 0) return true;
            if (r == -Errno.ENOENT) return false;
            throw ElementError(BpfCommand.MapDeleteElem, -r);
        }
    }

    /// <summary>The key after <paramref name="key"/> (or the first key when <paramref name="key"/> is empty); false at the end.</summary>
    public unsafe bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (!key.IsEmpty) CheckKey(key);
        if (nextKey.Length != (int)_keySize)
            throw new ArgumentException($"map '{Name}': next-key buffer is {nextKey.Length} bytes, the key size is {_keySize}", nameof(nextKey));
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            int r = GetNextKeyRaw(key.IsEmpty ? null : k, n);
            if (r == 0) return true;
            if (r == -Errno.ENOENT) return false;
            throw ElementError(BpfCommand.MapGetNextKey, -r);
        }
    }

    /// <summary>Looks up and deletes in one step (queues and stacks pop this way, with an empty key).</summary>
    public unsafe bool TryLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!key.IsEmpty) CheckKey(key);
        CheckValue(value.Length, nameof(value));
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            int r = LookupAndDeleteRaw(key.IsEmpty ? null : k, v);
            if (r == 0) return true;
            if (r == -Errno.ENOENT) return false;
            throw ElementError(BpfCommand.MapLookupAndDeleteElem, -r);
        }
    }

    /// <summary>Makes the map read-only for user space (BPF_MAP_FREEZE).</summary>
    public void Freeze()
    {
        using var fd = EnterFd();
        int r = BpfSys.MapFreeze(Syscalls, fd.Fd);
        if (r < 0) throw BpfSys.Error(BpfCommand.MapFreeze, -r, $"on map '{Name}'");
    }

    /// <summary>Pins the map at <paramref name="path"/> on a bpf filesystem.</summary>
    public void Pin(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        BpfSys.ObjPin(Syscalls, Handle, path);
        _pinPath = path;
    }

    /// <summary>Removes the pin (the map lives on while something else holds it). Allowed after Dispose: a pin outlives the descriptor.</summary>
    public void Unpin()
    {
        if (_pinPath == null) return;
        try
        {
            System.IO.File.Delete(_pinPath);
        }
        catch (System.IO.IOException e)
        {
            throw new BpfException($"map '{Name}': cannot unpin '{_pinPath}': {e.Message}", e);
        }
        _pinPath = null;
    }

    /// <summary>Opens a map pinned at <paramref name="path"/>.</summary>
    public static BpfMap OpenPinned(string path)
    {
        var sys = Syscalls.Current;
        var h = BpfSys.ObjGet(sys, path, BpfHandleKind.Map, 0, out int errno)
            ?? throw BpfSys.Error(BpfCommand.ObjGet, errno, $"of '{path}'", errno == Errno.ENOENT ? $"nothing is pinned at '{path}'" : null);
        return FromHandle(h, sys, pinPath: path);
    }

    /// <summary>Opens the map with kernel id <paramref name="id"/>.</summary>
    public static BpfMap FromId(uint id)
    {
        var sys = Syscalls.Current;
        var h = BpfSys.GetFdById(sys, BpfCommand.MapGetFdById, id, BpfHandleKind.Map, out int errno)
            ?? throw BpfSys.Error(BpfCommand.MapGetFdById, errno, $"for id {id}");
        return FromHandle(h, sys, null);
    }

    internal static unsafe BpfMap FromHandle(BpfHandle h, Syscalls sys, string? pinPath)
    {
        var info = new MapInfo();
        try
        {
            BpfSys.GetInfo(sys, h, ref info);
        }
        catch
        {
            h.Dispose();
            throw;
        }
        string name = BpfSys.FixedName(info.Name, 16);
        var map = new BpfMap(h, info, name, sys);
        map._pinPath = pinPath;
        return map;
    }

    /// <summary>A load failed: the descriptor is closed and the map is back to its state before Load (not disposed).</summary>
    internal void ReleaseAfterFailedLoad()
    {
        var h = _handle;
        _handle = null;
        Id = 0;
        h?.Dispose();
    }

    /// <summary>Closes this process's descriptor (the kernel keeps the map while pins, programs or links hold it).</summary>
    public void Dispose()
    {
        _disposed = true;
        _handle?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The map's name, type, key and value sizes in bytes, and max entries.</summary>
    public override string ToString() => $"map '{Name}' ({Type}, key {KeySize} B, value {ValueSize} B, max {MaxEntries})";
}
