using System;
using System.Globalization;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>Where tracefs is mounted, and reading tracepoint ids from it.</summary>
public static class Tracefs
{
    private static readonly string[] s_candidates = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
    private static string? s_root;

    /// <summary>The tracefs mount (/sys/kernel/tracing, or /sys/kernel/debug/tracing on older systems).</summary>
    public static string Root => RootFor(Syscalls.Current);

    internal static string RootFor(Syscalls sys) =>
        TryRoot(sys) ?? throw new BpfEnvironmentException("tracefs is not mounted (neither /sys/kernel/tracing nor /sys/kernel/debug/tracing has events/); " +
            "mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");

    /// <summary>The tracefs mount, or null when it is not mounted.</summary>
    internal static string? TryRoot(Syscalls sys)
    {
        bool real = ReferenceEquals(sys, Syscalls.Default);
        if (real && s_root != null) return s_root;
        foreach (var candidate in s_candidates)
        {
            if (sys.PathExists(candidate + "/available_events") || sys.PathExists(candidate + "/events"))
            {
                if (real) s_root = candidate;
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The id of tracepoint <paramref name="category"/>/<paramref name="name"/> (events/&lt;category&gt;/&lt;name&gt;/id).</summary>
    public static uint TracepointId(string category, string name) => TracepointId(Syscalls.Current, category, name);

    internal static uint TracepointId(Syscalls sys, string category, string name)
    {
        if (category is null) throw new ArgumentNullException(nameof(category));
        if (name is null) throw new ArgumentNullException(nameof(name));
        if (category.Length == 0 || name.Length == 0 || category.IndexOfAny(new[] { '/', '\0' }) >= 0 || name.IndexOfAny(new[] { '/', '\0' }) >= 0 || category == ".." || name == "..")
            throw new ArgumentException($"invalid tracepoint '{category}/{name}'");
        string root = RootFor(sys);
        string path = $"{root}/events/{category}/{name}/id";
        string? text = sys.ReadTextFile(path, out int errno);
        if (text != null && uint.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out uint id))
            return id;
        if (errno == Errno.EACCES || errno == Errno.EPERM)
            throw new BpfEnvironmentException($"cannot read {path}: permission denied (tracefs needs root)");
        if (!sys.PathExists($"{root}/events/{category}"))
            throw new BpfException($"tracepoint '{category}/{name}' does not exist on this kernel (there is no category '{category}' in {root}/events)");
        throw new BpfException($"tracepoint '{category}/{name}' does not exist on this kernel ({path} is missing); list them with `ls {root}/events/{category}`");
    }
}
