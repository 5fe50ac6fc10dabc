using System;
using System.Runtime.CompilerServices;
using System.Text;

namespace Ebpf.Kernel;

/// <summary>Typed bpf(2) calls over the seam; failures become <see cref="BpfSyscallException"/>s with a sentence a user can act on.</summary>
internal static unsafe class BpfSys
{
    public const uint BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2, BPF_F_LOCK = 4;
    public const uint BPF_F_RDONLY = 1u << 3, BPF_F_WRONLY = 1u << 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Call<T>(Syscalls sys, BpfCommand cmd, ref T attr) where T : unmanaged
    {
        fixed (T* p = &attr)
            return sys.Bpf(cmd, p, sizeof(T));
    }

    /// <summary>Builds the exception for a failed bpf(2) command.</summary>
    public static BpfSyscallException Error(BpfCommand cmd, int errno, string subject, string? hint = null)
    {
        string op = cmd.ToKernelName();
        string advice = hint ?? Advice(cmd, errno);
        string reason = $"{Errno.Name(errno)} ({Errno.Describe(errno)})" + (advice.Length > 0 ? ". " + advice : string.Empty);
        var e = new BpfSyscallException(op, cmd, errno, $"{op} {subject} failed: {reason}");
        e.WithReason(reason);
        return e;
    }

    /// <summary>What a user can do about a failure.</summary>
    public static string Advice(BpfCommand cmd, int errno)
    {
        switch (errno)
        {
            case Errno.EPERM:
            case Errno.EACCES:
                return "BPF needs root, or CAP_BPF plus CAP_PERFMON (tracing) or CAP_NET_ADMIN (networking); " +
                       "in a container, the seccomp profile or kernel.unprivileged_bpf_disabled may also block bpf(2)";
            case Errno.E2BIG:
                return cmd == BpfCommand.ProgLoad
                    ? "the program is too large or the kernel does not know an attribute this call sets (an older kernel)"
                    : "the kernel does not know an attribute this call sets: it is older than this feature needs";
            case Errno.ENOSYS:
                return "this kernel was built without BPF (CONFIG_BPF_SYSCALL)";
            case Errno.EBADF:
                return "a descriptor passed to the kernel is not valid (closed already?)";
            case Errno.ENOMEM:
                return "the kernel could not allocate memory for the object (map too large, or memlock/memcg limit reached)";
            case Errno.EMFILE:
                return "the process has too many open files (ulimit -n)";
            case Errno.EOPNOTSUPP:
            case Errno.ENOTSUPP:
                return "the kernel does not support this operation for this object type";
            default:
                return string.Empty;
        }
    }

    public static BpfHandle ToHandle(Syscalls sys, int fd, BpfHandleKind kind) => new BpfHandle(fd, kind, sys);

    // ------------------------------------------------------------------ maps

    public static BpfHandle MapCreate(Syscalls sys, ref MapCreateAttr attr, string name)
    {
        int fd = Call(sys, BpfCommand.MapCreate, ref attr);
        if (fd < 0)
            throw Error(BpfCommand.MapCreate, -fd, $"for map '{name}' ({(BpfMapType)attr.MapType}, key {attr.KeySize} B, value {attr.ValueSize} B, {attr.MaxEntries} entries)", MapCreateAdvice(sys, -fd, attr));
        return ToHandle(sys, fd, BpfHandleKind.Map);
    }

    private static string? MapCreateAdvice(Syscalls sys, int errno, in MapCreateAttr attr)
    {
        if (errno == Errno.EPERM)
            return KernelFeatures.For(sys).PermissionAdvice(BpfCommand.MapCreate, errno);
        if (errno == Errno.EINVAL)
        {
            var t = (BpfMapType)attr.MapType;
            if (t == BpfMapType.Ringbuf)
                return "a ring buffer's size (max_entries) must be a power-of-two multiple of the page size";
            return $"the kernel refused the map's attributes; check that {t} exists on this kernel and that its key/value sizes and flags (0x{attr.MapFlags:x}) are valid for it";
        }
        return null;
    }

