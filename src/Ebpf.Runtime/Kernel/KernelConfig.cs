using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Text;

namespace Ebpf.Kernel;

/// <summary>
/// The running kernel's configuration (CONFIG_* = y/m/n, numbers, strings), read from /proc/config.gz or
/// /boot/config-$(uname -r), for .kconfig externs.
/// </summary>
public sealed class KernelConfig
{
    private readonly Dictionary<string, string> _values;

    private KernelConfig(Dictionary<string, string> values, string source)
    {
        _values = values;
        Source = source;
    }

    /// <summary>Where the configuration was read from.</summary>
    public string Source { get; }

    /// <summary>
    /// Every option by its full name ("CONFIG_BPF_SYSCALL") with its value as written in the file: "y", "m", "n" (also
    /// for "# ... is not set"), a number ("0x1000", "250") or a quoted string ("\"5.10.0\"").
    /// </summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>The value of option <paramref name="name"/> (full name, "CONFIG_KPROBES"), as in <see cref="Values"/>; false when the configuration does not mention it.</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out string? value) => _values.TryGetValue(name, out value);

    /// <summary>Reads the configuration of the running kernel; null when neither source exists.</summary>
    public static KernelConfig? TryLoad(string? path = null)
    {
        var candidates = path != null
            ? new[] { path }
            : new[] { "/proc/config.gz", "/boot/config-" + KernelInfo.Release };
        foreach (var p in candidates)
        {
            try
            {
                if (!File.Exists(p)) continue;
                // /proc/config.gz is gzip, /boot/config-* plain text: the one gzip rule tells them apart.
                var text = Encoding.UTF8.GetString(Gzip.DecompressIfGzip(File.ReadAllBytes(p)).Span);
                return Parse(text, p);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            catch (BpfFormatException) { }
        }
        return null;
    }

    /// <summary>Parses kernel .config text. "# CONFIG_X is not set" is recorded as "n".</summary>
    public static KernelConfig Parse(string text, string source)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith("# CONFIG_", StringComparison.Ordinal) && line.EndsWith(" is not set", StringComparison.Ordinal))
            {
                var name = line.Substring(2, line.Length - 2 - " is not set".Length);
                values[name] = "n";
                continue;
            }
            if (line[0] == '#') continue;
            int eq = line.IndexOf('=');
            if (eq <= 0 || !line.StartsWith("CONFIG_", StringComparison.Ordinal)) continue;
            values[line.Substring(0, eq)] = line.Substring(eq + 1);
        }
        return new KernelConfig(values, source);
    }
}

/// <summary>/proc/kallsyms: kernel symbol addresses for untyped __ksym externs.</summary>
internal static class Kallsyms
{
    /// <summary>Looks up several symbols in one pass; missing ones are absent from the result.</summary>
    public static Dictionary<string, ulong> Lookup(ICollection<string> names)
    {
        var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
        if (names.Count == 0) return result;
        var wanted = new HashSet<string>(names, StringComparer.Ordinal);
        try
        {
            using var r = new StreamReader("/proc/kallsyms");
            string? line;
            while ((line = r.ReadLine()) != null)
            {
                // "ffffffff81000000 T _text" or "ffffffffc0000000 t foo\t[module]"
                int s1 = line.IndexOf(' ');
                if (s1 < 0) continue;
                int s2 = line.IndexOf(' ', s1 + 1);
                if (s2 < 0) continue;
                int end = line.IndexOf('\t', s2 + 1);
                string name = end < 0 ? line.Substring(s2 + 1) : line.Substring(s2 + 1, end - s2 - 1);
                if (!wanted.Contains(name) || result.ContainsKey(name)) continue;
                if (ulong.TryParse(line.Substring(0, s1), System.Globalization.NumberStyles.HexNumber, null, out ulong addr))
                    result[name] = addr;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return result;
    }

    public static bool Contains(string name) => Lookup(new[] { name }).ContainsKey(name);
}
