using System;
using System.IO;
using System.Text;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// A BPF iterator (SEC("iter/...")) attached with an iterator link. Each <see cref="Open"/> starts a new pass
/// (BPF_ITER_CREATE) whose output — what the program printed with bpf_seq_printf/bpf_seq_write — is read as a
/// stream; pinning the link makes `cat /sys/fs/bpf/path` run it too.
/// </summary>
public sealed class IteratorLink : FdLink
{
    internal IteratorLink(BpfProgram program, BpfHandle handle, string target) : base(program, handle, target) { }

    /// <summary>Starts a pass of the iterator; read the stream to the end to run it over every object.</summary>
    public unsafe Stream Open()
    {
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            var a = new IterCreateAttr { LinkFd = (uint)Handle.Fd };
            int fd = BpfSys.Call(Program.Syscalls, BpfCommand.IterCreate, ref a);
            if (fd < 0)
                throw BpfSys.Error(BpfCommand.IterCreate, -fd, $"for {Target}");
            return new IteratorStream(new BpfHandle(fd, BpfHandleKind.Other, Program.Syscalls), Target);
        }
        finally
        {
            if (added) Handle.DangerousRelease();
        }
    }

    /// <summary>Runs one pass and returns its output as text (UTF-8).</summary>
    public string ReadAllText()
    {
        using var s = Open();
        using var reader = new StreamReader(s, new UTF8Encoding(false), false, 4096);
        return reader.ReadToEnd();
    }

    /// <summary>Runs one pass and returns its output as bytes (for iterators that bpf_seq_write binary records).</summary>
    public byte[] ReadAllBytes()
    {
        using var s = Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}

/// <summary>A read-only, forward-only stream over an iterator's descriptor.</summary>
internal sealed class IteratorStream : Stream
{
    private readonly BpfHandle _fd;
    private readonly string _target;

    public IteratorStream(BpfHandle fd, string target)
    {
        _fd = fd;
        _target = target;
    }

    public override bool CanRead => !_fd.IsClosed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override unsafe int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            while (true)
            {
                int n;
                fixed (byte* p = buffer)
                    n = _fd.Syscalls.Read(_fd.Fd, p, buffer.Length);
                if (n == -Errno.EINTR) continue;
                if (n == -Errno.EAGAIN) continue; // the iterator asks to be called again (bpf_iter: restarted seq)
                if (n < 0)
                    throw new BpfSyscallException("read", null, -n, $"reading {_target} failed: {Errno.Name(-n)} ({Errno.Describe(-n)})" +
                        (-n == Errno.E2BIG ? "; one object's output is larger than a page: print less per object" : string.Empty));
                return n;
            }
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _fd.Dispose();
        base.Dispose(disposing);
    }
}
