namespace Ebpf;

/// <summary>Linux errno values the loader meets, with their names.</summary>
internal static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8, EBADF = 9,
        EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20,
        EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30,
        ERANGE = 34, EDEADLK = 35, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENOMSG = 42, ENODATA = 61,
        ENOLINK = 67, EBADMSG = 74, EOVERFLOW = 75, ENOTSOCK = 88, EPROTONOSUPPORT = 93, EOPNOTSUPP = 95, EAFNOSUPPORT = 97,
        EADDRINUSE = 98, ENETDOWN = 100, ENOBUFS = 105, ENOTCONN = 107, ETIMEDOUT = 110, EALREADY = 114, EINPROGRESS = 115,
        ESTALE = 116, ECANCELED = 125, ENOTSUPP = 524;

    /// <summary>The symbolic name ("EPERM"), or "errno N".</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EIO => "EIO", ENXIO => "ENXIO", E2BIG => "E2BIG",
        ENOEXEC => "ENOEXEC", EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES", EFAULT => "EFAULT",
        EBUSY => "EBUSY", EEXIST => "EEXIST", EXDEV => "EXDEV", ENODEV => "ENODEV", ENOTDIR => "ENOTDIR", EISDIR => "EISDIR",
        EINVAL => "EINVAL", ENFILE => "ENFILE", EMFILE => "EMFILE", ENOTTY => "ENOTTY", EFBIG => "EFBIG", ENOSPC => "ENOSPC",
        ESPIPE => "ESPIPE", EROFS => "EROFS", ERANGE => "ERANGE", EDEADLK => "EDEADLK", ENAMETOOLONG => "ENAMETOOLONG",
        ENOSYS => "ENOSYS", ENOTEMPTY => "ENOTEMPTY", ELOOP => "ELOOP", ENOMSG => "ENOMSG", ENODATA => "ENODATA",
        ENOLINK => "ENOLINK", EBADMSG => "EBADMSG", EOVERFLOW => "EOVERFLOW", ENOTSOCK => "ENOTSOCK",
        EPROTONOSUPPORT => "EPROTONOSUPPORT", EOPNOTSUPP => "EOPNOTSUPP", EAFNOSUPPORT => "EAFNOSUPPORT",
        EADDRINUSE => "EADDRINUSE", ENETDOWN => "ENETDOWN", ENOBUFS => "ENOBUFS", ENOTCONN => "ENOTCONN",
        ETIMEDOUT => "ETIMEDOUT", EALREADY => "EALREADY", EINPROGRESS => "EINPROGRESS", ESTALE => "ESTALE",
        ECANCELED => "ECANCELED", ENOTSUPP => "ENOTSUPP",
        _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>strerror-like text.</summary>
    public static string Describe(int errno) => errno switch
    {
        EPERM => "operation not permitted",
        ENOENT => "no such file, object or entry",
        ESRCH => "no such process",
        EINTR => "interrupted system call",
        EIO => "input/output error",
        E2BIG => "argument too big",
        EBADF => "bad file descriptor",
        EAGAIN => "resource temporarily unavailable",
        ENOMEM => "out of memory",
        EACCES => "permission denied",
        EFAULT => "bad address",
        EBUSY => "device or resource busy",
        EEXIST => "already exists",
        ENODEV => "no such device",
        ENOTDIR => "not a directory",
        EINVAL => "invalid argument",
        EMFILE => "too many open files",
        ENOTTY => "inappropriate ioctl for device",
        ENOSPC => "no space left (buffer too small)",
        ERANGE => "result out of range",
        ENAMETOOLONG => "file name too long",
        ENOSYS => "function not implemented",
        ELOOP => "too many levels of symbolic links",
        EOPNOTSUPP => "operation not supported",
        ENOTSUPP => "operation not supported by the kernel",
        EADDRINUSE => "address already in use",
        ENOTSOCK => "not a socket",
        ENOBUFS => "no buffer space available",
        _ => "error " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
