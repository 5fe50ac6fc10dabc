using System;
using System.Globalization;
using System.IO;

namespace Ebpf.Kernel;

/// <summary>
/// Facts about the running kernel, read once from procfs/sysfs: its release and version code, its CPUs. With
/// <see cref="KernelBtf"/> (its types), <see cref="KernelFeatures"/> (what it supports) and <see cref="KernelConfig"/>
/// (its build configuration), the one place the runtime learns about the kernel.
/// </summary>
public static class KernelInfo
{
    private static string? s_release;
    private static int s_possibleCpus;

    /// <summary>uname -r, e.g. "6.18.44-fc-v657".</summary>
    public static string Release => s_release ??= ReadRelease();

    private static string ReadRelease()
    {
        try { return File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }

    /// <summary>LINUX_KERNEL_VERSION as libbpf computes it: KERNEL_VERSION(major, minor, min(patch, 255)).</summary>
    public static uint VersionCode => ParseVersionCode(Release);

    internal static uint ParseVersionCode(string release)
    {
        int a = 0, b = 0, c = 0, part = 0, i = 0;
        int[] parts = new int[3];
        while (i < release.Length && part < 3)
        {
            int v = 0;
            bool any = false;
            while (i < release.Length && char.IsDigit(release[i]))
            {
                v = v * 10 + (release[i] - '0');
                i++;
                any = true;
            }
            if (!any) break;
            parts[part++] = v;
            if (i < release.Length && release[i] == '.') i++;
            else break;
        }
        a = parts[0]; b = parts[1]; c = parts[2];
        return (uint)((a << 16) | (b << 8) | Math.Min(c, 255));
    }

    /// <summary>Number of possible CPUs (/sys/devices/system/cpu/possible), the size of per-CPU value arrays.</summary>
    public static int PossibleCpus
    {
        get
        {
            if (s_possibleCpus == 0)
                s_possibleCpus = ReadCpuList("/sys/devices/system/cpu/possible");
            return s_possibleCpus;
        }
    }

    /// <summary>Online CPUs as a list of ids.</summary>
    public static int[] OnlineCpus()
    {
        try
        {
            return ParseCpuList(File.ReadAllText("/sys/devices/system/cpu/online"));
        }
        catch (IOException)
        {
            var all = new int[Environment.ProcessorCount];
            for (int i = 0; i < all.Length; i++) all[i] = i;
            return all;
        }
    }

    private static int ReadCpuList(string path)
    {
        try
        {
            var ids = ParseCpuList(File.ReadAllText(path));
            int max = -1;
            foreach (int id in ids) max = Math.Max(max, id);
            return max + 1;
        }
        catch (IOException)
        {
            return Environment.ProcessorCount;
        }
    }

    /// <summary>Parses "0-3,5,7-8".</summary>
    internal static int[] ParseCpuList(string text)
    {
        var result = new System.Collections.Generic.List<int>();
        foreach (var raw in text.Trim().Split(','))
        {
            if (raw.Length == 0) continue;
            int dash = raw.IndexOf('-');
            if (dash < 0)
            {
                result.Add(int.Parse(raw, CultureInfo.InvariantCulture));
            }
            else
            {
                int lo = int.Parse(raw.Substring(0, dash), CultureInfo.InvariantCulture);
                int hi = int.Parse(raw.Substring(dash + 1), CultureInfo.InvariantCulture);
                for (int c = lo; c <= hi; c++) result.Add(c);
            }
        }
        return result.ToArray();
    }
}
