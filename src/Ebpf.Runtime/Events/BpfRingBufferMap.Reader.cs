namespace Ebpf;

public sealed partial class BpfRingBufferMap
{
    /// <summary>Maps the ring for reading (see <see cref="RingBufferReader"/>); dispose the reader to unmap it.</summary>
    public RingBufferReader CreateReader() => new RingBufferReader(Map);
}
