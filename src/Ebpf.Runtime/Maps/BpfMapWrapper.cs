using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>Flags of BPF_MAP_LOOKUP_ELEM.</summary>
[Flags]
public enum BpfMapLookupFlags : ulong
{
    /// <summary>A plain lookup.</summary>
    None = 0,
    /// <summary>Take the value's bpf_spin_lock while copying it out (BPF_F_LOCK; the value must contain a bpf_spin_lock).</summary>
    Lock = 4,
}

/// <summary>
/// Common base of the typed map wrappers (<see cref="BpfHashMap{TKey, TValue}"/>, <see cref="BpfArrayMap{TValue}"/>,
/// <see cref="BpfRingBufferMap"/>, ...): a view of one <see cref="BpfMap"/> that checked, when it was made, that the
/// map is of the kind the wrapper handles and that the key and value types have the map's sizes.
/// </summary>
/// <remarks>
/// A wrapper owns nothing: the map stays owned by its <see cref="BpfObject"/> (or whoever opened it), and
/// disposing that closes the map under the wrapper, after which operations throw
/// <see cref="InvalidOperationException"/>. Wrappers hold no mutable state of their own and are safe to use from
/// several threads at once; closing a map waits for the operations already inside their system call on other
/// threads (without an atomic instruction on the call path), so a concurrent Dispose never makes a call use a closed
/// (or reused) descriptor number.
/// A wrapper can be made before the object is loaded (sizes come from the map's definition); operations need the
/// loaded map.
/// </remarks>
public abstract class BpfMapWrapper
{
    private protected readonly BpfMap _map;
    private readonly string _wrapperName;

    private protected BpfMapWrapper(BpfMap map, string wrapperName, BpfMapType kind, BpfMapType? otherKind = null)
    {
        _wrapperName = wrapperName;
        if (map is null) throw new ArgumentNullException(nameof(map));
        if (map.Type != kind && (otherKind is not { } k2 || map.Type != k2))
        {
            string expected = otherKind is { } o ? $"a {kind} or {o} map" : $"a {kind} map";
            throw new ArgumentException(
                $"map '{map.Name}' is a {map.Type} map, but {wrapperName} needs {expected}{KindAdvice(map.Type)}", nameof(map));
        }
        _map = map;
    }

    /// <summary>The underlying untyped map.</summary>
    public BpfMap Map => _map;

    /// <summary>The map's name.</summary>
    public string Name => _map.Name;

    /// <summary>The map's kernel type.</summary>
    public BpfMapType Type => _map.Type;

