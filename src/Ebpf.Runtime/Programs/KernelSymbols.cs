using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>Kernel function names for kprobes: traceable functions (available_filter_functions) and syscall entry points.</summary>
internal static class KernelSymbols
{
    /// <summary>The architecture's syscall wrapper prefix ("__x64_sys_").</summary>
    public static string SyscallPrefix => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "__x64_sys_",
        Architecture.Arm64 => "__arm64_sys_",
        Architecture.X86 => "__ia32_sys_",
        Architecture.Arm => "sys_",
        Architecture.S390x => "__s390x_sys_",
        Architecture.LoongArch64 => "sys_",
        Architecture.Ppc64le => "sys_",
        _ => "sys_",
    };

    /// <summary>
    /// The kernel function of system call <paramref name="syscall"/>: the wrapper "__x64_sys_NAME" when the kernel
    /// has one (4.17+ with CONFIG_ARCH_HAS_SYSCALL_WRAPPER), else "sys_NAME" — decided from the traceable functions
    /// (or /proc/kallsyms), as libbpf decides it with a probe.
    /// </summary>
    public static string SyscallFunction(Syscalls sys, string syscall)
    {
        string wrapped = SyscallPrefix + syscall;
        if (wrapped == "sys_" + syscall) return wrapped;
        var known = Traceable(sys);
        if (known != null)
            return known.Contains(wrapped) || known.Contains(SyscallPrefix + "bpf") ? wrapped : "sys_" + syscall;
        string? kallsyms = sys.ReadTextFile("/proc/kallsyms", out _);
        if (kallsyms != null)
            return kallsyms.Contains(" " + SyscallPrefix, StringComparison.Ordinal) ? wrapped : "sys_" + syscall;
        return wrapped;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Syscalls, HashSet<string>> s_traceable =
        new System.Runtime.CompilerServices.ConditionalWeakTable<Syscalls, HashSet<string>>();

    /// <summary>Every function the kernel can trace (tracefs available_filter_functions, read once per seam), or null when it cannot be read.</summary>
    public static HashSet<string>? Traceable(Syscalls sys)
    {
        if (s_traceable.TryGetValue(sys, out var cached)) return cached;
        var set = ReadTraceable(sys);
        if (set != null) s_traceable.AddOrUpdate(sys, set);
        return set;
    }

    private static HashSet<string>? ReadTraceable(Syscalls sys)
    {
        string? root = Tracefs.TryRoot(sys);
        if (root == null) return null;
        string? text = sys.ReadTextFile(root + "/available_filter_functions", out _);
        if (text == null) return null;
        var set = new HashSet<string>(StringComparer.Ordinal);
        int i = 0;
        while (i < text.Length)
        {
            int nl = text.IndexOf('\n', i);
            if (nl < 0) nl = text.Length;
            int end = i;
            while (end < nl && text[end] != ' ' && text[end] != '\t') end++;
            if (end > i) set.Add(text.Substring(i, end - i));
            i = nl + 1;
        }
        return set;
    }

    /// <summary>The traceable functions matching a glob pattern, sorted and without duplicates; throws when none match.</summary>
    public static IReadOnlyList<string> MatchTraceable(Syscalls sys, string pattern, string what)
    {
        // A plain name needs no resolution: the kernel checks it (as kallsyms lookups do).
        if (pattern.IndexOfAny(new[] { '*', '?' }) < 0)
            return new[] { pattern };
        var set = Traceable(sys);
        if (set == null)
        {
            string? root = Tracefs.TryRoot(sys);
            if (root == null)
                throw new BpfEnvironmentException($"cannot attach {what}: resolving the pattern needs tracefs (available_filter_functions), which is not mounted; mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");
            string file = root + "/available_filter_functions";
            sys.ReadTextFile(file, out int errno);
            throw sys.PathExists(file)
                ? new BpfEnvironmentException($"cannot attach {what}: {file} cannot be read ({Errno.Name(errno)}; function tracing is disabled or locked down on this kernel), so the pattern cannot be resolved; give the functions by name")
                : BpfNotSupportedException.Configuration("kprobe.multi patterns", $"cannot attach {what}: {file} is missing (the kernel was built without CONFIG_DYNAMIC_FTRACE); give the functions by name");
        }
        var list = new List<string>();
        foreach (var f in set)
            if (!f.StartsWith("__ftrace_invalid_address__", StringComparison.Ordinal) && Glob.Match(pattern, f))
                list.Add(f);
        if (list.Count == 0)
            throw new BpfException($"cannot attach {what}: no traceable kernel function matches '{pattern}' (see available_filter_functions in tracefs)");
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}

/// <summary>libbpf's glob_match: '*' matches any run, '?' any one character.</summary>
internal static class Glob
{
    public static bool Match(string pattern, string text)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
