using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

// Socket filters (SEC("socket")): SO_ATTACH_BPF on one socket.

/// <summary>A SEC("socket") program: a socket filter attached to one socket.</summary>
public sealed class SocketFilterProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a socket filter (SEC("socket")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public SocketFilterProgram(BpfProgram program)
        : base(program, ProgramKind.SocketFilter, "a socket filter (SEC(\"socket\"))", "use SocketFilterProgram.Attach(socket)") { }

    /// <summary>Attaches to <paramref name="socket"/> (SO_ATTACH_BPF); the filter sees every packet queued to it.</summary>
    public SocketFilterAttachment Attach(Socket socket)
    {
        if (socket is null) throw new ArgumentNullException(nameof(socket));
        return Program.AttachSocket(socket.SafeHandle, -1);
    }

    /// <summary>Attaches to the socket behind <paramref name="socket"/>.</summary>
    public SocketFilterAttachment Attach(SafeHandle socket) => Program.AttachSocket(socket ?? throw new ArgumentNullException(nameof(socket)), -1);

    /// <summary>Attaches to socket descriptor <paramref name="socketFd"/> (not owned).</summary>
    public SocketFilterAttachment Attach(int socketFd) => Program.AttachSocket(null, socketFd);
}

/// <summary>
/// A socket filter attached to one socket with SO_ATTACH_BPF. Disposing detaches it (SO_DETACH_BPF) unless the
/// socket is closed already. The socket is not owned.
/// </summary>
public sealed class SocketFilterAttachment : BpfLink
{
    private readonly Syscalls _sys;
    private readonly SafeHandle? _socket;
    private readonly int _fd;

    internal SocketFilterAttachment(BpfProgram program, Syscalls sys, SafeHandle? socket, int fd) : base(program)
    {
        _sys = sys;
        _socket = socket;
        _fd = fd;
    }

    /// <summary>The socket's descriptor.</summary>
    public int SocketDescriptor => _fd;

    /// <inheritdoc/>
    public override string Target => $"socket fd {_fd}";

    private protected override unsafe void Release()
    {
        bool added = false;
        try
        {
            if (_socket != null)
            {
                if (_socket.IsClosed) return;
                _socket.DangerousAddRef(ref added);
            }
            int zero = 0;
            int r = _sys.SetSockOpt(_fd, Libc.SOL_SOCKET, Libc.SO_DETACH_BPF, &zero, 4);
            if (r < 0 && r != -Errno.ENOENT && r != -Errno.EBADF && r != -Errno.ENOTSOCK)
                throw new BpfSyscallException("setsockopt(SO_DETACH_BPF)", null, -r, $"detaching program '{Program.Name}' from socket fd {_fd} failed: {Errno.Name(-r)}");
        }
        finally
        {
            if (added) _socket!.DangerousRelease();
        }
    }
}

public partial class BpfProgram
{
    internal unsafe SocketFilterAttachment AttachSocket(SafeHandle? socket, int fd)
    {
        RequireType("SO_ATTACH_BPF", BpfProgramType.SocketFilter);
        bool added = false;
        try
        {
            if (socket != null)
            {
                socket.DangerousAddRef(ref added);
                fd = (int)socket.DangerousGetHandle();
            }
            int prog = Fd;
            int r = Syscalls.SetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_ATTACH_BPF, &prog, 4);
            if (r < 0)
                throw new BpfSyscallException("setsockopt(SO_ATTACH_BPF)", null, -r, $"attaching socket filter '{Name}' to socket fd {fd} failed: {Errno.Name(-r)} ({Errno.Describe(-r)})" +
                    (-r == Errno.ENOTSOCK ? "; the descriptor is not a socket" : -r == Errno.EBADF ? "; the socket is closed" : -r == Errno.EPERM ? "; the socket's filter is locked (SO_LOCK_FILTER)" : string.Empty));
            return new SocketFilterAttachment(this, Syscalls, socket, fd);
        }
        finally
        {
            if (added) socket!.DangerousRelease();
        }
    }
}
