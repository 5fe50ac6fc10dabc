using System;
using System.IO;

namespace Ebpf.Kernel;

/// <summary>
/// The bpf filesystem, where maps, programs and links are pinned: where it is mounted, whether a directory is on it,
/// and private directories on it that take their pins with them.
/// </summary>
public static class BpfFs
{
    /// <summary>Where the bpf filesystem is mounted by convention, and the default pin root.</summary>
    public const string DefaultRoot = "/sys/fs/bpf";

    /// <summary>Whether <paramref name="path"/> is on a bpf filesystem (the longest mount point above it, from /proc/self/mountinfo).</summary>
    public static bool IsBpfFs(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        string full;
        try { full = Path.GetFullPath(path).TrimEnd('/'); }
        catch (ArgumentException) { return false; }
        if (full.Length == 0) full = "/";
        string? bestType = null;
        int bestLen = -1;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // id parent major:minor root mountpoint options ... - fstype source superopts
                var parts = line.Split(' ');
                if (parts.Length < 5) continue;
                string mp = parts[4].Replace("\\040", " ");
                int dash = Array.IndexOf(parts, "-");
                if (dash < 0 || dash + 1 >= parts.Length) continue;
                bool under = mp == "/" || full == mp || full.StartsWith(mp + "/", StringComparison.Ordinal);
                if (under && mp.Length >= bestLen)
                {
                    bestLen = mp.Length;
                    bestType = parts[dash + 1];
                }
            }
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
        return bestType == "bpf";
    }

    /// <summary>Why <paramref name="directory"/> cannot hold pins (it does not exist, or is not on a bpf filesystem), with the fix; null when it can.</summary>
    public static string? ProblemWith(string directory)
    {
        if (directory is null) throw new ArgumentNullException(nameof(directory));
        string dir = directory.Length > 1 ? directory.TrimEnd('/') : directory;
        if (!Directory.Exists(dir))
            return $"the pin root '{dir}' does not exist" +
                (dir == DefaultRoot ? $": mount the bpf filesystem with `mount -t bpf bpf {DefaultRoot}`" : " (create it on a bpf filesystem)");
        if (!IsBpfFs(dir))
            return $"the pin root '{dir}' is not on a bpf filesystem: mount one with `mount -t bpf bpf {dir}`";
        return null;
    }

    /// <summary>
    /// Creates a private directory on the bpf filesystem under <paramref name="root"/> (default <see cref="DefaultRoot"/>),
    /// named <paramref name="prefix"/> plus the process id and a random part: a pin root for a run that must leave
    /// nothing pinned. Disposing it unpins what was pinned in it and removes it.
    /// </summary>
    /// <exception cref="BpfEnvironmentException">The root is not a bpf filesystem, or the directory cannot be created.</exception>
    public static BpfFsDirectory CreateTemporaryDirectory(string prefix = "ebpf-", string? root = null)
    {
        if (prefix is null) throw new ArgumentNullException(nameof(prefix));
        if (prefix.IndexOf('/') >= 0) throw new ArgumentException($"prefix '{prefix}' must not contain '/'", nameof(prefix));
        root ??= DefaultRoot;
        if (ProblemWith(root) is { } problem)
            throw new BpfEnvironmentException($"cannot create a private pin directory: {problem}");
        string dir = Path.Combine(root, $"{prefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N").Substring(0, 12)}");
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BpfEnvironmentException($"cannot create the private pin directory '{dir}': {e.Message}", e);
        }
        return new BpfFsDirectory(dir);
    }
}

/// <summary>A private directory on the bpf filesystem (<see cref="BpfFs.CreateTemporaryDirectory"/>): disposing it unpins everything in it and removes it.</summary>
public sealed class BpfFsDirectory : IDisposable
{
    internal BpfFsDirectory(string path) => Path = path;

    /// <summary>The directory, to be used as a pin root (<see cref="BpfObjectOptions.PinRoot"/>).</summary>
    public string Path { get; }

    /// <summary>Unpins everything pinned in the directory (its subdirectories too) and removes it; never throws.</summary>
    public void Dispose()
    {
        try
        {
            // On a bpf filesystem, unlinking a pin drops the kernel object's reference; rmdir needs the directory empty.
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>The directory's path.</summary>
    public override string ToString() => Path;
}