    /// <summary>
    /// The map's max_entries (for a ring buffer, its size in bytes). Can be set before the object is loaded, as
    /// <see cref="BpfMap.MaxEntries"/> can (a skeleton's <c>Open()</c>, then <c>Load()</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">Set after the map was created.</exception>
    /// <exception cref="ObjectDisposedException">Set after the map (or its object) was disposed.</exception>
    public uint MaxEntries
    {
        get => _map.MaxEntries;
        set => _map.MaxEntries = value;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{_wrapperName} over {_map}";

    // ------------------------------------------------------------------ construction checks

    /// <summary>The wrapper that fits a map type, for the construction error.</summary>
    private static string KindAdvice(BpfMapType type)
    {
        string? w = type switch
        {
            BpfMapType.Hash or BpfMapType.LruHash => "BpfHashMap<TKey, TValue>",
            BpfMapType.PercpuHash or BpfMapType.LruPercpuHash => "BpfPerCpuHashMap<TKey, TValue>",
            BpfMapType.Array => "BpfArrayMap<TValue>",
            BpfMapType.PercpuArray => "BpfPerCpuArrayMap<TValue>",
            BpfMapType.LpmTrie => "BpfLpmTrieMap<TKey, TValue>",
            BpfMapType.Queue => "BpfQueueMap<TValue>",
            BpfMapType.Stack => "BpfStackMap<TValue>",
            BpfMapType.BloomFilter => "BpfBloomFilterMap<TValue>",
            BpfMapType.StackTrace => "BpfStackTraceMap",
            BpfMapType.ProgArray => "BpfProgramArrayMap",
            BpfMapType.ArrayOfMaps => "BpfArrayOfMaps",
            BpfMapType.HashOfMaps => "BpfHashOfMaps<TKey>",
            BpfMapType.PerfEventArray => "BpfPerfEventArrayMap",
            BpfMapType.Ringbuf => "BpfRingBufferMap",
            _ => null,
        };
        return w is null ? string.Empty : $" (use {w} for it)";
    }

    private protected static string TypeName<T>() => TypeNameOf(typeof(T));

    private static string TypeNameOf(Type t)
    {
        if (!t.IsGenericType) return t.Name;
        var sb = new StringBuilder();
        string n = t.Name;
        int tick = n.IndexOf('`');
        sb.Append(tick < 0 ? n : n.Substring(0, tick)).Append('<');
        var args = t.GetGenericArguments();
        for (int i = 0; i < args.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(TypeNameOf(args[i]));
        }
        return sb.Append('>').ToString();
    }

    /// <summary>Checks that the map's key size is <paramref name="size"/> bytes (the size of <paramref name="typeName"/>).</summary>
    private protected void CheckKeySize(string wrapperName, string typeName, int size)
    {
        if (_map.KeySize != (uint)size)
            throw new ArgumentException(
                $"map '{_map.Name}' ({_map.Type}) has {_map.KeySize}-byte keys, but {wrapperName} uses key type {typeName} of {size} bytes; " +
                "the key type must have exactly the map's key size (check the struct's layout and padding against the BPF program's)", "map");
    }

    /// <summary>Checks that the map's value size is <paramref name="size"/> bytes.</summary>
    private protected void CheckValueSize(string wrapperName, string typeName, int size)
    {
        if (_map.ValueSize != (uint)size)
            throw new ArgumentException(
                $"map '{_map.Name}' ({_map.Type}) has {_map.ValueSize}-byte values{(_map.IsPerCpu ? " (per CPU)" : string.Empty)}, but {wrapperName} uses value type {typeName} of {size} bytes; " +
                "the value type must have exactly the map's value size (check the struct's layout and padding against the BPF program's)", "map");
    }

    // ------------------------------------------------------------------ errors (kept out of line: the hot paths only branch to them)

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private protected void ThrowError(BpfCommand cmd, int negativeErrno) => throw _map.ElementError(cmd, -negativeErrno);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private protected void ThrowKeyNotFound<TKey>(in TKey key) where TKey : unmanaged =>
        throw new KeyNotFoundException($"map '{_map.Name}' has no element with key {FormatKey(in key)}");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private protected void ThrowIndexOutOfRange(long index, string paramName) =>
        throw new ArgumentOutOfRangeException(paramName, index, $"map '{_map.Name}' has {_map.MaxEntries} slots (0..{(long)_map.MaxEntries - 1})");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private protected void ThrowPerCpuLength(int length, string paramName) =>
        throw new ArgumentException($"map '{_map.Name}' is per-CPU: the span must hold one value per possible CPU ({BpfMap.PossibleCpuCount}), not {length}", paramName);

    /// <summary>A key for an error message: its value for primitive types, its bytes otherwise.</summary>
    private protected static unsafe string FormatKey<TKey>(in TKey key) where TKey : unmanaged
    {
        if (typeof(TKey).IsPrimitive || typeof(TKey).IsEnum)
            return key.ToString() ?? string.Empty;
        var sb = new StringBuilder("0x");
        fixed (TKey* k = &key)
        {
            byte* b = (byte*)k;
            int n = Math.Min(sizeof(TKey), 64);
            for (int i = 0; i < n; i++) sb.Append(b[i].ToString("x2", CultureInfo.InvariantCulture));
            if (n < sizeof(TKey)) sb.Append("...");
        }
        return sb.ToString();
    }

    // ------------------------------------------------------------------ shared element helpers

    /// <summary>Sets slot <paramref name="index"/> of a descriptor array (prog array, array of maps, perf event array) to <paramref name="handle"/>'s descriptor.</summary>
    private protected unsafe void SetFdSlot(uint index, BpfHandle handle, ulong flags = 0)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            uint fd = (uint)(int)handle.DangerousGetHandle();
            int r = _map.UpdateRaw(&index, &fd, flags);
            if (r < 0) ThrowError(BpfCommand.MapUpdateElem, r);
        }
        catch (ObjectDisposedException e)
        {
            throw new InvalidOperationException($"map '{_map.Name}': the {handle.Kind} handle being stored is closed", e);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>Deletes a 4-byte key; false when absent (an empty slot of a descriptor array).</summary>
    private protected unsafe bool DeleteIndex(uint index)
    {
        int r = _map.DeleteRaw(&index);
        if (r == 0) return true;
        if (r == -Errno.ENOENT) return false;
        ThrowError(BpfCommand.MapDeleteElem, r);
        return false;
    }

    /// <summary>Looks up a 4-byte value (an id) at a 4-byte key.</summary>
    private protected unsafe bool TryLookupId(uint index, out uint id)
    {
        uint v = 0;
        int r = _map.LookupRaw(&index, &v, 0);
        id = v;
        if (r == 0) return true;
        if (r == -Errno.ENOENT) return false;
        ThrowError(BpfCommand.MapLookupElem, r);
        return false;
    }

    private protected void CheckIndex(int index, string paramName)
    {
        if ((uint)index >= _map.MaxEntries) ThrowIndexOutOfRange(index, paramName);
    }

    /// <summary>Counts the keys by walking them with BPF_MAP_GET_NEXT_KEY (allocation-free).</summary>
    private protected unsafe int CountKeys()
    {
        int size = (int)_map.KeySize;
        // Keys of maps that can be walked are at most 512 bytes (hash: MAX_BPF_STACK; LPM trie: 260; arrays: 4).
        Span<byte> buf = size <= 256 ? stackalloc byte[2 * size] : new byte[2 * size];
        fixed (byte* p = buf)
        {
            byte* a = p, b = p + size;
            int n = 0;
            byte* prev = null, next = a;
            while (true)
            {
                int r = _map.GetNextKeyRaw(prev, next);
                if (r == -Errno.ENOENT) return n;
                if (r < 0) ThrowError(BpfCommand.MapGetNextKey, r);
                n++;
                prev = next;
                next = next == a ? b : a;
            }
        }
    }

    // ------------------------------------------------------------------ batch operations

    // One bit per batch command the kernel refused for this map (an LPM trie has lookup batch but not
    // lookup-and-delete batch, an array no delete batch, a pre-5.6 kernel none at all).
    private int _batchUnsupported;

    private bool BatchMarkedUnsupported(BpfCommand cmd) => (Volatile.Read(ref _batchUnsupported) & (1 << ((int)cmd & 31))) != 0;

    private void MarkBatchUnsupported(BpfCommand cmd) => Interlocked.Or(ref _batchUnsupported, 1 << ((int)cmd & 31));

    /// <summary>Whether a batch error means "this kernel or map type has no batch operations" (then the wrapper emulates them).</summary>
    private bool IsBatchUnsupported(int negativeErrno)
    {
        int e = -negativeErrno;
        if (e == Errno.ENOTSUPP || e == Errno.EOPNOTSUPP) return true;
        // Before 5.6 the batch commands did not exist and bpf(2) answered EINVAL for an unknown command.
        return e == Errno.EINVAL && KernelInfo.VersionCode < (5u << 16 | 6u << 8);
    }

    /// <summary>
    /// BPF_MAP_LOOKUP_BATCH / BPF_MAP_LOOKUP_AND_DELETE_BATCH into <paramref name="count"/> key slots and value slots
    /// (each value slot <see cref="BpfMap.ValueBufferSize"/> bytes), continuing from <paramref name="cursor"/>.
    /// Emulated with single-element commands when the kernel has no batch support for the map.
    /// </summary>
    private protected unsafe int LookupBatchCore(BpfCommand cmd, byte* keys, byte* values, int count, ref BpfBatchCursor cursor)
    {
        if (cursor.IsDone || count == 0) return 0;
        if (cursor.Emulated || BatchMarkedUnsupported(cmd))
            return LookupBatchEmulated(cmd, keys, values, count, ref cursor);

        int tokenSize = Math.Max((int)_map.KeySize, 8);
        if (tokenSize > 8 && cursor.BigIn == null)
        {
            cursor.BigIn = new byte[tokenSize];
            cursor.BigOut = new byte[tokenSize];
        }
        uint n;
        int r;
        for (int attempt = 0; ; attempt++)
        {
            n = (uint)count;
            fixed (ulong* tin = &cursor.InToken)
            fixed (ulong* tout = &cursor.OutToken)
            fixed (byte* bin = cursor.BigIn)
            fixed (byte* bout = cursor.BigOut)
            {
                void* pin = bin != null ? bin : tin;
                void* pout = bout != null ? bout : tout;
                r = _map.BatchRaw(cmd, cursor.Started ? pin : null, pout, keys, values, ref n, 0);
                // The kernel's position after this call becomes the start of the next one. (The generic batch
                // code of arrays and tries writes it only when it returned elements.)
                if ((r == 0 || r == -Errno.ENOENT || r == -Errno.EINTR) && n > 0)
                {
                    Buffer.MemoryCopy(pout, pin, tokenSize, tokenSize);
                    cursor.Started = true;
                }
            }
            // EINTR: the generic batch code gave up after elements vanished under it three times; what it returned
            // is valid, and the walk can go on from there.
            if (r != -Errno.EINTR || n > 0 || attempt >= 16) break;
        }
        if (r == -Errno.EINTR && n > 0) return (int)n;
        if (r == -Errno.ENOENT || r == 0 && n == 0) // (the kernel never reports success with nothing; be safe)
        {
            cursor.Done = true;
            return (int)n;
        }
        if (r == 0) return (int)n;
        // (A command the map lacks fails before the kernel touches anything, count included.)
        if (!cursor.Started && IsBatchUnsupported(r))
        {
            MarkBatchUnsupported(cmd);
            return LookupBatchEmulated(cmd, keys, values, count, ref cursor);
        }
        if (r == -Errno.ENOSPC)
            throw BpfSys.Error(cmd, Errno.ENOSPC, $"on map '{_map.Name}'",
                $"one hash bucket holds more elements than the {count} the buffers have room for: pass larger key and value spans");
        ThrowError(cmd, r);
        return 0;
    }

    private unsafe int LookupBatchEmulated(BpfCommand cmd, byte* keys, byte* values, int count, ref BpfBatchCursor cursor)
    {
        cursor.Emulated = true;
        int keySize = (int)_map.KeySize, valueSize = _map.ValueBufferSize;
        bool delete = cmd == BpfCommand.MapLookupAndDeleteBatch;
        cursor.LastKey ??= new byte[Math.Max(keySize, 1)];
        int n = 0;
        fixed (byte* last = cursor.LastKey)
        {
            while (n < count)
            {
                byte* k = keys + (long)n * keySize;
                byte* v = values + (long)n * valueSize;
                // Draining: always take the first key. Walking: the key after the last one returned (the kernel
                // restarts from the first key if that one was deleted meanwhile, as bpftool's walk does).
                int r = _map.GetNextKeyRaw(delete || !cursor.Started ? null : last, k);
                if (r == -Errno.ENOENT)
                {
                    cursor.Done = true;
                    break;
                }
                if (r < 0) ThrowError(BpfCommand.MapGetNextKey, r);
                if (!delete)
                {
                    Buffer.MemoryCopy(k, last, keySize, keySize);
                    cursor.Started = true;
                }
                r = _map.LookupRaw(k, v, 0);
                if (r == -Errno.ENOENT) continue; // deleted between the two calls
                if (r < 0) ThrowError(BpfCommand.MapLookupElem, r);
                if (delete)
                {
                    r = _map.DeleteRaw(k);
                    if (r == -Errno.ENOENT) continue; // someone else took it
                    if (r < 0) ThrowError(BpfCommand.MapDeleteElem, r);
                }
                n++;
            }
        }
        return n;
    }

    /// <summary>BPF_MAP_UPDATE_BATCH of <paramref name="count"/> elements (emulated when unsupported).</summary>
    private protected unsafe int UpdateBatchCore(byte* keys, byte* values, int count, BpfMapUpdateFlags flags)
    {
        if ((flags & ~BpfMapUpdateFlags.Lock) != 0)
            throw new ArgumentException($"map '{_map.Name}': batch updates always create or replace elements (BPF_ANY); only BpfMapUpdateFlags.Lock may be given, not {flags}", nameof(flags));
        if (count == 0) return 0;
        int keySize = (int)_map.KeySize, valueSize = _map.ValueBufferSize;
        if (!BatchMarkedUnsupported(BpfCommand.MapUpdateBatch))
        {
            uint n = (uint)count;
            int r = _map.BatchRaw(BpfCommand.MapUpdateBatch, null, null, keys, values, ref n, (ulong)flags);
            if (r == 0) return count;
            // A command the map lacks fails before the kernel processes (or counts) anything.
            if (!(n == (uint)count && IsBatchUnsupported(r)))
                throw BatchPartialError(BpfCommand.MapUpdateBatch, r, (int)n, count);
            MarkBatchUnsupported(BpfCommand.MapUpdateBatch);
        }
        for (int i = 0; i < count; i++)
        {
            int r = _map.UpdateRaw(keys + (long)i * keySize, values + (long)i * valueSize, (ulong)flags);
            if (r < 0) throw BatchPartialError(BpfCommand.MapUpdateElem, r, i, count);
        }
        return count;
    }

    /// <summary>BPF_MAP_DELETE_BATCH; keys that are absent are skipped. Returns how many were deleted.</summary>
    private protected unsafe int DeleteBatchCore(byte* keys, int count)
    {
        int keySize = (int)_map.KeySize;
        int deleted = 0, offset = 0;
        while (offset < count && !BatchMarkedUnsupported(BpfCommand.MapDeleteBatch))
        {
            uint asked = (uint)(count - offset), n = asked;
            int r = _map.BatchRaw(BpfCommand.MapDeleteBatch, null, null, keys + (long)offset * keySize, null, ref n, 0);
            if (r < 0 && n == asked && offset == 0 && IsBatchUnsupported(r))
            {
                // The map lacks the command: it failed before the kernel processed (or counted) anything.
                MarkBatchUnsupported(BpfCommand.MapDeleteBatch);
                break;
            }
            if (r < 0 && r != -Errno.ENOENT && n == asked) n = 0; // refused before any element
            deleted += (int)n;
            offset += (int)n;
            if (r == 0) return deleted;
            if (r == -Errno.ENOENT)
            {
                offset++; // the kernel stops at a key that is absent: skip it and go on
                continue;
            }
            throw BatchPartialError(BpfCommand.MapDeleteBatch, r, offset, count);
        }
        for (; offset < count; offset++)
        {
            int r = _map.DeleteRaw(keys + (long)offset * keySize);
            if (r == 0) deleted++;
            else if (r != -Errno.ENOENT) throw BatchPartialError(BpfCommand.MapDeleteElem, r, offset, count);
        }
        return deleted;
    }

    private Exception BatchPartialError(BpfCommand cmd, int negativeErrno, int done, int count)
    {
        var inner = _map.ElementError(cmd, -negativeErrno);
        string where = done >= count
            ? $" (the kernel refused the whole batch of {count} before applying any element)"
            : $" (at element {done} of {count}; the elements before it were applied)";
        return new BpfSyscallException(cmd.ToKernelName(), cmd, -negativeErrno, inner.Message + where).About(objectName: _map.Object?.Name, mapName: _map.Name);
    }
}
