using System;
using System.Globalization;
using System.IO;

namespace Ebpf;

/// <summary>Where tracefs is mounted, and reading tracepoint ids from it.</summary>
public static class Tracefs
{
    private static string? s_root;

    /// <summary>The tracefs mount (/sys/kernel/tracing, or /sys/kernel/debug/tracing on older systems).</summary>
    public static string Root
    {
        get
        {
            if (s_root != null) return s_root;
            foreach (var candidate in new[] { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" })
            {
                if (File.Exists(Path.Combine(candidate, "available_events")) || Directory.Exists(Path.Combine(candidate, "events")))
                    return s_root = candidate;
            }
            throw new BpfEnvironmentException("tracefs is not mounted (neither /sys/kernel/tracing nor /sys/kernel/debug/tracing has events/); " +
                "mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");
        }
    }

    /// <summary>The id of tracepoint <paramref name="category"/>/<paramref name="name"/> (events/&lt;category&gt;/&lt;name&gt;/id).</summary>
    public static uint TracepointId(string category, string name)
    {
        if (category.IndexOfAny(new[] { '/', '\0' }) >= 0 || name.IndexOfAny(new[] { '/', '\0' }) >= 0 || category == ".." || name == "..")
            throw new ArgumentException($"invalid tracepoint '{category}/{name}'");
        string path = Path.Combine(Root, "events", category, name, "id");
        try
        {
            return uint.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
        }
        catch (FileNotFoundException)
        {
            throw new BpfException($"tracepoint '{category}/{name}' does not exist on this kernel ({path} is missing); list them with `ls {Path.Combine(Root, "events", category)}`");
        }
        catch (DirectoryNotFoundException)
        {
            throw new BpfException($"tracepoint '{category}/{name}' does not exist on this kernel (no {Path.Combine(Root, "events", category)})");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new BpfException($"cannot read {path}: permission denied (tracefs needs root)", e);
        }
    }
}
