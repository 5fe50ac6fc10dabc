using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace Ebpf;

/// <summary>
/// Turns the binary part of a uprobe target into a path, like libbpf's resolve_full_path() and then some: a name
/// with '/' is used as is; a library name ("libc.so.6", "libc.so", "libc", "c") is looked up in the target process's
/// (or our own) /proc/PID/maps, LD_LIBRARY_PATH, /etc/ld.so.cache and the default library directories; any other
/// name is looked up on PATH.
/// </summary>
internal static class BinaryResolver
{
    public static string Resolve(string binary, int pid)
    {
        if (binary is null) throw new ArgumentNullException(nameof(binary));
        if (binary.Length == 0) throw new ArgumentException("the binary path is empty", nameof(binary));
        if (binary.IndexOf('/') >= 0)
        {
            if (!File.Exists(binary))
                throw new BpfEnvironmentException($"binary '{binary}' does not exist");
            return binary;
        }
        var tried = new List<string>();
        bool library = IsLibraryName(binary);
        if (library)
        {
            var fromMaps = FromMaps(binary, pid);
            if (fromMaps != null) return fromMaps;
            tried.Add(pid > 0 ? $"/proc/{pid}/maps" : "/proc/self/maps");
            foreach (var dir in (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var hit = InDirectory(dir, binary);
                if (hit != null) return hit;
            }
            tried.Add("LD_LIBRARY_PATH");
            var fromCache = FromLdSoCache(binary);
            if (fromCache != null) return fromCache;
            tried.Add("/etc/ld.so.cache");
            foreach (var dir in DefaultLibraryDirectories())
            {
                var hit = InDirectory(dir, binary);
                if (hit != null) return hit;
            }
            tried.Add(string.Join(", ", DefaultLibraryDirectories()));
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var full = Path.Combine(dir, binary);
            if (File.Exists(full)) return full;
        }
        tried.Add("PATH");
        throw new BpfEnvironmentException($"cannot find binary '{binary}' (looked in {string.Join("; ", tried)}); give its full path");
    }

    private static bool IsLibraryName(string name) => name.Contains(".so", StringComparison.Ordinal) || name.StartsWith("lib", StringComparison.Ordinal) || name.Length <= 8;

    /// <summary>Whether a file name is the library asked for: "libc.so.6" for "libc.so.6", "libc.so", "libc" or "c".</summary>
    internal static bool Matches(string fileName, string wanted)
    {
        if (fileName == wanted) return true;
        string[] stems = wanted.Contains(".so", StringComparison.Ordinal)
            ? new[] { wanted }
            : wanted.StartsWith("lib", StringComparison.Ordinal) ? new[] { wanted + ".so" } : new[] { "lib" + wanted + ".so", wanted + ".so" };
        foreach (var stem in stems)
        {
            if (fileName == stem) return true;
            if (fileName.StartsWith(stem, StringComparison.Ordinal) && fileName.Length > stem.Length && fileName[stem.Length] == '.')
            {
                // libc.so.6, libfoo.so.1.2: only version digits after the stem
                bool digits = true;
                for (int i = stem.Length + 1; i < fileName.Length; i++)
                    if (!char.IsDigit(fileName[i]) && fileName[i] != '.') { digits = false; break; }
                if (digits) return true;
            }
        }
        return false;
    }

    private static string? FromMaps(string wanted, int pid)
    {
        string maps = pid > 0 ? $"/proc/{pid}/maps" : "/proc/self/maps";
        string text;
        try { text = File.ReadAllText(maps); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        foreach (var line in text.Split('\n'))
        {
            int slash = line.IndexOf('/');
            if (slash < 0) continue;
            string path = line.Substring(slash).Trim();
            if (path.EndsWith(" (deleted)", StringComparison.Ordinal)) continue;
            if (Matches(Path.GetFileName(path), wanted))
                return pid > 0 ? $"/proc/{pid}/root{path}" is var rooted && File.Exists(rooted) ? rooted : path : path;
        }
        return null;
    }

    private static string? InDirectory(string dir, string wanted)
    {
        var direct = Path.Combine(dir, wanted);
        if (File.Exists(direct)) return direct;
        if (!Directory.Exists(dir)) return null;
        try
        {
            string? best = null;
            foreach (var f in Directory.EnumerateFiles(dir))
            {
                var name = Path.GetFileName(f);
                if (Matches(name, wanted) && (best == null || name.Length < Path.GetFileName(best).Length))
                    best = f;
            }
            return best;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static IEnumerable<string> DefaultLibraryDirectories()
    {
        string? multiarch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x86_64-linux-gnu",
            Architecture.Arm64 => "aarch64-linux-gnu",
            Architecture.Arm => "arm-linux-gnueabihf",
            _ => null,
        };
        if (multiarch != null)
        {
            yield return "/lib/" + multiarch;
            yield return "/usr/lib/" + multiarch;
        }
        yield return "/lib64";
        yield return "/usr/lib64";
        yield return "/lib";
        yield return "/usr/lib";
    }

    /// <summary>Looks a library up in glibc's cache (the "glibc-ld.so.cache1.1" format, alone or after the old one).</summary>
    internal static string? FromLdSoCache(string wanted, string cachePath = "/etc/ld.so.cache")
    {
        byte[] data;
        try { data = File.ReadAllBytes(cachePath); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        return FromLdSoCache(data, wanted);
    }

    internal static string? FromLdSoCache(byte[] data, string wanted)
    {
        var magic = Encoding.ASCII.GetBytes("glibc-ld.so.cache1.1");
        int start = data.AsSpan().IndexOf(magic);
        if (start < 0 || start + 48 > data.Length) return null;
        uint n = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(start + 20));
        // Entries: int32 flags, uint32 key, uint32 value, uint32 osversion, uint64 hwcap. Offsets count from the
        // start of the new-format header when it follows the old format, else from the file start (same thing).
        uint wantArch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 0x0300,   // FLAG_X8664_LIB64
            Architecture.Arm64 => 0x0a00, // FLAG_AARCH64_LIB64
            _ => uint.MaxValue,
        };
        string? best = null;
        for (long i = 0; i < n; i++)
        {
            long e = start + 48 + i * 24;
            if (e + 24 > data.Length) break;
            int flags = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan((int)e));
            uint key = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)e + 4));
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)e + 8));
            if ((flags & 0xff) != 3) continue; // FLAG_ELF_LIBC6
            if (wantArch != uint.MaxValue && (flags & 0xff00) != wantArch) continue;
            string? k = CString(data, start == 0 ? key : (uint)(start + key), data.Length);
            string? v = CString(data, start == 0 ? value : (uint)(start + value), data.Length);
            if (k == null || v == null) continue;
            if (!Matches(k, wanted)) continue;
            if (!File.Exists(v)) continue;
            if (best == null || k == wanted) best = v;
            if (k == wanted) break;
        }
        return best;
    }

    private static string? CString(byte[] data, uint offset, int length)
    {
        if (offset >= (uint)length) return null;
        int end = Array.IndexOf(data, (byte)0, (int)offset);
        if (end < 0) return null;
        return Encoding.UTF8.GetString(data, (int)offset, end - (int)offset);
    }
}
