using System;
using System.Text;

namespace Ebpf;

/// <summary>UTF-8 helpers that work the same on netstandard2.0 and net8.0+.</summary>
internal static class Utf8
{
    public static unsafe string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return string.Empty;
        fixed (byte* p = bytes)
            return Encoding.UTF8.GetString(p, bytes.Length);
    }

    public static byte[] Encode(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Reads a NUL-terminated string starting at <paramref name="offset"/>; returns null when no terminator is found.</summary>
    public static string? ReadCString(ReadOnlySpan<byte> data, int offset)
    {
        if ((uint)offset >= (uint)data.Length)
            return null;
        var rest = data.Slice(offset);
        int end = rest.IndexOf((byte)0);
        if (end < 0)
            return null;
        return Decode(rest.Slice(0, end));
    }
}
