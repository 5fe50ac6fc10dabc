using System;
using System.Buffers;

namespace Ebpf.Kernel;

/// <summary>Memory mapped from a file or a BPF object, exposed as <see cref="Memory{T}"/>; unmapped on dispose.</summary>
internal sealed unsafe class MappedMemory : MemoryManager<byte>
{
    private readonly Syscalls _sys;
    private byte* _ptr;
    private readonly int _length;

    private MappedMemory(Syscalls sys, byte* ptr, int length)
    {
        _sys = sys;
        _ptr = ptr;
        _length = length;
    }

    public byte* Pointer => _ptr;
    public int Length => _length;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/>; null with errno on failure.</summary>
    public static MappedMemory? Map(Syscalls sys, int fd, int length, int prot, int flags, long offset, out int errno)
    {
        void* p = sys.Mmap(null, (nuint)length, prot, flags, fd, offset, out errno);
        return p == null ? null : new MappedMemory(sys, (byte*)p, length);
    }

    public override Span<byte> GetSpan()
    {
        if (_ptr == null) throw new ObjectDisposedException(nameof(MappedMemory));
        return new Span<byte>(_ptr, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0) => new MemoryHandle(_ptr + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_ptr != null)
        {
            _sys.Munmap(_ptr, (nuint)_length);
            _ptr = null;
        }
    }
}
