using System;
using System.Collections.Generic;

namespace Ebpf;

/// <summary>
/// A reader's share of the <c>ebpf.reader.*</c> instruments: its tags, built once, and the counter of records its
/// program dropped, when the object has one. The readers call <see cref="Drained"/> once per drain (never per record)
/// and only while <see cref="BpfMetrics.ReadersObserved"/>.
/// </summary>
internal sealed class ReaderMetrics
{
    private readonly KeyValuePair<string, object?>[] _tags;
    private DropCounter? _drops;
    private ulong _dropsReported;

    public ReaderMetrics(BpfMap map, string readerType)
    {
        _tags = new[]
        {
            new KeyValuePair<string, object?>(BpfMetrics.ObjectTag, map.Object?.Name ?? string.Empty),
            new KeyValuePair<string, object?>(BpfMetrics.MapTag, map.Name),
            new KeyValuePair<string, object?>(BpfMetrics.ReaderTypeTag, readerType),
        };
    }

    public DropCounter? Drops
    {
        get => _drops;
        set
        {
            _drops = value;
            _dropsReported = 0;
        }
    }

    /// <summary>Adds one drain's records and bytes, and the drops the program counted since the last drain.</summary>
    public void Drained(long events, ulong bytes)
    {
        if (events > 0 && BpfMetrics.Events.Enabled)
            BpfMetrics.Events.Add(events, _tags);
        if (bytes > 0 && BpfMetrics.Bytes.Enabled)
            BpfMetrics.Bytes.Add((long)bytes, _tags);
        if (_drops is { } d && BpfMetrics.Lost.Enabled)
            ReportDrops(d);
    }

    /// <summary>Lost samples the kernel reported (a perf buffer's PERF_RECORD_LOST).</summary>
    public void Lost(ulong count)
    {
        if (count > 0 && BpfMetrics.Lost.Enabled)
            BpfMetrics.Lost.Add((long)count, _tags);
    }

    /// <summary>Reports the drops not reported yet (also when the reader is disposed).</summary>
    public void ReportDrops(DropCounter d)
    {
        ulong now;
        try
        {
            now = d.Read();
        }
        catch (Exception e) when (e is BpfException or ObjectDisposedException or InvalidOperationException)
        {
            return; // the object is being unloaded
        }
        if (now > _dropsReported)
        {
            BpfMetrics.Lost.Add((long)(now - _dropsReported), _tags);
            _dropsReported = now;
        }
    }
}

/// <summary>
/// A global variable in which a BPF program counts the ring-buffer records it could not reserve (the ring was full):
/// 4 or 8 bytes in a writable data section (.bss, .data), read from the kernel's memory.
/// </summary>
internal sealed class DropCounter
{
    private readonly BpfDataSection _section;
    private readonly int _offset;
    private readonly int _size;

    private DropCounter(BpfDataSection section, string name, int offset, int size)
    {
        _section = section;
        Name = name;
        _offset = offset;
        _size = size;
    }

    public string Name { get; }

    public ulong Read() => _size == 8 ? _section.Read<ulong>(_offset) : _section.Read<uint>(_offset);

    /// <summary>
    /// The counter of ring buffer <paramref name="map"/> by the naming convention: <c>MAP_dropped</c> or
    /// <c>MAP_drops</c>, or, when the object has only this ring buffer, <c>dropped</c> or <c>drops</c>.
    /// </summary>
    public static DropCounter? Find(BpfMap map)
    {
        if (map.Object is not { } obj)
            return null;
        var names = new List<string> { map.Name + "_dropped", map.Name + "_drops" };
        int rings = 0;
        foreach (var m in obj.Maps)
            if (m.Type == BpfMapType.Ringbuf) rings++;
        if (rings == 1)
        {
            names.Add("dropped");
            names.Add("drops");
        }
        foreach (var name in names)
            if (TryFind(obj, name, out var counter, out _))
                return counter;
        return null;
    }

    /// <summary>The counter named <paramref name="variable"/> in the map's object; a clear error when it is not usable.</summary>
    public static DropCounter Named(BpfMap map, string variable)
    {
        if (map.Object is not { } obj)
            throw new InvalidOperationException($"ring buffer '{map.Name}' was not opened from an object, so it has no global variables to count drops in");
        if (TryFind(obj, variable, out var counter, out string? problem))
            return counter!;
        throw new ArgumentException(problem ?? $"object '{obj.Name}' has no global variable '{variable}' in a writable data section (.bss, .data)", nameof(variable));
    }

    private static bool TryFind(BpfObject obj, string name, out DropCounter? counter, out string? problem)
    {
        counter = null;
        problem = null;
        foreach (var section in obj.DataSections)
        {
            if (section.IsReadOnly)
                continue;
            var v = section.FindVariable(name);
            if (v is null)
                continue;
            if (v.Size != 4 && v.Size != 8)
            {
                problem = $"global variable '{name}' in {section.SectionName} is {v.Size} bytes; a drop counter is a 4- or 8-byte integer";
                return false;
            }
            counter = new DropCounter(section, name, (int)v.Offset, (int)v.Size);
            return true;
        }
        return false;
    }
}
