using System;
using System.IO;

namespace Ebpf.Objects.Tests.Btf;

/// <summary>Result of running an external tool.</summary>
internal sealed class ProcessResult
{
    public ProcessResult(int exitCode, string stdout, string stderr)
    {
        ExitCode = exitCode;
        StdOut = stdout;
        StdErr = stderr;
    }

    public int ExitCode { get; }
    public string StdOut { get; }
    public string StdErr { get; }
}

/// <summary>Runs external tools (bpftool, clang) and captures their output, through the shared test environment.</summary>
internal static class ProcessRunner
{
    /// <summary>Full path of an executable found on PATH (or in /usr/sbin, /sbin), or null.</summary>
    public static string? Which(string name) => Ebpf.Tests.TestEnvironment.Which(name);

    public static ProcessResult Run(string exe, string[] args, int timeoutMs = 120_000, string? workingDirectory = null)
    {
        var (code, stdout, stderr) = Ebpf.Tests.TestEnvironment.Run(exe, args, timeoutMs, workingDirectory);
        return new ProcessResult(code, stdout, stderr);
    }
}
