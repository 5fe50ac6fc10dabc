using System;

namespace Ebpf;

/// <summary>
/// A typed view of a BPF ring buffer (<see cref="BpfMapType.Ringbuf"/>), the map <c>bpf_ringbuf_output</c> and
/// <c>bpf_ringbuf_reserve</c> write to. This class is the handle; the reader that consumes records is created
/// from it (see the event-reading part of the runtime).
/// </summary>
public sealed partial class BpfRingBufferMap : BpfMapWrapper
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a ring buffer.</summary>
    /// <exception cref="ArgumentException">The map is of another kind.</exception>
    public BpfRingBufferMap(BpfMap map) : base(map, nameof(BpfRingBufferMap), BpfMapType.Ringbuf)
    {
    }

    /// <summary>Size of the data area in bytes (the map's max_entries: a power-of-two multiple of the page size).</summary>
    public uint Size => Map.MaxEntries;
}
