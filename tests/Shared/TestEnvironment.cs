using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace Ebpf.Tests;

/// <summary>Where the repository and its test data are, and what the machine offers. Shared by every test project.</summary>
public static class TestEnvironment
{
    private static readonly Lazy<string> s_root = new Lazy<string>(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "bpf", "Makefile")) && File.Exists(Path.Combine(dir.FullName, "Skeletons.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"cannot find the repository root (a directory with bpf/Makefile and Skeletons.sln) above {AppContext.BaseDirectory}");
    });

    public static string RepoRoot => s_root.Value;

    /// <summary>
    /// Path of a compiled object under bpf/, e.g. Bpf("globals") → bpf/globals.bpf.o; in an arm64 process the arm64
    /// build of the objects whose C depends on the architecture (bpf/arm64/attach_kprobe.bpf.o: pt_regs, syscall
    /// wrapper names), as a per-architecture skeleton would choose.
    /// </summary>
    public static string Bpf(string name)
    {
        string file = name.EndsWith(".o", StringComparison.Ordinal) ? name : name + ".bpf.o";
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64)
        {
            string arm64 = Path.Combine(RepoRoot, "bpf", "arm64", file);
            if (File.Exists(arm64)) return arm64;
        }
        return Path.Combine(RepoRoot, "bpf", file);
    }

    /// <summary>The stored BTF of a Debian 6.1 kernel of this process's architecture (tests/data/btf).</summary>
    public static string Debian61Btf() => Path.Combine(RepoRoot, "tests", "data", "btf",
        System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64
            ? "6.1.0-57-arm64.btf.gz" : "6.1.0-56-amd64.btf.gz");

    /// <summary>Every compiled object under bpf/ (not the deliberately broken ones).</summary>
    public static IEnumerable<string> AllBpfObjects()
    {
        var files = Directory.GetFiles(Path.Combine(RepoRoot, "bpf"), "*.o");
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    public static bool IsRoot => Environment.IsPrivilegedProcess;

    /// <summary>Skips the test unless the process can use bpf(2) (root).</summary>
    public static void RequireRoot()
    {
        if (!IsRoot)
            Assert.Skip("needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN) to load BPF programs");
    }

    public static void RequireBpffs()
    {
        RequireRoot();
        if (!File.ReadAllText("/proc/self/mountinfo").Contains(" /sys/fs/bpf ", StringComparison.Ordinal))
            Assert.Skip("bpffs is not mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf; .ci/run does this)");
    }

    public static void RequireTracefs()
    {
        RequireRoot();
        if (!Directory.Exists("/sys/kernel/tracing/events") && !Directory.Exists("/sys/kernel/debug/tracing/events"))
            Assert.Skip("tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing; .ci/run does this)");
    }

    public static void RequireKernelBtf()
    {
        if (!File.Exists("/sys/kernel/btf/vmlinux"))
            Assert.Skip("the running kernel has no BTF at /sys/kernel/btf/vmlinux");
    }

    /// <summary>Full path of a tool on PATH (or /usr/sbin, /sbin), or skips the test naming the Debian package.</summary>
    public static string RequireTool(string name, string package)
    {
        var path = Which(name);
        if (path == null)
            Assert.Skip($"{name} is not installed (apt-get install {package}; .ci/run installs it)");
        return path!;
    }

    public static string? Which(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in (path + ":/usr/sbin:/sbin:/usr/local/sbin").Split(':'))
        {
            if (dir.Length == 0) continue;
            var full = Path.Combine(dir, name);
            if (File.Exists(full)) return full;
        }
        return null;
    }

    /// <summary>
    /// Number of open descriptors of this process, without the ones the .NET host and the test platform open on
    /// their own schedule (assemblies and symbol files the runtime maps on first use, the platform's pipes): a
    /// descriptor the runtime under test leaks (a BPF object, perf event, epoll, eventfd, socket or kernel file)
    /// is always counted.
    /// </summary>
    public static int OpenFdCount() => CountFds(target => !(target != null && (target.StartsWith("pipe:", StringComparison.Ordinal)
        || target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal)
        || target.EndsWith(".so", StringComparison.Ordinal) || target.Contains(".so.", StringComparison.Ordinal))));

    /// <summary>Number of this process's open descriptors whose link target (null when unreadable) matches.</summary>
    public static int CountFds(Func<string?, bool> targetMatches)
    {
        int n = 0;
        foreach (var fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile (the enumeration's own descriptor)
            }
            if (targetMatches(target)) n++;
        }
        return n;
    }

    /// <summary>
    /// <see cref="OpenFdCount"/> for a baseline: first lets the finalizers of objects earlier tests dropped close
    /// their descriptors, so that they do not close during the measurement. (Counts taken after the work measured
    /// do not collect: a descriptor that only a finalizer would close is a leak.)
    /// </summary>
    public static int BaselineFdCount()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return OpenFdCount();
    }

    /// <summary>A fresh temporary directory.</summary>
    public static string TempDir(string prefix = "ebpf-test")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Runs a command, capturing its output (no shell).</summary>
    public static (int ExitCode, string StdOut, string StdErr) Run(string exe, IEnumerable<string> args, int timeoutMs = 120_000, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (workingDirectory != null) psi.WorkingDirectory = workingDirectory;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{exe} {string.Join(" ", args)} did not finish in {timeoutMs} ms");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
