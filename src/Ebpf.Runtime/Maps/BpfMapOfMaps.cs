using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// A typed view of an array of maps (<see cref="BpfMapType.ArrayOfMaps"/>): each slot holds an inner map (of the
/// type and sizes of the outer map's template) or is empty. User space stores inner maps by descriptor and
/// reads back their kernel ids.
/// </summary>
public sealed class BpfArrayOfMaps : BpfMapWrapper
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is an array of maps.</summary>
    /// <exception cref="ArgumentException">The map is of another kind.</exception>
    public BpfArrayOfMaps(BpfMap map) : base(map, nameof(BpfArrayOfMaps), BpfMapType.ArrayOfMaps)
    {
        CheckKeySize(nameof(BpfArrayOfMaps), "uint (slot)", 4);
        CheckValueSize(nameof(BpfArrayOfMaps), "uint (map fd)", 4);
    }

    /// <summary>Number of slots (max_entries).</summary>
    public int Length => (int)MaxEntries;

    /// <summary>Puts <paramref name="inner"/> (created) in slot <paramref name="index"/>, replacing what was there.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Length"/>.</exception>
    /// <exception cref="BpfSyscallException">The kernel refused: EINVAL when <paramref name="inner"/> does not match the outer map's inner-map template (type, key/value size, flags).</exception>
    public void Set(int index, BpfMap inner)
    {
        if (inner is null) throw new ArgumentNullException(nameof(inner));
        CheckIndex(index, nameof(index));
        SetFdSlot((uint)index, inner.Handle);
    }

    /// <summary>Empties slot <paramref name="index"/>; false when it was empty already.</summary>
    public bool Clear(int index)
    {
        CheckIndex(index, nameof(index));
        return DeleteIndex((uint)index);
    }

    /// <summary>The kernel id of the inner map in slot <paramref name="index"/>; false when the slot is empty.</summary>
    public bool TryGetInnerMapId(int index, out uint mapId)
    {
        CheckIndex(index, nameof(index));
        return TryLookupId((uint)index, out mapId);
    }

    /// <summary>Opens the inner map in slot <paramref name="index"/> (a new descriptor the caller disposes); false when the slot is empty.</summary>
    public bool TryOpenInnerMap(int index, [NotNullWhen(true)] out BpfMap? inner)
    {
        inner = TryGetInnerMapId(index, out uint id) ? BpfMap.FromId(id) : null;
        return inner != null;
    }
}

/// <summary>
/// A typed view of a hash of maps (<see cref="BpfMapType.HashOfMaps"/>): each key holds an inner map (of the type
/// and sizes of the outer map's template). User space stores inner maps by descriptor and reads back their ids.
/// </summary>
/// <typeparam name="TKey">An unmanaged type with exactly the map's key size.</typeparam>
public sealed class BpfHashOfMaps<TKey> : BpfMapWrapper where TKey : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a hash of maps with keys the size of <typeparamref name="TKey"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its key size differs from <typeparamref name="TKey"/>'s.</exception>
    public unsafe BpfHashOfMaps(BpfMap map) : base(map, $"BpfHashOfMaps<{TypeName<TKey>()}>", BpfMapType.HashOfMaps)
    {
        string w = $"BpfHashOfMaps<{TypeName<TKey>()}>";
        CheckKeySize(w, TypeName<TKey>(), sizeof(TKey));
        CheckValueSize(w, "uint (map fd)", 4);
    }

    /// <summary>Stores <paramref name="inner"/> (created) at <paramref name="key"/>.</summary>
    /// <exception cref="BpfSyscallException">The kernel refused: EINVAL when <paramref name="inner"/> does not match the template; E2BIG when full; EEXIST/ENOENT when <paramref name="flags"/> is not met.</exception>
    public unsafe void Set(in TKey key, BpfMap inner, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        if (inner is null) throw new ArgumentNullException(nameof(inner));
        var h = inner.Handle;
        bool added = false;
        try
        {
            h.DangerousAddRef(ref added);
            uint fd = (uint)(int)h.DangerousGetHandle();
            int r;
            fixed (TKey* k = &key)
                r = _map.UpdateRaw(k, &fd, (ulong)flags);
            if (r < 0) ThrowError(BpfCommand.MapUpdateElem, r);
        }
        catch (ObjectDisposedException e)
        {
            throw new InvalidOperationException($"map '{Name}': inner map '{inner.Name}' is closed", e);
        }
        finally
        {
            if (added) h.DangerousRelease();
        }
    }

    /// <summary>Removes the inner map at <paramref name="key"/>; false when absent.</summary>
    public unsafe bool Remove(in TKey key)
    {
        int r;
        fixed (TKey* k = &key)
            r = _map.DeleteRaw(k);
        if (r == 0) return true;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapDeleteElem, r);
        return false;
    }

    /// <summary>The kernel id of the inner map at <paramref name="key"/>; false when absent.</summary>
    public unsafe bool TryGetInnerMapId(in TKey key, out uint mapId)
    {
        uint v = 0;
        int r;
        fixed (TKey* k = &key)
            r = _map.LookupRaw(k, &v, 0);
        mapId = v;
        if (r == 0) return true;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupElem, r);
        return false;
    }

    /// <summary>Opens the inner map at <paramref name="key"/> (a new descriptor the caller disposes); false when absent.</summary>
    public bool TryOpenInnerMap(in TKey key, [NotNullWhen(true)] out BpfMap? inner)
    {
        inner = TryGetInnerMapId(in key, out uint id) ? BpfMap.FromId(id) : null;
        return inner != null;
    }

    /// <summary>The keys (see <see cref="BpfMapKeys{TKey}"/>).</summary>
    public BpfMapKeys<TKey> Keys => new BpfMapKeys<TKey>(_map);

    /// <summary>Number of inner maps stored (walks the keys).</summary>
    public int Count => CountKeys();
}