    /// <summary>BPF_MAP_LOOKUP_ELEM: 0, or -errno (-ENOENT when the key is absent).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MapLookup(Syscalls sys, int fd, void* key, void* value, ulong flags = 0)
    {
        var a = new MapElemAttr { MapFd = (uint)fd, Key = (ulong)key, Value = (ulong)value, Flags = flags };
        return sys.Bpf(BpfCommand.MapLookupElem, &a, sizeof(MapElemAttr));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MapUpdate(Syscalls sys, int fd, void* key, void* value, ulong flags)
    {
        var a = new MapElemAttr { MapFd = (uint)fd, Key = (ulong)key, Value = (ulong)value, Flags = flags };
        return sys.Bpf(BpfCommand.MapUpdateElem, &a, sizeof(MapElemAttr));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MapDelete(Syscalls sys, int fd, void* key, ulong flags = 0)
    {
        var a = new MapElemAttr { MapFd = (uint)fd, Key = (ulong)key, Flags = flags };
        return sys.Bpf(BpfCommand.MapDeleteElem, &a, sizeof(MapElemAttr));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MapGetNextKey(Syscalls sys, int fd, void* key, void* nextKey)
    {
        var a = new MapElemAttr { MapFd = (uint)fd, Key = (ulong)key, Value = (ulong)nextKey };
        return sys.Bpf(BpfCommand.MapGetNextKey, &a, sizeof(MapElemAttr));
    }

    public static int MapLookupAndDelete(Syscalls sys, int fd, void* key, void* value, ulong flags = 0)
    {
        var a = new MapElemAttr { MapFd = (uint)fd, Key = (ulong)key, Value = (ulong)value, Flags = flags };
        return sys.Bpf(BpfCommand.MapLookupAndDeleteElem, &a, sizeof(MapElemAttr));
    }

    public static int MapFreeze(Syscalls sys, int fd)
    {
        var a = new MapElemAttr { MapFd = (uint)fd };
        return sys.Bpf(BpfCommand.MapFreeze, &a, sizeof(MapElemAttr));
    }

    /// <summary>BPF_PROG_BIND_MAP: the program keeps the map alive and lists it in its map ids (Linux 5.10).</summary>
    public static int ProgBindMap(Syscalls sys, int progFd, int mapFd)
    {
        var a = new ProgBindMapAttr { ProgFd = (uint)progFd, MapFd = (uint)mapFd };
        return sys.Bpf(BpfCommand.ProgBindMap, &a, sizeof(ProgBindMapAttr));
    }

    /// <summary>Batch command; returns 0 or -errno, and the count the kernel processed.</summary>
    public static int MapBatch(Syscalls sys, BpfCommand cmd, int fd, void* inBatch, void* outBatch, void* keys, void* values, ref uint count, ulong elemFlags)
    {
        var a = new MapBatchAttr { MapFd = (uint)fd, InBatch = (ulong)inBatch, OutBatch = (ulong)outBatch, Keys = (ulong)keys, Values = (ulong)values, Count = count, ElemFlags = elemFlags };
        int r = sys.Bpf(cmd, &a, sizeof(MapBatchAttr));
        count = a.Count;
        return r;
    }

    // ------------------------------------------------------------------ objects

    public static BpfHandle BtfLoad(Syscalls sys, ReadOnlySpan<byte> btf, Span<byte> log, uint logLevel, out int errno)
    {
        fixed (byte* b = btf)
        fixed (byte* l = log)
        {
            var a = new BtfLoadAttr { Btf = (ulong)b, BtfSize = (uint)btf.Length, BtfLogBuf = (ulong)l, BtfLogSize = (uint)log.Length, BtfLogLevel = log.Length > 0 ? logLevel : 0 };
            int fd = Call(sys, BpfCommand.BtfLoad, ref a);
            errno = fd < 0 ? -fd : 0;
            return fd < 0 ? null! : ToHandle(sys, fd, BpfHandleKind.Btf);
        }
    }

    public static byte[] PathBytes(string path)
    {
        var b = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, 0, path.Length, b, 0);
        return b;
    }

    public static void ObjPin(Syscalls sys, BpfHandle handle, string path)
    {
        var p = PathBytes(path);
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            fixed (byte* pp = p)
            {
                var a = new ObjPinAttr { Pathname = (ulong)pp, BpfFd = (uint)handle.Fd };
                int r = Call(sys, BpfCommand.ObjPin, ref a);
                if (r < 0)
                    throw Error(BpfCommand.ObjPin, -r, $"of {handle.Kind.ToString().ToLowerInvariant()} at '{path}'", PinAdvice(-r, path));
            }
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private static string? PinAdvice(int errno, string path) => errno switch
    {
        Errno.EEXIST => $"something is already pinned at '{path}'",
        Errno.ENOENT => $"the directory of '{path}' does not exist",
        Errno.EPERM or Errno.EACCES => $"'{path}' must be on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf) writable by this process",
        Errno.EINVAL => $"'{path}' is not on a bpf filesystem; mount one with: mount -t bpf bpf /sys/fs/bpf",
        _ => null,
    };

    /// <summary>BPF_OBJ_GET; returns null with errno when nothing is pinned there.</summary>
    public static BpfHandle? ObjGet(Syscalls sys, string path, BpfHandleKind kind, uint fileFlags, out int errno)
    {
        var p = PathBytes(path);
        fixed (byte* pp = p)
        {
            var a = new ObjPinAttr { Pathname = (ulong)pp, FileFlags = fileFlags };
            int fd = Call(sys, BpfCommand.ObjGet, ref a);
            errno = fd < 0 ? -fd : 0;
            return fd < 0 ? null : ToHandle(sys, fd, kind);
        }
    }

    public static void GetInfo<T>(Syscalls sys, BpfHandle handle, ref T info) where T : unmanaged
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            fixed (T* p = &info)
            {
                var a = new ObjInfoAttr { BpfFd = (uint)handle.Fd, InfoLen = (uint)sizeof(T), Info = (ulong)p };
                int r = Call(sys, BpfCommand.ObjGetInfoByFd, ref a);
                if (r < 0)
                    throw Error(BpfCommand.ObjGetInfoByFd, -r, $"for {handle}");
            }
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    public static int GetNextId(Syscalls sys, BpfCommand cmd, uint start, out uint next)
    {
        var a = new GetIdAttr { Id = start };
        int r = Call(sys, cmd, ref a);
        next = a.NextId;
        return r;
    }

    public static BpfHandle? GetFdById(Syscalls sys, BpfCommand cmd, uint id, BpfHandleKind kind, out int errno)
    {
        var a = new GetIdAttr { Id = id };
        int fd = Call(sys, cmd, ref a);
        errno = fd < 0 ? -fd : 0;
        return fd < 0 ? null : ToHandle(sys, fd, kind);
    }

    public static string FixedName(byte* p, int max)
    {
        int n = 0;
        while (n < max && p[n] != 0) n++;
        return Encoding.UTF8.GetString(p, n);
    }

    /// <summary>Copies a name into a fixed kernel name field, truncated to 15 bytes (the kernel allows [A-Za-z0-9_.]).</summary>
    public static void WriteName(byte* dst, string name)
    {
        int n = 0;
        foreach (char c in name)
        {
            if (n == 15) break;
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
            dst[n++] = ok ? (byte)c : (byte)'_';
        }
        dst[n] = 0;
    }
}
