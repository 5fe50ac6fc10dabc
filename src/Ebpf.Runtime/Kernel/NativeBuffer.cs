using System;
using System.Buffers;
using System.Runtime.InteropServices;

namespace Ebpf.Kernel;

/// <summary>
/// Bytes in native (malloc) memory exposed as <see cref="Memory{T}"/>; freed on dispose. Holds the kernel's BTF when
/// it cannot be mapped (kernels before 6.16), so that 5+ MB of it never sit on the GC heap: no large-object
/// allocation, no gen-2 collection it would trigger, and the allocator reuses the pages the way libbpf's malloc does.
/// </summary>
internal sealed unsafe class NativeBuffer : MemoryManager<byte>
{
    private byte* _ptr;
    private int _length;
    private readonly int _capacity;

    public NativeBuffer(int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity));
        _ptr = (byte*)NativeMemory.Alloc((nuint)capacity);
        _capacity = capacity;
        _length = capacity;
    }

    public byte* Pointer => _ptr;
    public int Capacity => _capacity;

    /// <summary>Shortens the visible length (after a read that returned less than the capacity).</summary>
    public void SetLength(int length)
    {
        if ((uint)length > (uint)_capacity) throw new ArgumentOutOfRangeException(nameof(length));
        _length = length;
    }

    public override Span<byte> GetSpan()
    {
        if (_ptr == null) throw new ObjectDisposedException(nameof(NativeBuffer));
        return new Span<byte>(_ptr, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0) => new MemoryHandle(_ptr + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_ptr != null)
        {
            NativeMemory.Free(_ptr);
            _ptr = null;
        }
    }
}
