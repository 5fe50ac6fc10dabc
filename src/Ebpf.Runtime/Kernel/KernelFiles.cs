using System;
using System.IO;
using System.Text;
using Ebpf.Interop;

namespace Ebpf.Kernel;

/// <summary>Reading and writing the kernel's text files (sysfs, procfs, tracefs) for <see cref="LinuxSyscalls"/>.</summary>
internal static unsafe class KernelFiles
{
    public static string? Read(string path, out int errno)
    {
        try
        {
            errno = 0;
            return File.ReadAllText(path);
        }
        catch (FileNotFoundException) { errno = Errno.ENOENT; }
        catch (DirectoryNotFoundException) { errno = Errno.ENOENT; }
        catch (UnauthorizedAccessException) { errno = Errno.EACCES; }
        catch (IOException) { errno = Errno.EIO; }
        return null;
    }

    /// <summary>
    /// One write(2) of the whole text, as `echo text >> file` does: control files such as kprobe_events parse each
    /// write as a command and report a bad one through write's errno, which buffered streams would hide.
    /// </summary>
    public static int Write(string path, string text, bool append)
    {
        int fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_CLOEXEC | (append ? Libc.O_APPEND : Libc.O_TRUNC), 0);
        if (fd < 0)
            return -System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            fixed (byte* p = bytes)
            {
                nint n = Libc.Write(fd, p, (nuint)bytes.Length);
                if (n < 0)
                    return -System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                return n == bytes.Length ? 0 : -Errno.EIO;
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
